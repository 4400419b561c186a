"""Run Alembic from code (works from an installed wheel): `omnidesk db upgrade`, tests, `up`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from omnidesk.db import get_engine
from omnidesk.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    config.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to `revision` (creating the SQLite file and data dir if needed)."""
    config = alembic_config(settings)
    with get_engine(settings).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _script_location() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "migrations", here.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("the migrations directory is missing from this installation")
