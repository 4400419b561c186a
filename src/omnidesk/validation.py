"""Pydantic validation errors as the one-line-per-key messages config files and the API show."""

from __future__ import annotations

from pydantic import ValidationError


def format_validation(where: str, exc: ValidationError) -> list[str]:
    """One line per pydantic error: `where.key: message` (input values are not echoed: secrets)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "(table)"
        lines.append(f"{where}.{key}: {err['msg']}")
    return lines
