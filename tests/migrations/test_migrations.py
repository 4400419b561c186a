"""The schema comes from Alembic: head matches the models, and every revision walks down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import omnidesk.models  # noqa: F401
from omnidesk.db import get_engine
from omnidesk.migrate import alembic_config


def test_upgrade_head_matches_the_models(settings):
    with get_engine(settings).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_every_revision_walks_down_to_base_and_up_again(settings):
    config = alembic_config(settings)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    assert revisions, "there must be at least the initial revision"
    command.downgrade(config, "base")
    with get_engine(settings).connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is None
    command.upgrade(config, "head")
    with get_engine(settings).connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == revisions[0].revision
