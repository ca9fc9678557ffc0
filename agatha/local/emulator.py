"""The AWS side of the local platform: moto on 127.0.0.1 and the resources of the layout.

Resolution order (environment switches each part to the real thing, no code change):
``QUEUE_URL`` set -> the resources already exist (real AWS or a shared emulator): use as is;
``AWS_ENDPOINT_URL`` set -> create the layout's resources there; otherwise start moto
in-process and create them in it. Creating them is ``app.local_aws``'s job, the same code
the gateway and worker run standalone; this module adds the persisted JWT key set and
moves provider keys into the emulated secrets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.local_aws import (
    PROVIDERS,
    LocalLayout,
    LocalResources,
    create_local_resources,
    emulated_endpoint,
    generated_jwt_secret,
)
from app.settings import Settings

PROVIDER_KEY_FIELDS = {p: f"{p}_api_key" for p in PROVIDERS}


def provider_keys_from(settings: Settings) -> dict[str, str]:
    """Provider keys given as ``*_API_KEY`` (they go into the emulated secrets)."""
    keys: dict[str, str] = {}
    for provider, attribute in PROVIDER_KEY_FIELDS.items():
        value = getattr(settings, attribute)
        if value is not None and value.get_secret_value():
            keys[provider] = json.dumps({"api_key": value.get_secret_value()})
    return keys


def resolved_settings(settings: Settings, created: LocalResources) -> Settings:
    """Settings pointing at ``created``; keys move from env overrides to secret ARNs.

    Reading provider keys through Secrets Manager exercises the same path as the cloud.
    """
    update: dict[str, Any] = {
        "queue_url": created.queue_url,
        "dlq_url": created.dlq_url,
        "archive_bucket": created.archive_bucket,
        "jwt_signing_secret_arn": created.jwt_signing_secret_arn,
    }
    for provider, arn in created.provider_secret_arns.items():
        update[f"{provider}_secret_arn"] = arn
        update[PROVIDER_KEY_FIELDS[provider]] = None
    return settings.model_copy(update=update)


@contextmanager
def local_aws(settings: Settings, layout: LocalLayout, *, jwt_key_file: Path) -> Iterator[Settings]:
    """Yield settings whose AWS resources exist, running moto while the block runs."""
    if settings.queue_url:
        yield settings
        return
    with emulated_endpoint(settings) as endpoint:
        created = create_local_resources(
            endpoint,
            layout,
            jwt_key_set=jwt_key_set(jwt_key_file),
            provider_keys=provider_keys_from(endpoint),
        )
        yield resolved_settings(endpoint, created)


def jwt_key_set(path: Path) -> str:
    """The persisted JWT key set (generated once, owner-only), so tokens survive restarts."""
    from agatha.local.state import write_secret_file

    if not path.exists():
        write_secret_file(path, generated_jwt_secret())
    return path.read_text(encoding="utf-8")
