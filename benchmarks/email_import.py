"""Benchmark: import N mails (default 10,000) from a real Dovecot through the whole pipeline.

    .venv/bin/python benchmarks/email_import.py [--count 10000] [--backend embedded|server]

It starts Dovecot, Redis (and PostgreSQL with `--backend server`) and an aiosmtpd server, APPENDs
N mails made from tests/data/email (each with its own Message-ID; senders spread over 1,000
domains so many requests are opened and acknowledged), then runs, each in its own process:

- baseline: plain imapclient, `BODY.PEEK[]` fetches in the same batches, nothing stored;
- pipeline: the email poller (parse, store raw bytes and message, flag \\Seen) while Dramatiq
  workers run every stage and send the acknowledgements over SMTP, until every message is in
  stage `done`.

It prints mails/s for both, the end-to-end rate, each process's peak RSS, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "data" / "email"
SKIP = {"huge_attachment__over_limit.eml"}  # a template whose payload the parser tests generate
USER = "service@tp.example"
CONNECTOR = "bench-mail"
_MESSAGE_ID = re.compile(rb"^message-id:.*(?:\r?\n[ \t].*)*\r?\n", re.IGNORECASE | re.MULTILINE)
_FROM = re.compile(rb"^(from:[^\r\n]*?@)", re.IGNORECASE | re.MULTILINE)


def make_mails(count: int) -> Iterator[bytes]:
    """`count` mails cycled from the corpus, each with a new Message-ID and sender domain."""
    corpus = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml")) if p.name not in SKIP]
    for n in range(count):
        raw = _MESSAGE_ID.sub(b"", corpus[n % len(corpus)])
        raw = _FROM.sub(lambda m, n=n: m.group(1) + f"c{n % 1000}.".encode(), raw, count=1)
        yield f"Message-ID: <bench.{n}.{uuid.uuid4().hex[:8]}@bench.example>\r\n".encode() + raw


def peak_rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (or, with "VmRSS", current) resident memory. Linux keeps ru_maxrss
    across exec (a child would report its parent's peak): read our own address space's mark."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child: baseline ---------------------------------------------------------------------------


def baseline(args: argparse.Namespace) -> dict[str, Any]:
    """Plain imapclient: search, then fetch BODY.PEEK[] in batches; nothing stored."""
    from imapclient import IMAPClient

    started = time.perf_counter()
    fetched = size = 0
    with IMAPClient("127.0.0.1", args.imap_port, ssl=False, timeout=60) as imap:
        imap.login(USER, "secret")
        imap.select_folder("INBOX", readonly=True)
        uids = sorted(imap.search(["ALL"]))
        for start in range(0, len(uids), args.batch_size):
            batch = uids[start : start + args.batch_size]
            for item in imap.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"]).values():
                fetched += 1
                size += len(item[b"BODY[]"])
    seconds = time.perf_counter() - started
    return {"mails": fetched, "bytes": size, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


# --- child: pipeline ---------------------------------------------------------------------------


def pipeline(args: argparse.Namespace) -> dict[str, Any]:
    """The poller imports every mail; then wait until the workers have taken each to `done`."""
    from connectors.email.imap import ImapPoller
    from omnidesk.desk import Desk
    from omnidesk.logging import configure_logging
    from omnidesk.services.intake import DeskIntake
    from omnidesk.services.mail import DeskMailboxBook
    from omnidesk.settings import Settings
    from workers.broker import build_broker, install
    from workers.dispatch import DramatiqDispatcher

    settings = Settings()
    assert settings.redis_url
    configure_logging(settings)
    install(build_broker(settings, settings.redis_url))
    desk = Desk.load(settings)
    connector: Any = desk.connector(CONNECTOR)
    intake = DeskIntake(desk, DramatiqDispatcher())
    book = DeskMailboxBook(desk)
    poller = ImapPoller(connector.config, book, connector.importer(intake, book))

    ready_rss = peak_rss_mb("VmRSS")
    started = time.perf_counter()
    mailbox = poller.mailbox_class.open(connector.config)
    try:
        handed = poller.sync(mailbox)
    finally:
        mailbox.close()
    imported = time.perf_counter() - started
    stored, quarantined = _wait_until_done(settings)
    done = time.perf_counter() - started
    return {
        "mails": handed,
        "stored": stored,
        "quarantined": quarantined,
        "import_seconds": imported,
        "done_seconds": done,
        "peak_rss_mb": peak_rss_mb(),
        "ready_rss_mb": ready_rss,
    }


def _wait_until_done(settings: Any) -> tuple[int, int]:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from omnidesk.db import get_engine
    from omnidesk.models import Direction, Message, QuarantinedPayload
    from omnidesk.services.pipeline import STAGES

    inbound = Message.direction == Direction.INBOUND
    while True:
        with Session(get_engine(settings)) as session:
            pending = session.exec(
                select(func.count()).where(inbound, col(Message.stage).in_(STAGES))
            ).one()
            stored = session.exec(select(func.count()).where(inbound)).one()
            held = session.exec(select(func.count()).select_from(QuarantinedPayload)).one()
        if pending == 0:
            return int(stored), int(held)
        time.sleep(0.5)


# --- parent: servers, mail, children, report ---------------------------------------------------


@contextmanager
def servers(tmp: Path, backend: str) -> Iterator[dict[str, Any]]:
    from tests.servers.dovecot import dovecot_server
    from tests.servers.postgres import postgres_server
    from tests.servers.redis import embedded_redis, redis_server
    from tests.servers.smtp import smtp_server

    with ExitStack() as stack:
        found: dict[str, Any] = {"dovecot": stack.enter_context(dovecot_server(tmp / "dovecot"))}
        start_redis = redis_server if backend == "server" else embedded_redis
        found["redis"] = stack.enter_context(start_redis(tmp / "redis", persist=False))
        found["smtp"] = stack.enter_context(smtp_server(tmp))
        if backend == "server":
            postgres = stack.enter_context(postgres_server(tmp / "pg"))
            found["database_url"] = postgres.create_database("bench")
        else:
            found["database_url"] = f"sqlite:///{tmp / 'bench.db'}"
        yield found


def environment(tmp: Path, found: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    config = tmp / "omnidesk.toml"
    dovecot, smtp = found["dovecot"], found["smtp"]
    config.write_text(
        f'[[connectors]]\nname = "{CONNECTOR}"\nchannel = "email"\n'
        f'imap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
        f'username = "{USER}"\npassword = "secret"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {smtp.port}\nsmtp_security = "none"\n'
        f'from_address = "TP官方客服 <service@tp.example>"\nbatch_size = {args.batch_size}\n'
        f"auto_reply_limit_per_day = 1000\n",
        encoding="utf-8",
    )
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMNIDESK_DATABASE_URL": found["database_url"],
        "OMNIDESK_REDIS_URL": found["redis"].url,
        "OMNIDESK_CONFIG": str(config),
        "OMNIDESK_DATA_DIR": str(tmp / "var"),
        "OMNIDESK_LOG_LEVEL": "WARNING",
        "OMNIDESK_LOG_FORMAT": "json",
    }


def append_all(dovecot: Any, count: int) -> float:
    started = time.perf_counter()
    with dovecot.client() as imap:
        chunk: list[bytes] = []
        for raw in make_mails(count):
            chunk.append(raw)
            if len(chunk) == 250:
                imap.multiappend("INBOX", chunk)
                chunk = []
        if chunk:
            imap.multiappend("INBOX", chunk)
    return time.perf_counter() - started


def child(phase: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    result = Path(env["OMNIDESK_DATA_DIR"]).parent / f"{phase}.json"
    argv = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--imap-port",
        str(args.imap_port),
        "--batch-size",
        str(args.batch_size),
        "--result",
        str(result),
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr[-4000:]}")
    return json.loads(result.read_text())


@contextmanager
def workers(env: dict[str, str], args: argparse.Namespace, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.entry",
                "--processes",
                str(args.processes),
                "--threads",
                str(args.threads),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=60)


def report(
    args: argparse.Namespace, appended: float, base: dict[str, Any], pipe: dict[str, Any], sent: int
) -> None:
    base_rate = base["mails"] / base["seconds"]
    import_rate = pipe["mails"] / pipe["import_seconds"]
    done_rate = pipe["mails"] / pipe["done_seconds"]
    print(
        f"email import benchmark: {args.count} mails, backend {args.backend}, "
        f"batch {args.batch_size}, {args.processes}x{args.threads} workers"
    )
    print(f"  APPEND to Dovecot          {args.count / appended:9.0f} mails/s")
    print(
        f"  baseline imapclient fetch  {base_rate:9.0f} mails/s   peak RSS "
        f"{base['peak_rss_mb']:7.1f} MB"
    )
    print(
        f"  poller import (stored)     {import_rate:9.0f} mails/s   peak RSS "
        f"{pipe['peak_rss_mb']:7.1f} MB ({pipe['ready_rss_mb']:.1f} MB before the first fetch)"
    )
    print(
        f"  whole pipeline (all done)  {done_rate:9.0f} mails/s   "
        f"({pipe['stored']} messages, {pipe['quarantined']} quarantined, {sent} acks sent)"
    )
    print(
        f"  ratio import/baseline      {import_rate / base_rate:9.3f}   "
        f"memory {pipe['peak_rss_mb'] / base['peak_rss_mb']:.2f}x"
    )
    print(f"  ratio pipeline/baseline    {done_rate / base_rate:9.3f}")


def orchestrate(args: argparse.Namespace) -> None:
    from omnidesk.migrate import upgrade
    from omnidesk.settings import Settings

    with (
        tempfile.TemporaryDirectory(prefix="bench-mail-") as scratch,
        servers(Path(scratch), args.backend) as found,
    ):
        tmp = Path(scratch)
        env = environment(tmp, found, args)
        upgrade(Settings(database_url=found["database_url"], data_dir=tmp / "var"))
        args.imap_port = found["dovecot"].port
        appended = append_all(found["dovecot"], args.count)
        base = child("baseline", args, env)
        with workers(env, args, tmp / "workers.log"):
            pipe = child("pipeline", args, env)
            time.sleep(1.0)  # let the last acknowledgements go out
        report(args, appended, base, pipe, len(found["smtp"].messages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=("embedded", "server"), default="embedded")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--phase", choices=("baseline", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--imap-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        measured = baseline(args) if args.phase == "baseline" else pipeline(args)
        args.result.write_text(json.dumps(measured))
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
