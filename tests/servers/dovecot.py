"""A real Dovecot IMAP server for tests: unprivileged, loopback only, Maildir in a temp dir."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

from tests.servers._support import (
    ServerProcess,
    ServiceUser,
    free_port,
    hand_over,
    on_free_port,
    self_signed_cert,
    server_home,
    service_user,
)

DOVECOT = "/usr/sbin/dovecot"
DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
DEFAULT_USERS = {"service@tp.example": "secret"}
# Unix sockets live in base_dir; sun_path holds 108 bytes and Dovecot's longest name is ~30.
MAX_BASE_DIR = 70

# Dovecot 2.3 setting names (2.4 renamed some: disable_plaintext_auth -> auth_allow_cleartext,
# mail_location -> mail_driver/mail_path; protocols.md 4.1). Running unprivileged: every service
# runs as the one user, and chroot (root only) is emptied for the services that default to one.
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = omnidesk-test-{port}
log_path = /dev/stderr
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
{ssl}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_file}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={mail_dir}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    auto = subscribe
    special_use = \\Archive
  }}
  mailbox Trash {{
    auto = subscribe
    special_use = \\Trash
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


@dataclass(eq=False)
class DovecotServer:
    """Dovecot on ``host:port`` (plaintext IMAP) and ``tls_port`` (implicit TLS, self-signed)."""

    host: str
    port: int
    tls_port: int | None
    users: dict[str, str]
    mail_dir: Path = field(repr=False, default=Path())
    cert_path: Path | None = field(repr=False, default=None)
    _process: ServerProcess | None = field(default=None, init=False, repr=False)

    def client(self, user: str | None = None) -> IMAPClient:
        """An IMAPClient logged in as ``user`` (default: the first user)."""
        user = user or next(iter(self.users))
        imap = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = ()
    ) -> int:
        """APPEND ``raw`` to the user's ``folder``; return the UID from APPENDUID (UIDPLUS)."""
        with self.client(user) as imap:
            response = imap.append(folder, raw, flags=tuple(flags))
        text = response.decode() if isinstance(response, bytes) else str(response)
        found = re.search(r"APPENDUID \d+ (\d+)", text)
        if not found:
            raise RuntimeError(f"APPEND answered without APPENDUID: {text!r}")
        return int(found.group(1))

    def mail_home(self, user: str) -> Path:
        """The user's home; the Maildir is its ``Maildir`` (for tests that break it on purpose)."""
        return self.mail_dir / user

    def start(self) -> None:
        """Start again on the same ports, config and mail; returns once both ports greet."""
        if self._process is not None and self._process.running:
            return
        if self._process is None:
            raise RuntimeError("this DovecotServer was never configured by dovecot_server()")
        self._process.start()
        self._process.wait_until(self._greets, timeout=20)

    def stop(self, *, kill: bool = False) -> None:
        """Shut down (SIGTERM), or with ``kill=True`` SIGKILL every Dovecot process."""
        if self._process is not None:
            self._process.stop(sig=signal.SIGKILL if kill else None)

    def restart(self) -> None:
        """Stop and start again; mail, UIDs and UIDVALIDITY survive."""
        self.stop()
        self.start()

    def _greets(self) -> bool:
        return _greets(self.host, self.port) and (
            self.tls_port is None or _greets(self.host, self.tls_port, self.tls_context())
        )


def _greets(host: str, port: int, context: ssl.SSLContext | None = None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as raw:
            conn = context.wrap_socket(raw, server_hostname=host) if context else raw
            return conn.recv(128).startswith(b"* OK")
    except OSError:
        return False


@contextmanager
def dovecot_server(tmp_dir: Path, users: dict[str, str] | None = None) -> Iterator[DovecotServer]:
    """Run Dovecot with config, users, mail and state in its home; it logs to ``tmp_dir``."""
    if not Path(DOVECOT).exists():
        raise RuntimeError(f"{DOVECOT} is missing: run scripts/install-test-deps")
    tmp_dir = Path(tmp_dir)
    users = dict(users or DEFAULT_USERS)
    user = service_user()
    with server_home(tmp_dir, "dovecot", user) as home, _base_dir(home, user) as base_dir:
        cert_path, key_path = self_signed_cert(home / "tls")
        (home / "users").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items()))
        for name in ("mail", "state"):
            (home / name).mkdir()
        hand_over(home, user)

        def start(port: int) -> DovecotServer:
            server = DovecotServer("127.0.0.1", port, free_port(), users, home / "mail", cert_path)
            config = _config(home, base_dir, server, key_path, user)
            server._process = ServerProcess(
                "dovecot",
                [DOVECOT, "-F", "-c", str(config)],
                tmp_dir / "dovecot.log",
                user=user,
                # The master alone takes a second to wind down its children; Maildir writes
                # are atomic renames, so stopping every process at once loses nothing.
                stop_group=True,
            )
            server.start()
            return server

        server = on_free_port(start)
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def _base_dir(home: Path, user: ServiceUser | None) -> Iterator[Path]:
    """Dovecot's socket directory: in ``home`` if short enough, else a short one under /tmp."""
    base_dir = home / "run"
    if len(str(base_dir)) <= MAX_BASE_DIR:
        base_dir.mkdir()
        yield base_dir
        return
    short = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    hand_over(short, user)
    try:
        yield short
    finally:
        shutil.rmtree(short, ignore_errors=True)


def _config(
    root: Path, base_dir: Path, server: DovecotServer, key_path: Path, user: ServiceUser | None
) -> Path:
    if user is None:  # not root: every service runs as ourselves
        user_name = pwd.getpwuid(os.getuid()).pw_name
        group_name = grp.getgrgid(os.getgid()).gr_name
    else:
        user_name, group_name = user.name, user.group
    ssl_settings = f"ssl = yes\nssl_cert = <{server.cert_path}\nssl_key = <{key_path}\n"
    if DH_PARAMS.exists():
        ssl_settings += f"ssl_dh = <{DH_PARAMS}\n"
    path = root / "dovecot.conf"
    path.write_text(
        CONFIG.format(
            base_dir=base_dir,
            state_dir=root / "state",
            port=server.port,
            tls_port=server.tls_port,
            user=user_name,
            group=group_name,
            ssl=ssl_settings,
            users_file=root / "users",
            mail_dir=root / "mail",
        )
    )
    hand_over(path, user)
    return path
