"""Resident memory of each process of `omnidesk up`: idle, then after a burst of SMS.

Starts `omnidesk up` on embedded defaults (SQLite, embedded Redis) in a temporary directory with
one Twilio SMS connector pointed at the fake Twilio, waits until it answers, and prints the RSS
of every process in its tree (supervisor, API, worker parent and children, embedded Redis).
Then sends N signed SMS webhooks, waits until every acknowledgement reached the fake Twilio, and
prints the tree again. The raw baseline beside it: a bare `python -c pass` interpreter.

    python benchmarks/memory.py [--messages 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._up import NUMBER, SID, TOKEN, omnidesk_up, sms_connector  # noqa: E402
from fakes.twilio import FakeTwilio, sign, sms_params  # noqa: E402


def tree(root: psutil.Process) -> list[tuple[str, int]]:
    """(name, RSS in bytes) of the root and every descendant."""
    rows = []
    for process in [root, *root.children(recursive=True)]:
        try:
            cmd = process.cmdline()
            name = " ".join(a for a in cmd[1:4] if not a.startswith("/")) or process.name()
            rows.append((f"{process.pid} {name[:60]}", process.memory_info().rss))
        except psutil.NoSuchProcess:
            continue
    return rows


def show(title: str, rows: list[tuple[str, int]], baseline: int) -> None:
    total = sum(rss for _, rss in rows)
    print(f"\n{title}: {len(rows)} processes, {total / 2**20:,.0f} MiB resident in all")
    for name, rss in rows:
        print(f"  {rss / 2**20:7,.0f} MiB  {name}")
    print(f"  raw baseline: one bare interpreter {baseline / 2**20:,.0f} MiB; "
          f"the tree is {total / baseline:.1f}x that")  # fmt: skip


def bare_interpreter() -> int:
    probe = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    time.sleep(1)
    rss = psutil.Process(probe.pid).memory_info().rss
    probe.wait()
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    baseline = bare_interpreter()
    twilio = FakeTwilio(accounts={SID: TOKEN}, numbers={SID: [NUMBER]}, test_credentials=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        twilio,
        omnidesk_up(tmp, sms_connector(twilio.base_url)) as (up, url),
    ):
        root = psutil.Process(up.pid)
        show("idle", tree(root), baseline)
        hook = f"{url}/webhooks/tp-sms/sms"
        with httpx.Client(timeout=30) as http:
            for n in range(args.messages):
                params = sms_params(SID, f"+86138{n:08d}", NUMBER, f"我的订单{n}到哪了？")
                signature = sign(TOKEN, hook, params)
                http.post(hook, data=params, headers={"X-Twilio-Signature": signature})
        deadline = time.monotonic() + 300
        while len(twilio.messages) < args.messages and time.monotonic() < deadline:
            time.sleep(0.5)
        answered = f"after {len(twilio.messages)} of {args.messages} SMS answered"
        show(answered, tree(root), baseline)


if __name__ == "__main__":
    main()
