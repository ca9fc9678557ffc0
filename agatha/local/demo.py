"""The demo tenant and API key, the start-up banner and the one demo request."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from agatha.client.aio import AsyncAgathaClient
from agatha.client.errors import ClientError
from agatha.client.models import Result
from agatha.local.errors import DemoFailed
from agatha.local.state import DEMO_KEY_FILE, read_demo_key, write_secret_file

DEMO_TENANT_ID = "tenant_local_demo"
DEMO_MODEL = "local-echo"
DEMO_PROMPT = "Hello from agatha local up: one request through the whole flow."

Echo = Callable[[str], None]


async def ensure_demo_key(engine: AsyncEngine, state_dir: Path) -> str:
    """The demo tenant's admin key: the saved one if still valid, else a new one (saved)."""
    from app.auth.api_keys import generate_key, hash_key
    from app.db import accounts

    if await accounts.get_tenant_limits(engine, DEMO_TENANT_ID) is None:
        await accounts.create_tenant(engine, tenant_id=DEMO_TENANT_ID, name="Local demo")
    saved = read_demo_key(state_dir)
    if saved is not None:
        row = await accounts.find_api_key(engine, hash_key(saved))
        if row is not None and not row["revoked"] and row["tenant_id"] == DEMO_TENANT_ID:
            return saved
    new = generate_key()
    # Admin, so the demo key can also create keys (POST /api/admin/keys) for experiments.
    await accounts.insert_api_key(
        engine,
        {
            "id": new.key_id,
            "tenant_id": DEMO_TENANT_ID,
            "key_hash": new.key_hash,
            "prefix": new.prefix,
            "role": "admin",
            "name": "local demo",
            "requests_per_minute": None,
        },
    )
    write_secret_file(state_dir / DEMO_KEY_FILE, new.plaintext)
    return new.plaintext


def curl_submit(url: str, key_file: Path) -> str:
    """A ready-to-paste curl that submits a prompt (the key is read from its file)."""
    body = '{"prompt": "Hello", "model": "local-echo"}'
    return (
        f"curl -sS -X POST {url}/api/inference "
        f'-H "Authorization: Bearer $(cat {shlex.quote(str(key_file))})" '
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def curl_result(url: str, key_file: Path, request_id: str) -> str:
    """A ready-to-paste curl that long-polls a request's result."""
    return (
        f"curl -sS '{url}/api/inference/{request_id}/result?wait=20' "
        f'-H "Authorization: Bearer $(cat {shlex.quote(str(key_file))})"'
    )


def banner(url: str, key_file: Path, *, aws_endpoint_url: str | None) -> list[str]:
    """What ``agatha local up`` prints once the gateway answers."""
    lines = [
        f"Gateway:       {url}",
        f"OpenAPI docs:  {url}/docs",
        f"API key file:  {key_file} (tenant {DEMO_TENANT_ID}, role admin)",
    ]
    if aws_endpoint_url:
        lines.append(f"AWS emulator:  {aws_endpoint_url}")
    lines += ["Try it:", f"  {curl_submit(url, key_file)}"]
    return lines


async def run_demo(
    client: AsyncAgathaClient, echo: Echo, *, url: str, key_file: Path, timeout: float
) -> Result:
    """Submit one prompt, wait for it (202 -> polling -> 200) and print each step."""
    try:
        submitted = await client.submit(DEMO_PROMPT, model=DEMO_MODEL)
        echo(f"Demo request:  202 {submitted.status} {submitted.id}")
        echo(f"  poll it:     {curl_result(url, key_file, submitted.id)}")
        result = await client.wait(submitted.id, timeout=timeout)
    except ClientError as exc:
        raise DemoFailed(
            f"the demo request did not complete: {exc}. The gateway and worker logs above "
            "say why; `agatha -v local up` shows more"
        ) from exc
    echo(
        f"Demo result:   200 completed by {result.provider} in {result.processing_ms} ms, "
        f"tokens {result.tokens_in} in / {result.tokens_out} out"
    )
    echo(f"  response:    {result.response}")
    return result
