"""Keep the job queue shallow while the gateway is measured (no worker runs then).

moto's SQS slows as a queue fills, so a gateway run without a consumer would measure the
emulator, not the gateway. This process receives and deletes in batches of 10.

    .venv/bin/python -m bench.drain --endpoint http://127.0.0.1:9200 --queue-url ...
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any


async def drain(sqs: Any, queue_url: str, stop: asyncio.Event, *, tasks: int = 2) -> int:
    """Receive+delete until ``stop``; returns how many messages were removed."""
    removed = 0

    async def loop() -> None:
        nonlocal removed
        while not stop.is_set():
            response = await sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            messages = response.get("Messages", [])
            if messages:
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ]
                await sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
                removed += len(messages)

    await asyncio.gather(*(loop() for _ in range(tasks)))
    return removed


async def _main(endpoint: str, queue_url: str) -> None:
    from app.aws import aio_session, client_kwargs
    from app.settings import Settings

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    kwargs = client_kwargs(Settings(aws_endpoint_url=endpoint))
    async with aio_session().create_client("sqs", **kwargs) as sqs:
        print(f"drained {await drain(sqs, queue_url, stop)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Process entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--queue-url", required=True)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.endpoint, args.queue_url))


if __name__ == "__main__":
    main()
