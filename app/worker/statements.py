"""The worker's per-job statements, built once.

Building a SQLAlchemy statement per call cost more CPU than executing it. On PostgreSQL
(asyncpg) the hot statements are SQL text sent on the pooled connection's driver, which
caches their prepared form; each takes arrays, one element per job, so the claims (or
completions, or archive keys) of one event-loop pass share one round trip
(app/worker/batching.py). Each row gets exactly the conditions of the one-row statement
the other databases run.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, update

from app.db.models import InferenceRequest, RequestStatus

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
            call_started_at=bindparam("p_call_started_at", type_=REQUESTS.c.call_started_at.type),
        )
        .returning(*CLAIM_COLUMNS)
    )


CLAIM = _claim_statement()
# ``CLAIM`` for many rows: one (id, now, expires, owner, calling) per claim; ``calling``
# marks the owner's provider call as started now (WORKER_INTERRUPTED_CALLS=fail),
# otherwise the mark is cleared. ``interrupted`` says
# the row was taken from a worker that died with its provider call in flight (its lease
# expired with ``call_started_at`` set): read from the row as it was before this update.
CLAIM_MANY_SQL = f"""
WITH c AS (
    SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[], $4::varchar[],
                         $5::boolean[])
        AS c(id, now, expires, owner, calling)
), prev AS (
    -- Locked, so a claim or release committed while this waits is what it reads: the
    -- UPDATE below re-checks its WHERE on the newest row, and this must agree with it.
    SELECT r.id, (r.status = '{RequestStatus.PROCESSING.value}'
                  AND r.call_started_at IS NOT NULL) AS interrupted
    FROM inference_requests AS r JOIN c ON c.id = r.id
    ORDER BY r.id
    FOR UPDATE OF r
)
UPDATE inference_requests AS r
SET status = '{RequestStatus.PROCESSING.value}', lease_owner = c.owner,
    lease_expires_at = c.expires, attempts = r.attempts + 1,
    started_at = c.now, updated_at = c.now,
    call_started_at = CASE WHEN c.calling THEN c.now END
FROM c JOIN prev ON prev.id = c.id
WHERE r.id = c.id
  AND (r.status = '{RequestStatus.PENDING.value}'
       OR (r.status = '{RequestStatus.PROCESSING.value}' AND r.lease_expires_at < c.now))
RETURNING {", ".join(f"r.{column.name}" for column in CLAIM_COLUMNS)}, prev.interrupted
"""
SET_ARCHIVED = (
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("p_id"), REQUESTS.c.status == RequestStatus.COMPLETED)
    .values(archive_key=bindparam("p_key"), prompt=None)
)
# ``SET_ARCHIVED`` for many rows: one (id, key) per row.
SET_ARCHIVED_MANY_SQL = f"""
UPDATE inference_requests AS r
SET archive_key = c.key, prompt = NULL
FROM unnest($1::varchar[], $2::varchar[]) AS c(id, key)
WHERE r.id = c.id AND r.status = '{RequestStatus.COMPLETED.value}'
"""
# Completing the owner's row and inserting its usage row, for many rows: the usage row
# exists exactly when the conditional update matched (``JobStore.complete``). The ids
# must be distinct (a repeated id would insert its usage row twice).
COMPLETE_MANY_TYPES = {
    "id": "varchar",
    "owner": "varchar",
    "now": "timestamptz",
    # The row's new values (COMPLETED_VALUES), then its usage row's (USAGE_FIELDS).
    "response": "text",
    "tokens_in": "int",
    "tokens_out": "int",
    "provider": "varchar",
    "processing_ms": "int",
    "u_tenant_id": "varchar",
    "u_model": "varchar",
    "u_provider": "varchar",
    "u_tokens_in": "int",
    "u_tokens_out": "int",
    "u_latency_ms": "int",
    "u_cost_usd": "numeric",
    "u_created_at": "timestamptz",
}
COMPLETE_MANY_SQL = f"""
WITH c AS (
    SELECT * FROM unnest(
        {", ".join(f"${n}::{t}[]" for n, t in enumerate(COMPLETE_MANY_TYPES.values(), 1))}
    ) AS c({", ".join(COMPLETE_MANY_TYPES)})
), done AS (
    UPDATE inference_requests AS r
    SET status = '{RequestStatus.COMPLETED.value}', completed_at = c.now, updated_at = c.now,
        lease_owner = NULL, lease_expires_at = NULL, error_code = NULL, error_message = NULL,
        {", ".join(f"{k} = c.{k}" for k in COMPLETE_MANY_TYPES if k in COMPLETED_VALUES)}
    FROM c
    WHERE r.id = c.id AND r.status = '{RequestStatus.PROCESSING.value}' AND r.lease_owner = c.owner
    RETURNING r.id
)
INSERT INTO usage_events (request_id, {", ".join(USAGE_FIELDS)})
SELECT c.id, {", ".join(f"c.u_{k}" for k in USAGE_FIELDS)} FROM done JOIN c ON c.id = done.id
RETURNING request_id
"""
