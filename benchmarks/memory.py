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
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.twilio import FakeTwilio, sign, sms_params  # noqa: E402

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
NUMBER = "+15005550006"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    with tempfile.TemporaryDirectory() as tmp, twilio:
        port = free_port()
        config = Path(tmp) / "omnidesk.toml"
        config.write_text(
            f'[[connectors]]\nname = "tp-sms"\nchannel = "twilio"\naccount_sid = "{SID}"\n'
            f'auth_token = "${{TWILIO_AUTH_TOKEN}}"\nfrom_number = "{NUMBER}"\n'
            f'api_base_url = "{twilio.base_url}"\n'
        )
        env = os.environ | {
            "OMNIDESK_DATA_DIR": tmp,
            "OMNIDESK_CONFIG": str(config),
            "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "OMNIDESK_LOG_LEVEL": "warning",
        }
        env.pop("OMNIDESK_DATABASE_URL", None)
        env.pop("OMNIDESK_REDIS_URL", None)
        command = [sys.executable, "-m", "omnidesk", "up", "--port", str(port)]
        up = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or up.poll() is not None:
                    raise SystemExit("omnidesk up did not start")
                time.sleep(0.5)
            time.sleep(10)  # workers and scheduler settle
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
        finally:
            up.terminate()
            up.wait(60)


if __name__ == "__main__":
    main()
