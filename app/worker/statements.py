"""The worker's per-job statements, built once with bound parameters.

Building a SQLAlchemy statement per call cost more CPU than executing it. On asyncpg the
statements are compiled once more to SQL text (``PgStatements``) and sent on the pooled
connection's driver, which caches their prepared form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update

from app.db.models import InferenceRequest, RequestStatus
from app.usage.recorder import USAGE

REQUESTS = cast(Table, InferenceRequest.__table__)
CLAIM_COLUMNS = (
    REQUESTS.c.id,
    REQUESTS.c.tenant_id,
    REQUESTS.c.model,
    REQUESTS.c.prompt,
    REQUESTS.c.parameters,
    REQUESTS.c.attempts,
    REQUESTS.c.created_at,
)
# The values ``JobStore.complete`` takes for the prebuilt statement (others: built per call).
COMPLETED_VALUES = frozenset({"response", "tokens_in", "tokens_out", "provider", "processing_ms"})
USAGE_FIELDS = (
    "tenant_id",
    "model",
    "provider",
    "tokens_in",
    "tokens_out",
    "latency_ms",
    "cost_usd",
    "created_at",
)


def _claim_statement() -> Any:
    now = bindparam("p_now", type_=REQUESTS.c.updated_at.type)
    expired = and_(REQUESTS.c.status == RequestStatus.PROCESSING, REQUESTS.c.lease_expires_at < now)
    return (
        update(REQUESTS)
        .where(
            REQUESTS.c.id == bindparam("p_id"),
            or_(REQUESTS.c.status == RequestStatus.PENDING, expired),
        )
        .values(
            status=RequestStatus.PROCESSING,
            lease_owner=bindparam("p_owner"),
            lease_expires_at=bindparam("p_expires", type_=REQUESTS.c.lease_expires_at.type),
            attempts=REQUESTS.c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(*CLAIM_COLUMNS)
    )


def _complete_statement() -> Any:
    """``complete`` on PostgreSQL with every value a bound parameter (``p_*``, ``u_*``)."""
    now = bindparam("p_now", type_=REQUESTS.c.completed_at.type)
    done = (
        update(REQUESTS)
        .where(
            REQUESTS.c.id == bindparam("p_id"),
            REQUESTS.c.status == RequestStatus.PROCESSING,
            REQUESTS.c.lease_owner == bindparam("p_owner"),
        )
        .values(
            status=RequestStatus.COMPLETED,
            completed_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
            error_code=None,
            error_message=None,
            **{k: bindparam(f"p_{k}", type_=REQUESTS.c[k].type) for k in sorted(COMPLETED_VALUES)},
        )
        .returning(REQUESTS.c.id)
        .cte("done")
    )
    usage = [bindparam(f"u_{k}", type_=USAGE.c[k].type) for k in USAGE_FIELDS]
    return (
        insert(USAGE)
        .from_select(["request_id", *USAGE_FIELDS], select(done.c.id, *usage))
        .returning(USAGE.c.request_id)
    )


CLAIM = _claim_statement()
COMPLETE_WITH_USAGE = _complete_statement()
SET_ARCHIVED = (
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("p_id"), REQUESTS.c.status == RequestStatus.COMPLETED)
    .values(archive_key=bindparam("p_key"), prompt=None)
)


@dataclass(frozen=True)
class PgStatement:
    """One statement compiled for asyncpg: SQL text, parameter order and constants."""

    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]

    @classmethod
    def of(cls, statement: Any) -> PgStatement:
        from sqlalchemy.dialects.postgresql.asyncpg import dialect

        compiled = statement.compile(dialect=dialect())
        constants = {k: v.value if isinstance(v, Enum) else v for k, v in compiled.params.items()}
        return cls(str(compiled), tuple(compiled.positiontup or ()), constants)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """Positional arguments: the caller's ``params`` over the statement's constants."""
        return [params[n] if n in params else self.constants[n] for n in self.names]


@dataclass(frozen=True)
class PgStatements:
    claim: PgStatement
    complete: PgStatement
    set_archived: PgStatement

    @classmethod
    def compile(cls) -> PgStatements:
        return cls(
            claim=PgStatement.of(CLAIM),
            complete=PgStatement.of(COMPLETE_WITH_USAGE),
            set_archived=PgStatement.of(SET_ARCHIVED),
        )
