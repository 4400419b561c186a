"""webchat: the bot's hold on a live-chat request, where a message was written, recipient index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 02:30:00.000000

`request.bot_active` keeps a site-chat request out of every queue while the 24-hour bot answers
it (cleared at hand-off). `message.context` holds what the channel knows of where the customer
wrote from (the page's url and title). The (connector_id, recipient) index serves a chat
visitor's history, which reads their messages in and out by address.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "request",
        sa.Column("bot_active", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "message",
        sa.Column("context", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_index("ix_message_recipient", "message", ["connector_id", "recipient"])


def downgrade() -> None:
    op.drop_index("ix_message_recipient", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("context")
    with op.batch_alter_table("request") as batch:
        batch.drop_column("bot_active")
