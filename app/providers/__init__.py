"""LLM provider adapters (official SDKs), the local provider, key loading, retries."""
