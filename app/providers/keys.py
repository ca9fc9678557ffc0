"""Provider API keys: a local env override, else the Secrets Manager secret the data layer made.

A secret holds either the bare key or a JSON object with ``api_key`` (``apiKey``/``key``
accepted). Keys are read once per process and kept in the resolver instance.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from app.providers.errors import InvalidCredentials

if TYPE_CHECKING:
    from app.settings import Settings

KEYED_PROVIDERS = ("openai", "anthropic", "together", "google")
SECRET_JSON_FIELDS = ("api_key", "apiKey", "key")

ReadSecret = Callable[[str], str]


def parse_secret_value(value: str, *, provider: str, arn: str) -> str:
    """The key inside a secret string (bare key or JSON object)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidCredentials(
                f"secret {arn} for {provider} is not valid JSON; store the bare key or "
                '{"api_key": "..."}',
                provider=provider,
            ) from exc
        for field in SECRET_JSON_FIELDS:
            if isinstance(data.get(field), str) and data[field]:
                return str(data[field])
        raise InvalidCredentials(
            f'secret {arn} for {provider} has no api_key field; store {{"api_key": "..."}}',
            provider=provider,
        )
    if not text:
        raise InvalidCredentials(
            f"secret {arn} for {provider} is empty; put the key in it", provider=provider
        )
    return text


class ApiKeyResolver:
    """Finds each provider's key once: env override first, then Secrets Manager."""

    def __init__(
        self,
        *,
        env_keys: Mapping[str, str | None],
        secret_arns: Mapping[str, str | None],
        read_secret: ReadSecret,
    ) -> None:
        self._env_keys = dict(env_keys)
        self._secret_arns = dict(secret_arns)
        self._read_secret = read_secret
        self._cache: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeyResolver:
        """Wire the resolver to ``*_API_KEY`` overrides and ``*_SECRET_ARN`` settings."""
        from app.aws import boto3_client

        def read_secret(arn: str) -> str:
            client = boto3_client(settings, "secretsmanager")
            return str(
                client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
            )

        env_keys: dict[str, str | None] = {}
        arns: dict[str, str | None] = {}
        for provider in KEYED_PROVIDERS:
            secret = getattr(settings, f"{provider}_api_key", None)
            env_keys[provider] = secret.get_secret_value() if secret is not None else None
            arns[provider] = getattr(settings, f"{provider}_secret_arn", None)
        return cls(env_keys=env_keys, secret_arns=arns, read_secret=read_secret)

    def configured(self) -> list[str]:
        """Providers with a key override or a secret ARN set (their key may still be bad)."""
        names = set(self._secret_arns) | set(self._env_keys)
        return sorted(n for n in names if self._env_keys.get(n) or self._secret_arns.get(n))

    async def get(self, provider: str) -> str:
        """The API key for ``provider``; InvalidCredentials names what to set when none is."""
        if provider in self._cache:
            return self._cache[provider]
        key = self._env_keys.get(provider)
        if not key:
            arn = self._secret_arns.get(provider)
            if not arn:
                name = provider.upper()
                raise InvalidCredentials(
                    f"no API key for {provider}: set {name}_SECRET_ARN (cloud) or "
                    f"{name}_API_KEY (local)",
                    provider=provider,
                )
            raw = await asyncio.to_thread(self._read_secret, arn)
            key = parse_secret_value(raw, provider=provider, arn=arn)
        self._cache[provider] = key
        return key
