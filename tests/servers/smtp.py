"""A real SMTP server for tests (aiosmtpd) that records mail and answers as scripted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers._support import PortInUse, is_port_in_use_error, on_free_port, self_signed_cert

PASSWORD = b"secret"
DROP_REPLY = "421 4.3.2 Service not available, closing transmission channel"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: envelope, raw bytes and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    parsed: EmailMessage
    login: str | None = None


@dataclass(eq=False)
class SmtpServer:
    """aiosmtpd on ``host:port``: AUTH PLAIN/LOGIN (password "secret"), optional STARTTLS."""

    host: str
    port: int
    messages: list[ReceivedMail] = field(default_factory=list)
    cert_path: Path | None = field(default=None, repr=False)
    _answers: dict[str, deque[str]] = field(default_factory=dict, repr=False)
    _drops: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def respond(self, rcpt: str, code: int, text: str, times: int = 1) -> None:
        """Answer the next ``times`` RCPT TO for ``rcpt`` with ``code text`` (e.g. 450 4.7.0 …)."""
        with self._lock:
            self._answers.setdefault(rcpt.lower(), deque()).extend([f"{code} {text}"] * times)

    def drop_next(self) -> None:
        """Answer the next DATA with 421 and close the connection (RFC 5321 3.8)."""
        with self._lock:
            self._drops += 1

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until ``count`` messages arrived (for senders in other threads); return them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} messages after {timeout} s")
            time.sleep(0.01)
        return list(self.messages)

    def tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate (for STARTTLS)."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def _scripted_answer(self, rcpt: str) -> str | None:
        with self._lock:
            answers = self._answers.get(rcpt.lower())
            return answers.popleft() if answers else None

    def _take_drop(self) -> bool:
        with self._lock:
            if self._drops:
                self._drops -= 1
                return True
            return False


class _Handler:
    """aiosmtpd hooks: scripted RCPT answers, dropped DATA, recorded messages."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp = smtp

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        answer = self.smtp._scripted_answer(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.smtp._take_drop():
            # Close once the 421 is written: the reply is pushed after this hook returns.
            asyncio.get_running_loop().call_soon(server.transport.close)
            return DROP_REPLY
        data = bytes(envelope.original_content or b"")
        auth = session.auth_data
        self.smtp.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                parsed=email.message_from_bytes(data, policy=email.policy.default),
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 2.0.0 OK"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD:
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)  # aiosmtpd then answers 535 5.7.8


@contextmanager
def smtp_server(tmp_dir: Path | None = None) -> Iterator[SmtpServer]:
    """Run the server on a free loopback port; its certificate goes to ``tmp_dir`` if given."""
    with tempfile.TemporaryDirectory(prefix="smtp-") as scratch:
        cert_dir = (Path(tmp_dir) if tmp_dir else Path(scratch)) / "smtp-tls"
        cert_path, key_path = self_signed_cert(cert_dir)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert_path, key_path)

        def start(port: int) -> tuple[SmtpServer, Controller]:
            smtp = SmtpServer("127.0.0.1", port, cert_path=cert_path)
            controller = Controller(
                _Handler(smtp),
                hostname="127.0.0.1",
                port=port,
                server_hostname="localhost",
                authenticator=_authenticate,
                auth_require_tls=False,  # loopback only
                tls_context=tls,
                require_starttls=False,
                enable_SMTPUTF8=True,
            )
            try:
                controller.start()
            except OSError as exc:
                controller.stop(no_assert=True)
                if is_port_in_use_error(exc):
                    raise PortInUse(str(exc)) from exc
                raise RuntimeError(f"aiosmtpd did not start: {exc}") from exc
            return smtp, controller

        smtp, controller = on_free_port(start)
        try:
            yield smtp
        finally:
            controller.stop()
