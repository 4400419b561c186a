"""Secrets at rest: the console's connector secrets, encrypted with Fernet (OMNIDESK_SECRET_KEY).

OMNIDESK_SECRET_KEY holds one key or several separated by commas (the first encrypts, all
decrypt: rotate by putting the new key first). A key is a Fernet key
(`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`)
or any passphrase of 32+ characters, stretched with SHA-256. In production the desk refuses to
start without it; in development and tests a random key is kept in `<data_dir>/dev-secret.key`
with a loud warning, so secrets survive restarts but are only as safe as that directory.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import types
import typing
from pathlib import Path
from typing import Any

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, SecretStr

from omnidesk.errors import ConfigError
from omnidesk.settings import Settings

log = structlog.get_logger(__name__)

DEV_KEY_FILE = "dev-secret.key"
ENCRYPTED = "$enc"
MIN_PASSPHRASE = 32


class SecretsError(Exception):
    """A stored secret cannot be decrypted (the key changed) or is malformed."""


def _as_fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    if len(raw) < MIN_PASSPHRASE:
        raise ConfigError(
            "OMNIDESK_SECRET_KEY: each key must be a Fernet key or at least "
            f"{MIN_PASSPHRASE} characters"
        )
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _dev_key(data_dir: Path) -> bytes:
    """The development key file, created once (O_EXCL: concurrent processes agree on one key)."""
    path = data_dir / DEV_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(Fernet.generate_key())
    return path.read_bytes().strip()


_ciphers: dict[tuple[str, str, str], MultiFernet] = {}
_lock = threading.Lock()


def cipher(settings: Settings) -> MultiFernet:
    """The installation's cipher; ConfigError in production without OMNIDESK_SECRET_KEY."""
    key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    cache_key = (key, settings.environment, str(settings.data_dir.resolve()))
    with _lock:
        if cache_key not in _ciphers:
            _ciphers[cache_key] = _build_cipher(settings)
        return _ciphers[cache_key]


def _build_cipher(settings: Settings) -> MultiFernet:
    if settings.secret_key is not None and settings.secret_key.get_secret_value().strip():
        keys = [k for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
        return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])
    if settings.environment == "production":
        raise ConfigError(
            "OMNIDESK_SECRET_KEY is not set: the console's connector secrets are encrypted with "
            'it. Generate one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    log.warning(
        "secret_key_missing",
        warning="OMNIDESK_SECRET_KEY is not set: using a development key from the data dir; "
        "set OMNIDESK_SECRET_KEY before storing real secrets",
        key_file=str(settings.data_dir / DEV_KEY_FILE),
    )
    return MultiFernet([Fernet(_dev_key(settings.data_dir))])


def installation_keys(settings: Settings) -> list[bytes]:
    """The installation's keys as bytes, newest last, for deriving signing keys (HMAC).

    The same source as the cipher: OMNIDESK_SECRET_KEY (first = newest), else the development
    key file; production without OMNIDESK_SECRET_KEY is refused as for the cipher.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value().strip():
        keys = [k for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
        return [_as_fernet_key(k) for k in reversed(keys)]
    cipher(settings)  # raises in production, warns and creates the development key otherwise
    return [_dev_key(settings.data_dir)]


def encrypt(fernet: MultiFernet, value: str) -> dict[str, str]:
    return {ENCRYPTED: fernet.encrypt(value.encode("utf-8")).decode("ascii")}


def decrypt(fernet: MultiFernet, stored: Any) -> str:
    if not isinstance(stored, dict) or not isinstance(stored.get(ENCRYPTED), str):
        raise SecretsError("a stored secret is not in the encrypted form")
    try:
        return fernet.decrypt(stored[ENCRYPTED].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SecretsError(
            "cannot decrypt a stored secret: was OMNIDESK_SECRET_KEY changed?"
        ) from exc


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False


def secret_fields(config_class: type[BaseModel]) -> tuple[str, ...]:
    """The names of a config class's secret (SecretStr) fields."""
    return tuple(n for n, f in config_class.model_fields.items() if _is_secret(f.annotation))


def seal(fernet: MultiFernet, config: BaseModel) -> dict[str, Any]:
    """The config as JSON for the database, with every secret field encrypted."""
    names = secret_fields(type(config))
    stored = config.model_dump(mode="json", exclude=set(names))
    for name in names:
        value = getattr(config, name)
        stored[name] = encrypt(fernet, value.get_secret_value()) if value is not None else None
    return stored


def unseal(
    fernet: MultiFernet, config_class: type[BaseModel], stored: dict[str, Any]
) -> dict[str, Any]:
    """The stored config with its secrets decrypted, ready for `config_class.model_validate`."""
    data = dict(stored)
    for name in secret_fields(config_class):
        if data.get(name) is not None:
            data[name] = decrypt(fernet, data[name])
    return data
