"""What the real-server fixtures share: free ports, owned processes, a service user, a cert."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import datetime as dt
import errno
import grp
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SERVICE_USER = "omnidesk-test"
SHARED_TMP = Path("/tmp")  # 1777 on every Debian system: the service user can reach it
HOME_PREFIX = "omnidesk-test-"
FALLBACK_USER = "nobody"
USERADD_OPTIONS = ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVICE_USER]
PORT_ATTEMPTS = 5
_PR_SET_PDEATHSIG = 1
# Loaded here, not in the forked child: dlopen after fork can deadlock when other threads run.
_LIBC = ctypes.CDLL(None, use_errno=True)
_PORT_IN_USE_MARKERS = ("already in use", "address in use", "eaddrinuse")


class PortInUse(RuntimeError):
    """The server could not bind: another process took the port between probe and start."""


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def on_free_port(start: Callable[[int], T], attempts: int = PORT_ATTEMPTS) -> T:
    """Call ``start(port)`` with fresh free ports until it does not fail with `PortInUse`."""
    for attempt in range(attempts):
        try:
            return start(free_port())
        except PortInUse:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- processes ----------------------------------------------------------------------------------

_LIVE: set[ServerProcess] = set()
_LIVE_LOCK = threading.Lock()


def _die_with_parent(parent_pid: int, sig: int) -> Callable[[], None]:
    """Build a preexec hook: the child gets ``sig`` when the test process dies, even by SIGKILL.

    PR_SET_PDEATHSIG is cleared by a change of uid, so it must run after the switch to the
    service user; CPython runs ``preexec_fn`` after ``user=``/``group=`` are applied. The signal
    fires when the *thread* that started the server ends: start servers from a long-lived thread
    (pytest's main thread), not from a short-lived worker thread.
    """

    def hook() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return hook


@dataclass(eq=False)
class ServerProcess:
    """A server process in its own process group, logging to a file, killed at exit at latest."""

    name: str
    argv: list[str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    stop_group: bool = False  # send stop_signal to the whole group, not only the leader
    user: ServiceUser | None = None
    cwd: Path | None = None
    env: dict[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = None
    _log_offset: int = 0

    def start(self) -> None:
        """Start the process; the caller waits for readiness with `wait_until`."""
        user = self.user
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                process_group=0,
                user=user.uid if user else None,
                group=user.gid if user else None,
                extra_groups=[] if user else None,
                preexec_fn=_die_with_parent(os.getpid(), self.stop_signal),
            )
        with _LIVE_LOCK:
            _LIVE.add(self)

    @property
    def running(self) -> bool:
        """Whether the process has been started and has not exited."""
        return self.popen is not None and self.popen.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``ready()`` until true; raise `RuntimeError` (or `PortInUse`) with the log tail."""
        deadline = time.monotonic() + timeout
        while True:
            if ready():
                return
            if not self.running:
                code = self.popen.returncode if self.popen else None
                self._fail(f"{self.name} exited with code {code} before it was ready")
            if time.monotonic() > deadline:
                self.stop(timeout=2)
                self._fail(f"{self.name} was not ready after {timeout:.0f} s")
            time.sleep(0.02)

    def _fail(self, reason: str) -> None:
        tail = self.log_tail()
        error = PortInUse if any(m in tail.lower() for m in _PORT_IN_USE_MARKERS) else RuntimeError
        raise error(f"{reason}; {self.log_path} ends with:\n{tail}")

    def stop(self, timeout: float = 10.0, sig: int | None = None) -> None:
        """Signal the leader (or SIGKILL everything), wait, then SIGKILL whatever is left."""
        popen = self.popen
        if popen is None:
            return
        children = _descendants(popen.pid)
        sig = self.stop_signal if sig is None else sig
        if sig == signal.SIGKILL or self.stop_group:
            _signal_group(popen.pid, sig)
        else:  # the leader shuts its own children down in order
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(sig)
        if sig == signal.SIGKILL:
            _kill_all(children)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(popen.pid, signal.SIGKILL)
            popen.wait(5)
        _signal_group(popen.pid, signal.SIGKILL)  # stragglers that outlived their leader
        _kill_all(children)
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self.popen = None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines this run wrote to the log, or a note that there are none."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _descendants(pid: int) -> list[tuple[int, str]]:
    """Every process below ``pid`` as (pid, start time), from /proc.

    The group alone is not enough: PostgreSQL's children call setsid(). The start time lets
    `_kill_all` skip a pid the kernel has meanwhile given to an unrelated process.
    """
    table: dict[int, tuple[int, str]] = {}  # pid -> (ppid, start time)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            table[int(entry.name)] = (int(fields[1]), fields[19])
    found: list[tuple[int, str]] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in table.items() if ppid == parent]
        found += [(child, table[child][1]) for child in children]
        frontier += children
    return found


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after ``(comm)`` (which may hold spaces): state, ppid, ... (proc(5))."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _kill_all(processes: list[tuple[int, str]]) -> None:
    for pid, started in processes:
        fields = _stat_fields(pid)
        if fields and fields[19] == started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


@atexit.register
def _stop_all() -> None:
    """Backstop for a session that ends without running its fixtures' teardown."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in live:
        with contextlib.suppress(Exception):
            process.stop(timeout=3)


# --- the unprivileged user (PostgreSQL refuses root; Dovecot is configured to run as one user) ---


@dataclass(frozen=True)
class ServiceUser:
    """The account a server runs as when the tests run as root."""

    name: str
    group: str
    uid: int
    gid: int


def service_user() -> ServiceUser | None:
    """The user to run servers as: None (run as ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    entry = _lookup_user(SERVICE_USER) or _create_service_user() or _lookup_user(FALLBACK_USER)
    if entry is None:
        raise RuntimeError(f"running as root, but neither {SERVICE_USER} nor {FALLBACK_USER} exist")
    return ServiceUser(
        entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid
    )


def _lookup_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_service_user() -> pwd.struct_passwd | None:
    """Create the system user; a concurrent creator winning the race is fine."""
    with contextlib.suppress(OSError):
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", *USERADD_OPTIONS],
            capture_output=True,
            check=False,
        )
    return _lookup_user(SERVICE_USER)


def hand_over(path: Path, user: ServiceUser | None) -> None:
    """Make ``path`` and everything below it the user's (nothing to do when not root)."""
    if user is None:
        return
    os.chown(path, user.uid, user.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.uid, user.gid, follow_symlinks=False)


@contextmanager
def server_home(tmp_dir: Path, name: str, user: ServiceUser | None) -> Iterator[Path]:
    """The directory a server keeps its state in, removed on exit.

    As ourselves it is ``tmp_dir/name``. As the service user it cannot be: pytest's base
    directory (``/tmp/pytest-of-root``) is 0700, and every new pytest session resets it to 0700,
    so a concurrent session would lock a running server out of its own files. It is then a
    private directory under /tmp owned by the user, and ``tmp_dir/name`` is a link to it.
    """
    link = Path(tmp_dir) / name
    if user is None:
        link.mkdir(parents=True, exist_ok=True)
        yield link
        return
    _sweep_stale_homes()
    home = Path(tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{name}-{os.getpid()}-", dir=SHARED_TMP))
    os.chown(home, user.uid, user.gid)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(home, target_is_directory=True)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)
        link.unlink(missing_ok=True)


def _sweep_stale_homes() -> None:
    """Remove homes left by test processes that died without their teardown."""
    for home in SHARED_TMP.glob(f"{HOME_PREFIX}*"):
        owner_pid = home.name.removeprefix(HOME_PREFIX).split("-")[-2]
        if owner_pid.isdigit() and not Path(f"/proc/{owner_pid}").exists():
            shutil.rmtree(home, ignore_errors=True)


# --- a self-signed certificate for implicit TLS and STARTTLS --------------------------------------


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for localhost/127.0.0.1 into ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=2))  # a run under --clock may be a day off
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def is_port_in_use_error(exc: BaseException) -> bool:
    """Whether an exception raised by a bind means the port is taken."""
    return isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE
