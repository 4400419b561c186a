"""report indexes: requests by opening time, events by kind then request

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 11:00:00.000000

Reports select the requests opened in a period (request.created_at) and, for surveys, ratings
and root-cause tags, the events of one kind for those requests (event.kind, event.request_id);
benchmarks/reports.py measures both. Indexes only.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.create_index("ix_request_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_kind_request", ["kind", "request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_kind_request")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_index("ix_request_created_at")
