"""Who is calling: the result of authentication, used for scoping and limits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles: users call inference; admins also manage keys and read usage."""

    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, always bound to exactly one tenant."""

    tenant_id: str
    subject: str
    role: Role
    key_id: str | None = None
    key_requests_per_minute: int | None = None

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role is Role.ADMIN
