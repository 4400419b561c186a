"""The audit log of admin changes: who changed what, with details scrubbed of every secret."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import Session, col, select

from omnidesk.models.auth import AuditLog

REDACTED = "**********"
SECRET_WORDS = ("password", "secret", "token", "api_key", "aes_key", "private_key", "credential")


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def scrub(value: Any, key: str = "") -> Any:
    """Details safe to keep: values under secret-sounding keys and every SecretStr are redacted."""
    if isinstance(value, SecretStr):
        return REDACTED
    if key and _is_secret_key(key) and isinstance(value, str) and value:
        return REDACTED
    if isinstance(value, dict):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, key) for v in value]
    return value


def record(
    session: Session,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    **details: Any,
) -> AuditLog:
    """Add one audit line to the caller's transaction."""
    entry = AuditLog(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=scrub(details),
    )
    session.add(entry)
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The keys whose value changed, as {key: [old, new]} (scrubbed by `record`)."""
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def page(
    session: Session,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
) -> tuple[list[AuditLog], int]:
    """Audit lines, newest first, and how many match in all."""
    stmt = select(AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if target_type:
        stmt = stmt.where(AuditLog.target_type == target_type)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(AuditLog.id).desc()).offset(offset).limit(limit))
    return list(rows), int(total)
