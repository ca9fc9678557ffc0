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

Round 8 (``speed_up_receipts``, and two more lookups memoized in ``speed_up_dispatch``):
deleting a message scanned the whole queue twice, building a list per message, and each
receipt handle cost 185 ``random.choice`` calls; every request listed a responses class's
members with ``inspect`` and compared itself against every registered backend.

``MOTO_SPEEDUPS_SKIP`` (comma-separated names of the speed-up functions below, or
``round8`` for the three round-8 changes) turns speed-ups off, for before/after pairs.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

DEFAULT_THREADS = 64
RECEIPT_HANDLE_LENGTH = 185  # moto.sqs.utils.generate_receipt_handle
ROUND8 = ("speed_up_receipts", "memoize_method_names", "memoize_account_backends")


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


def speed_up_receipts() -> None:
    """SQS finds a message by its receipt handle in an index instead of scanning the queue.

    moto's ``Queue.delete_message`` scans every message twice, building each message's
    list of handles, per deleted handle: with the benchmark's few hundred queued messages,
    most of a ``DeleteMessageBatch``. Here every handle moto gives out is indexed to its
    message; a delete whose handle is indexed and whose message is still in this queue
    does what moto does to that message (drop it from pending, record all its handles as
    deleted, rebuild the message list without it). Anything else (an unknown handle, a
    message purged or moved to a dead-letter queue) takes moto's own path, so errors
    such as ``ReceiptHandleIsInvalid`` are moto's. Handles are 185 random letters, so one
    handle never belongs to two messages; the index forgets a message's handles when it
    is deleted here.

    Handles come from one ``choices(k=185)`` call on moto's random source instead of 185
    ``choice`` calls: same alphabet, length and uniform letters (a seeded moto gives other
    handles than stock moto would; the benchmark never seeds).

    Visible messages are listed with one clock reading per listing instead of two per
    message (``Message.visible``/``delayed`` each read the clock).
    """
    from moto.moto_api._internal import mock_random
    from moto.sqs import models

    letters = string.ascii_lowercase
    by_handle: dict[str, Any] = {}

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(letters, k=RECEIPT_HANDLE_LENGTH))

    original_mark_received = models.Message.mark_received

    def mark_received(self: Any, visibility_timeout: int | None = None) -> None:
        original_mark_received(self, visibility_timeout)
        by_handle[self.receipt_handle] = self

    original_delete = models.Queue.delete_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return
        message = by_handle.get(receipt_handle)
        if message is None or message not in self._messages:  # identity: no Message.__eq__
            original_delete(self, receipt_handle)
            return
        self.pending_messages.discard(message)
        handles = message.all_receipt_handles
        self.deleted_messages.update(handles)
        self._messages = [kept for kept in self._messages if kept is not message]
        for handle in handles:
            by_handle.pop(handle, None)

    def messages(self: Any) -> list[Any]:
        now = models.unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    models.generate_receipt_handle = generate_receipt_handle
    models.Message.mark_received = mark_received  # type: ignore[method-assign]
    models.Queue.delete_message = delete_message  # type: ignore[method-assign]
    models.Queue.messages = property(messages)  # type: ignore[assignment,method-assign]


def memoize_method_names() -> None:
    """A responses class's method names, listed once per class instead of per request.

    moto's ``call_action`` runs ``inspect.getmembers`` over the whole class for every
    request to learn whether the action is one of its methods; the classes are fixed.
    """
    from moto.core import responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)


def memoize_account_backends() -> None:
    """Skip ``BackendDict``'s per-request registration once it is done.

    Every backend lookup takes a global lock, copies the account ids into a list and
    compares the dict against every registered ``BackendDict`` with a Python ``__eq__``
    (their ids, so identity). When the account is present and the dict is registered
    (by identity), there is nothing to do; otherwise moto's own code runs, so a
    ``/moto-api/reset`` (which clears the registry) is honoured.
    """
    from moto.core.base_backend import BackendDict

    create = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self: Any, account_id: str) -> None:
        if dict.__contains__(self, account_id) and any(
            registered is self for registered in BackendDict._instances
        ):
            return
        create(self, account_id)

    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]


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


SPEED_UPS: dict[str, Callable[[], None]] = {
    "speed_up_sqs": speed_up_sqs,
    "speed_up_dispatch": speed_up_dispatch,
    "speed_up_receipts": speed_up_receipts,
    "memoize_method_names": memoize_method_names,
    "memoize_account_backends": memoize_account_backends,
}


def skipped(spec: str) -> set[str]:
    """Names in ``MOTO_SPEEDUPS_SKIP`` (``round8`` = the round-8 three); unknown names fail."""
    names: set[str] = set()
    for name in filter(None, (part.strip() for part in spec.split(","))):
        if name == "round8":
            names.update(ROUND8)
        elif name in SPEED_UPS:
            names.add(name)
        else:
            raise SystemExit(
                f"MOTO_SPEEDUPS_SKIP: unknown speed-up {name!r}; "
                f"known: {', '.join(SPEED_UPS)}, round8"
            )
    return names


def apply_speed_ups(skip: set[str]) -> None:
    """Patch moto with every speed-up not in ``skip``."""
    for name, speed_up in SPEED_UPS.items():
        if name not in skip:
            speed_up()


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
    apply_speed_ups(skipped(os.environ.get("MOTO_SPEEDUPS_SKIP", "")))
    server = keep_alive_server(args.port)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    stopped.wait()
    server.close()


if __name__ == "__main__":
    main()
