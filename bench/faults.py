"""The faults the drills inject; each returns a one-line description of what it did."""

from __future__ import annotations

import time

from bench.stack import Stack, aws_resources

KILL_LATENCY_SECONDS = 2.0
REDIS_DOWN_SECONDS = 30.0
PROVIDER_PHASE_SECONDS = 8.0


def kill_worker(stack: Stack) -> str:
    """Slow the provider so jobs pile up in flight, kill -9 the worker, start another."""
    stack.fake_control(latency=KILL_LATENCY_SECONDS)
    time.sleep(KILL_LATENCY_SECONDS * 1.5)  # let in-flight provider calls accumulate
    before = stack.fake_stats()
    victim = stack.workers[-1]
    victim.kill9()
    in_flight = before["calls"] - sum(before["by_status"].values())
    stack.fake_control(latency=0.2)
    time.sleep(5)  # the outage: nothing consumes the queue
    stack.start_worker()
    return (
        f"killed pid {victim.pid} with ~{in_flight} provider calls in flight; new worker after 5 s"
    )


def restart_postgres(stack: Stack) -> str:
    started = time.monotonic()
    stack.pg.restart()
    return f"pg_ctl restart -m fast took {time.monotonic() - started:.1f} s"


def stop_redis_30s(stack: Stack) -> str:
    stack.redis.stop()
    time.sleep(REDIS_DOWN_SECONDS)
    stack.redis.start()
    return f"redis-server stopped for {REDIS_DOWN_SECONDS:.0f} s, restarted empty on the same port"


def restart_emulator(stack: Stack) -> str:
    """Stop moto (its state is lost), start it on the same port, recreate the resources."""
    if stack.moto is not None:
        stack.moto.stop()
    time.sleep(3)
    stack.start_moto()
    aws_resources(stack.env["AWS_ENDPOINT_URL"])
    return "moto stopped ~3 s; queue, DLQ, bucket recreated (messages queued before are gone)"


def provider_faults(stack: Stack) -> str:
    for mode in ("429", "500", "timeout"):
        stack.fake_control(mode=mode)
        time.sleep(PROVIDER_PHASE_SECONDS)
    stack.fake_control(mode="ok")
    return f"429, 500 then timeouts, {PROVIDER_PHASE_SECONDS:.0f} s each"
