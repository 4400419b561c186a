"""Throughput and webhook latency of the whole SMS pipeline, against raw Dramatiq in the same run.

Drives N signed SMS webhooks (default 2,000) through the real HTTP endpoint of `omnidesk api`
and `omnidesk worker` until every acknowledgement has reached the fake Twilio server, then times
a no-op Dramatiq chain with the same number of hops on the same broker and worker shape.

    python benchmarks/pipeline.py [--messages 2000] [--concurrency 16] [--processes 2 --threads 8]

Uses SQLite and an embedded Redis in a temporary directory unless OMNIDESK_DATABASE_URL /
OMNIDESK_REDIS_URL are set (then PostgreSQL / your Redis; the database must be empty).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.twilio import FakeTwilio, sign, sms_params  # noqa: E402
from omnidesk.embedded import EmbeddedRedis  # noqa: E402

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
NUMBER = "+15005550006"
TEXTS = [
    "我的订单{n}什么时候发货？",
    "Where is my order {n}?",
    "我要退货，订单{n}",
    "Refund for {n} please",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def post_all(base: str, count: int, concurrency: int) -> list[float]:
    """POST `count` signed webhooks from distinct customers; return each latency in ms."""
    url = f"{base}/webhooks/tp-sms/sms"
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))

    def one(n: int) -> float:
        params = sms_params(SID, f"+86139{n:08d}", NUMBER, TEXTS[n % 4].format(n=1000000000 + n))
        headers = {"X-Twilio-Signature": sign(TOKEN, url, params)}
        started = time.perf_counter()
        response = client.post(url, data=params, headers=headers)
        response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(count)))
    client.close()
    return latencies


def run_omnidesk(
    args: argparse.Namespace, env: dict[str, str], fake: FakeTwilio
) -> dict[str, float]:
    port = free_port()
    env = {**env, "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    subprocess.run(
        [sys.executable, "-m", "omnidesk", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "omnidesk", "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "omnidesk",
                "worker",
                "--processes",
                str(args.processes),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(2)  # let the workers connect
        started = time.perf_counter()
        latencies = post_all(f"http://127.0.0.1:{port}", args.messages, args.concurrency)
        posted = time.perf_counter() - started
        while len(fake.messages) < args.messages:
            if time.perf_counter() - started > args.timeout:
                raise RuntimeError(f"only {len(fake.messages)} replies after {args.timeout}s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    latencies.sort()
    return {
        "elapsed": elapsed,
        "posted": posted,
        "rate": args.messages / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
    }


def run_baseline(args: argparse.Namespace, env: dict[str, str]) -> float:
    client = redis.Redis.from_url(env["OMNIDESK_REDIS_URL"])
    client.delete("bench:noop:done")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "noop_chain",
            "--processes",
            str(args.processes),
            "--threads",
            str(args.threads),
            "--path",
            str(Path(__file__).parent),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sys.path.insert(0, str(Path(__file__).parent))
        os.environ["OMNIDESK_REDIS_URL"] = env["OMNIDESK_REDIS_URL"]
        import noop_chain

        time.sleep(2)
        started = time.perf_counter()
        for n in range(args.messages):
            noop_chain.ACTORS[0].send(n)
        while int(client.get("bench:noop:done") or 0) < args.messages:
            if time.perf_counter() - started > args.timeout:
                raise RuntimeError("the no-op chain did not finish")
            time.sleep(0.01)
        return args.messages / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="omnidesk-bench-"))
    embedded = None
    redis_url = os.environ.get("OMNIDESK_REDIS_URL")
    if not redis_url:
        embedded = EmbeddedRedis(tmp).start()
        redis_url = embedded.url
    fake = FakeTwilio(accounts={SID: TOKEN}, numbers={SID: [NUMBER]}, test_credentials=True).start()
    config = tmp / "omnidesk.toml"
    config.write_text(
        f'[[connectors]]\nname = "tp-sms"\nchannel = "twilio"\naccount_sid = "{SID}"\n'
        f'auth_token = "{TOKEN}"\nfrom_number = "{NUMBER}"\napi_base_url = "{fake.base_url}"\n'
        "status_callbacks = false\n"
    )
    env = {
        **os.environ,
        "OMNIDESK_DATA_DIR": str(tmp / "var"),
        "OMNIDESK_CONFIG": str(config),
        "OMNIDESK_REDIS_URL": redis_url,
        "OMNIDESK_LOG_LEVEL": "WARNING",
        "OMNIDESK_LOG_FORMAT": "json",
    }
    database = os.environ.get("OMNIDESK_DATABASE_URL") or "sqlite (embedded)"
    try:
        result = run_omnidesk(args, env, fake)
        raw = run_baseline(args, env)
    finally:
        fake.stop()
        if embedded:
            embedded.stop()
    print(f"database: {database.split('@')[-1]}   redis: {'embedded' if embedded else 'external'}")
    print(
        f"workers: {args.processes} processes x {args.threads} threads, "
        f"{args.concurrency} concurrent webhook senders, {args.messages} messages"
    )
    print(
        f"omnidesk end to end: {result['rate']:8.1f} messages/s "
        f"({result['elapsed']:.1f} s until the last reply reached Twilio)"
    )
    print(f"webhook latency:     p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms")
    print(f"raw Dramatiq chain:  {raw:8.1f} chains/s (6 no-op hops, same broker and workers)")
    print(f"ratio omnidesk / raw: {result['rate'] / raw:.3f}")


if __name__ == "__main__":
    main()
