"""inference_requests: partial index for the sweep of completed rows without an archive

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The text of app.db.models.UNARCHIVED_WHERE when this revision was written (a migration
# must not change when the model does).
UNARCHIVED_WHERE = "status = 'completed' AND archive_key IS NULL AND prompt IS NOT NULL"


def upgrade() -> None:
    # CONCURRENTLY on PostgreSQL: the table takes writes while the index builds (it
    # cannot run inside a transaction, hence the autocommit block). SQLite ignores it.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_inference_requests_unarchived",
            "inference_requests",
            ["updated_at"],
            postgresql_where=sa.text(UNARCHIVED_WHERE),
            sqlite_where=sa.text(UNARCHIVED_WHERE),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_inference_requests_unarchived",
            table_name="inference_requests",
            postgresql_concurrently=True,
        )
