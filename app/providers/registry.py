"""Pick the provider adapter for a model from the catalogue (model name -> provider name)."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Collection, Mapping

from app.providers.base import Provider
from app.providers.errors import UnknownModel
from app.providers.keys import ApiKeyResolver
from app.providers.local import LocalProvider

ProviderFactory = Callable[[], Awaitable[Provider]]

# The module of each SDK adapter; ``default_factories`` imports it on the first call.
ADAPTER_MODULES = {
    "openai": "app.providers.openai",
    "anthropic": "app.providers.anthropic",
    "together": "app.providers.together",
    "google": "app.providers.google",
}


class ProviderRegistry:
    """Builds each provider adapter on first use and reuses it afterwards."""

    def __init__(
        self, *, catalogue: Mapping[str, str], factories: Mapping[str, ProviderFactory]
    ) -> None:
        self._catalogue = dict(catalogue)
        self._factories = dict(factories)
        self._providers: dict[str, Provider] = {}

    def provider_name(self, model: str) -> str:
        """The provider that serves ``model``; UnknownModel when the catalogue lacks it."""
        name = self._catalogue.get(model)
        if name is None or name not in self._factories:
            raise UnknownModel(
                f"model {model!r} is not in the model catalogue (MODEL_CATALOGUE); "
                f"known: {', '.join(sorted(self._catalogue))}",
                provider=name or "none",
            )
        return name

    def import_adapters(self, providers: Collection[str]) -> list[str]:
        """Import the SDK adapters of ``providers`` the catalogue routes to; build nothing.

        The poller calls it, with the providers that have a key configured, before freezing
        its start-up heap (app/gc_tuning.py): the SDKs' modules and models land in the
        frozen set rather than with the first job, and SDKs no key can use stay unloaded
        (each costs 50 to 75 MiB of RSS here).
        """
        routed = {name for name in self._catalogue.values() if name in self._factories}
        names = sorted(routed & set(providers) & ADAPTER_MODULES.keys())
        for name in names:
            importlib.import_module(ADAPTER_MODULES[name])
        return names

    async def for_model(self, model: str) -> Provider:
        """The adapter serving ``model``."""
        name = self.provider_name(model)
        if name not in self._providers:
            self._providers[name] = await self._factories[name]()
        return self._providers[name]

    async def aclose(self) -> None:
        """Close every adapter built so far."""
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()


def default_factories(
    *, keys: ApiKeyResolver, base_urls: Mapping[str, str | None] | None = None
) -> dict[str, ProviderFactory]:
    """Factories for the four SDK adapters (keys read lazily) and the local provider."""
    urls = dict(base_urls or {})

    async def openai_factory() -> Provider:
        from app.providers.openai import OpenAIProvider

        return OpenAIProvider(api_key=await keys.get("openai"), base_url=urls.get("openai"))

    async def anthropic_factory() -> Provider:
        from app.providers.anthropic import AnthropicProvider

        return AnthropicProvider(
            api_key=await keys.get("anthropic"), base_url=urls.get("anthropic")
        )

    async def together_factory() -> Provider:
        from app.providers.together import TogetherProvider

        return TogetherProvider(api_key=await keys.get("together"), base_url=urls.get("together"))

    async def google_factory() -> Provider:
        from app.providers.google import GoogleProvider

        return GoogleProvider(api_key=await keys.get("google"), base_url=urls.get("google"))

    async def local_factory() -> Provider:
        return LocalProvider()

    return {
        "openai": openai_factory,
        "anthropic": anthropic_factory,
        "together": together_factory,
        "google": google_factory,
        "local": local_factory,
    }
