"""The pre-chat and after-hours form: a name and an email or phone, checked (pure)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

EMAIL = re.compile(r"^[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$", re.ASCII)
CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_NAME = 100


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    visitor_token: str | None = None
    name: str | None = Field(default=None, max_length=MAX_NAME * 2)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class ContactError(ValueError):
    """A field of the form is wrong: `errors` maps the field to a stable code."""

    def __init__(self, errors: dict[str, str], detail: str) -> None:
        super().__init__(detail)
        self.errors = errors
        self.detail = detail


def phone_e164(text: str) -> str | None:
    """The number in E.164, or None. A bare 11-digit mainland mobile is taken as +86."""
    cleaned = re.sub(r"[\s().-]", "", text.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if CN_MOBILE.match(cleaned):
        return "+86" + cleaned
    if re.fullmatch(r"\+[1-9]\d{6,14}", cleaned):
        return cleaned
    return None


def checked(form: ContactIn) -> tuple[str | None, str | None, str | None]:
    """Name, email (lower case) and E.164 phone; ContactError naming every bad field."""
    name = " ".join((form.name or "").split())[:MAX_NAME] or None
    email = (form.email or "").strip() or None
    phone = (form.phone or "").strip() or None
    errors: dict[str, str] = {}
    if email is not None and not EMAIL.match(email):
        errors["email"] = "invalid_email"
    e164 = phone_e164(phone) if phone is not None else None
    if phone is not None and e164 is None:
        errors["phone"] = "invalid_phone"
    if email is None and phone is None:
        errors["base"] = "email_or_phone_required"
    if errors:
        messages = {
            "invalid_email": "email: not a valid email address",
            "invalid_phone": "phone: not a phone number (write it with its country code, "
            "e.g. +86 138 0013 8000)",
            "email_or_phone_required": "give an email address or a phone number",
        }
        raise ContactError(errors, "; ".join(messages[c] for c in errors.values()))
    return name, email.lower() if email else None, e164
