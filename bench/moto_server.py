"""The AWS emulator (moto) as its own process, so its CPU is never the gateway's.

.venv/bin/python -m bench.moto_server --port 9200

Exact-behaviour speed-ups for moto (``speed_up_sqs``, ``speed_up_dispatch``), because
in benchmarks the emulator, not the gateway, set the ceiling and shared the two cores
with it: moto 5.2's ``send_message`` reads ``queue.attributes`` for one FIFO-only key,
and that property rebuilds every attribute, including three ``ApproximateNumberOf*``
counts that each scan the whole queue doing datetime arithmetic per message. Measured
here: 7.5-14 ms of emulator CPU per message with a few hundred messages in flight, so
the emulator saturated near 70-90 msg/s, the drain fell behind, the queue deepened and
every send got slower still. Then every request, under one global lock, listed moto's
package directory (~200 ``isdir`` calls) and matched ~hundreds of URL patterns to
find its backend. And it closed every connection (``keep_alive_server``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

DEFAULT_THREADS = 64


def _fast_unix_time_millis(original: Callable[..., float]) -> Callable[..., float]:
    """``unix_time_millis()`` without building two datetimes (same value: epoch ms)."""

    def unix_time_millis(dt: datetime | None = None) -> float:
        return original(dt) if dt is not None else time.time() * 1000.0

    return unix_time_millis


def speed_up_sqs() -> None:
    """Patch moto's SQS in this process; no observable behaviour changes.

    - While a standard (non-FIFO) queue accepts a message, ``queue.attributes`` answers
      ``{}``: during a send moto only reads ``ContentBasedDeduplication`` from it, a FIFO
      attribute a standard queue never has, so the answer is the same without the scans.
    - ``unix_time_millis()`` (called per message per scan) uses ``time.time()``.
    - Receiving reads a queue's retention period from its field, not by rebuilding every
      attribute three times per received message.
    """
    from moto.sqs import models

    sending = threading.local()
    full_attributes = models.Queue.attributes.fget
    assert full_attributes is not None

    def attributes(queue: Any) -> dict[str, Any]:
        if getattr(sending, "active", False) and not queue.fifo_queue:
            return {}
        result: dict[str, Any] = full_attributes(queue)
        return result

    @contextmanager
    def in_send() -> Iterator[None]:
        outer = getattr(sending, "active", False)
        sending.active = True
        try:
            yield
        finally:
            sending.active = outer

    original_send = models.SQSBackend.send_message

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        with in_send():
            return original_send(self, *args, **kwargs)

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        # moto reads the one attribute through get_queue_attributes (three full
        # ``attributes`` rebuilds per received message); the value is this field.
        retention_period = self.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > time.time())

    models.Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    models.SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
    models.unix_time_millis = _fast_unix_time_millis(models.unix_time_millis)


def speed_up_dispatch() -> None:
    """Memoize moto's per-request backend lookup (the package and URL patterns are fixed)."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    lookup = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host in found:
            return found[host]
        backend = lookup(self, host)
        if backend and len(found) < 1_000:
            found[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def keep_alive_server(port: int, *, threads: int = DEFAULT_THREADS) -> Any:
    """moto's WSGI app under waitress: HTTP/1.1 keep-alive, as AWS's endpoints answer.

    moto's own server (werkzeug's) closes every connection, so each client call paid a
    TCP connect (~0.4 ms of client CPU per SQS call, measured with aiobotocore). Idle
    keep-alive connections hold no thread; a long-poll ``ReceiveMessage`` holds one for
    its wait, hence the generous thread count.
    """
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" warnings
    return waitress.create_server(
        app, host="127.0.0.1", port=port, threads=threads, connection_limit=1_000
    )


def main(argv: list[str] | None = None) -> None:
    """Serve moto on 127.0.0.1:<port> until SIGTERM."""
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--stock",
        action="store_true",
        help="run moto unpatched under its own server (to compare the speed-ups)",
    )
    args = parser.parse_args(argv)
    # Werkzeug logs every request at INFO: that would be most of the emulator's CPU.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    if args.stock:
        stock = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
        stock.start()
        stopped.wait()
        stock.stop()
        return
    speed_up_sqs()
    speed_up_dispatch()
    server = keep_alive_server(args.port)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    stopped.wait()
    server.close()


if __name__ == "__main__":
    main()
