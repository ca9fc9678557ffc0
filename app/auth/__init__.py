"""Authentication: JWTs (key ring from Secrets Manager) and hashed, revocable API keys."""

from __future__ import annotations

from app.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
