"""Settings from the environment (OMNIDESK_*): where data lives, which servers and config."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DISPATCHER = "workers.dispatch:DramatiqDispatcher"


class Settings(BaseSettings):
    """One installation's settings. Read with get_settings(); tests build their own."""

    model_config = SettingsConfigDict(env_prefix="OMNIDESK_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    config: Path = Path("config/omnidesk.toml")
    model_dir: Path | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    secret_key: SecretStr | None = None
    dispatcher: str = DEFAULT_DISPATCHER

    # Pipeline durability: a message that sits in a stage longer than this is re-enqueued.
    stuck_after_seconds: float = Field(default=120.0, gt=0)
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    max_recoveries: int = Field(default=5, ge=1)
    sla_watch_interval_seconds: float = Field(default=60.0, gt=0)
    # The classifier is retrained on agents' corrections this often (only when there are new ones).
    retrain_interval_seconds: float = Field(default=86_400.0, gt=0)
    # Outbound: retries of transient provider failures, with exponential backoff.
    send_max_attempts: int = Field(default=8, ge=1)
    send_min_backoff_ms: int = Field(default=5_000, ge=0)
    send_max_backoff_ms: int = Field(default=600_000, ge=0)
    # Redis broker: how soon messages held by a dead worker are handed to another.
    broker_heartbeat_timeout_ms: int = Field(default=60_000, ge=1_000)
    worker_processes: int = Field(default=2, ge=1)
    worker_threads: int = Field(default=4, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'omnidesk.db').resolve()}"

    @property
    def triage_model_dir(self) -> Path:
        """Where the classifier's versions live (OMNIDESK_MODEL_DIR, else the data dir)."""
        return self.model_dir or self.data_dir / "models" / "triage"

    @property
    def uses_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
