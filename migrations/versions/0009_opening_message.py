"""request.opening_message_id: the message that opened a request, recorded when it opens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00.000000

Which customer message a request answers with its acknowledgement was worked out as "its
lowest inbound message id"; a customer's earlier message swept back after a Redis restart then
took the opening message's place and got a second acknowledgement. The request now records the
message that opened it. Existing requests get their lowest inbound message, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("request", sa.Column("opening_message_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE request SET opening_message_id = (SELECT min(message.id) FROM message "
        "WHERE message.request_id = request.id AND message.direction = 'inbound')"
    )


def downgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.drop_column("opening_message_id")
