"""Website chat under load: open WebSocket chats one API process holds, and message round trips.

Opens N concurrent chat connections (default 2,000) to one `omnidesk api` process (SQLite and an
embedded Redis in a temporary directory, as `omnidesk up`), then, with all of them open, times
  - send → ack: a visitor's message until the desk's `ack` (the message is stored by then), and
  - reply → received: an agent's reply published to the desk's chat fan-out until the visitor's
    socket has it (what `send()` of the webchat connector does for a reply from the inbox).
The same run repeats both against a raw Starlette/uvicorn WebSocket server (echo for the ack,
Redis pub/sub forwarding for the reply) and prints the ratios. Round trips start at a steady
`--rate` per second over distinct chats (visitors do not wait for each other). Opening a chat
is `POST /session` then the socket for omnidesk, the socket alone for the raw server.

    python benchmarks/webchat.py [--connections 2000] [--messages 1000] [--rate 25]

No worker runs: the acks come from the API process itself, and the replies are published
directly, so the figures are the chat transport's, not the bot's or the pipeline's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnidesk.embedded import EmbeddedRedis  # noqa: E402

CONNECTOR = "tp-web"
ORIGIN = "https://shop.bench.example"
BASELINE_CHANNEL = "bench:webchat:"
TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files_limit(wanted: int) -> int:
    """Lift the soft limit on open files (inherited by the servers we start) toward `wanted`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


# -- the client side: N sockets, each with a reader that resolves waiting round trips -----------


@dataclass
class Chat:
    """One visitor's open socket; `waiting` maps a client_id or reply text to its future."""

    token: str
    ws: object = None
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:  # type: ignore[attr-defined]
                frame = json.loads(raw)
                key = frame.get("client_id") if frame.get("type") == "ack" else frame.get("text")
                future = self.waiting.pop(key, None) if key else None
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
        except ConnectionClosed:
            return


@dataclass
class Target:
    """A server under test: how to get a token, where to connect, how to publish a reply."""

    name: str
    http: str
    ws_url: Callable[[str], str]
    new_token: Callable[[httpx.AsyncClient], Awaitable[str]]
    publish: Callable[[Chat, str], Awaitable[None]]
    pid: int
    # Before the reply round trips are timed: make what `publish` will announce (desk rows).
    prepare: Callable[[list[tuple[Chat, str]]], None] = lambda jobs: None


async def open_chats(target: Target, count: int, parallel: int) -> tuple[list[Chat], float]:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(parallel)
    limits = httpx.Limits(max_connections=parallel)

    async def one(client: httpx.AsyncClient) -> Chat:
        async with gate:
            chat = Chat(await target.new_token(client))
            chat.ws = await connect(
                target.ws_url(chat.token), origin=ORIGIN, open_timeout=120, ping_interval=None,
                max_queue=None,
            )  # fmt: skip
            asyncio.get_running_loop().create_task(chat.read())
            return chat

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=target.http, timeout=120, limits=limits) as client:
        chats = await asyncio.gather(*(one(client) for _ in range(count)))
    return list(chats), time.perf_counter() - started


async def round_trips(
    jobs: list[tuple[Chat, str]], rate: float, start: Callable[[Chat, str], Awaitable[None]]
) -> list[float]:
    """One round trip per (chat, key) job, started `rate` per second (open loop, like visitors
    who do not wait for each other); latencies in ms."""
    loop = asyncio.get_running_loop()

    async def one(n: int, chat: Chat, key: str) -> float:
        await asyncio.sleep(n / rate)
        future: asyncio.Future[float] = loop.create_future()
        chat.waiting[key] = future
        began = time.perf_counter()
        await start(chat, key)
        try:
            done = await asyncio.wait_for(future, TIMEOUT_SECONDS)
        except TimeoutError:
            return math.inf  # never answered: counted apart, not in the percentiles
        return (done - began) * 1000

    return list(await asyncio.gather(*(one(n, c, k) for n, (c, k) in enumerate(jobs))))


def jobs_for(chats: list[Chat], count: int, kind: str) -> list[tuple[Chat, str]]:
    """`count` round trips spread over the chats, each with its own key."""
    return [(chats[n % len(chats)], f"{kind}-{uuid.uuid4().hex}") for n in range(count)]


async def send_message(chat: Chat, client_id: str) -> None:
    frame = {"type": "message", "client_id": client_id, "text": f"压测消息 {client_id[-12:]}",
             "attachment_id": None}  # fmt: skip
    await chat.ws.send(json.dumps(frame, ensure_ascii=False))  # type: ignore[attr-defined]


async def measure(target: Target, args: argparse.Namespace) -> dict[str, float]:
    chats, opening = await open_chats(target, args.connections, args.parallel_connects)
    try:
        await asyncio.sleep(1)  # let the server settle after the connection burst
        memory = rss_mb(target.pid)
        acks = await round_trips(jobs_for(chats, args.messages, "m"), args.rate, send_message)
        replies = jobs_for(chats, args.messages, "回复")
        await asyncio.to_thread(target.prepare, replies)
        replies_ms = await round_trips(replies, args.rate, target.publish)
        alive = sum(1 for c in chats if c.ws.state.name == "OPEN")  # type: ignore[attr-defined]
    finally:
        await asyncio.gather(*(c.ws.close() for c in chats), return_exceptions=True)  # type: ignore[attr-defined]
    return {"open": opening, "alive": alive, "rss": memory, **pcts("ack", acks),
            **pcts("reply", replies_ms)}  # fmt: skip


def pcts(name: str, values: list[float]) -> dict[str, float]:
    answered = sorted(v for v in values if v != math.inf)
    if not answered:
        answered = [math.nan]
    return {
        f"{name}_p50": statistics.median(answered),
        f"{name}_p99": answered[max(0, int(len(answered) * 0.99) - 1)],
        f"{name}_lost": float(len(values) - len(answered)),
    }


# -- omnidesk -----------------------------------------------------------------------------------


def omnidesk_config(path: Path) -> None:
    """One webchat connector; the flood limits lifted, since every visitor here is 127.0.0.1."""
    path.write_text(f"""
[[connectors]]
name = "{CONNECTOR}"
channel = "webchat"
allowed_origins = ["{ORIGIN}"]
visitor_messages_per_minute = 1000000
ip_messages_per_minute = 1000000
ip_sessions_per_minute = 1000000
""")


def omnidesk_target(env: dict[str, str], port: int, proc: subprocess.Popen) -> Target:
    import redis

    from connectors.webchat import hub

    http = f"http://127.0.0.1:{port}"
    base = f"/webchat/{CONNECTOR}"
    visitors: dict[str, str] = {}  # token → the visitor's address
    rows: dict[str, int] = {}  # reply text → its message row
    client = redis.Redis.from_url(env["OMNIDESK_REDIS_URL"])

    async def new_token(http_client: httpx.AsyncClient) -> str:
        body = {"visitor_token": None, "language": "zh", "page_url": f"{ORIGIN}/"}
        for attempt in range(3):
            try:
                response = await http_client.post(
                    f"{base}/session", json=body, headers={"Origin": ORIGIN}
                )
                break
            except httpx.TransportError:  # a kept-alive connection the server just closed
                if attempt == 2:
                    raise
        response.raise_for_status()
        body = response.json()
        visitors[body["visitor_token"]] = body["visitor_id"]
        return str(body["visitor_token"])

    def prepare(jobs: list[tuple[Chat, str]]) -> None:
        rows.update(write_replies(env, [(visitors[chat.token], text) for chat, text in jobs]))

    async def publish(chat: Chat, text: str) -> None:
        # What WebchatConnector.send does once the send worker has the reply row.
        notice = {"type": "message", "id": rows[text]}
        await asyncio.to_thread(hub.publish, client, CONNECTOR, visitors[chat.token], notice)

    def ws_url(token: str) -> str:
        return f"ws://127.0.0.1:{port}{base}/ws?token={token}"

    return Target("omnidesk", http, ws_url, new_token, publish, proc.pid, prepare)


def write_replies(env: dict[str, str], replies: list[tuple[str, str]]) -> dict[str, int]:
    """Agent replies as the inbox stores them (sent rows to each visitor); text → row id."""
    from sqlmodel import select

    from omnidesk.db import unit_of_work
    from omnidesk.models import ConnectorRecord, DeliveryStatus, Direction, Message, utcnow
    from omnidesk.settings import Settings

    os.environ.update(env)
    with unit_of_work(Settings()) as session:
        connector = session.exec(
            select(ConnectorRecord).where(ConnectorRecord.name == CONNECTOR)
        ).one()
        made = [
            Message(connector_id=connector.id, channel="webchat", direction=Direction.OUTBOUND,
                    kind="reply", author="bench-agent", recipient=address, text=text,
                    status=DeliveryStatus.SENT, sent_at=utcnow())
            for address, text in replies
        ]  # fmt: skip
        session.add_all(made)
        session.flush()
        return {m.text: int(m.id) for m in made}  # type: ignore[arg-type]


def start_omnidesk(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**env, "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    omnidesk = [sys.executable, "-m", "omnidesk"]
    subprocess.run([*omnidesk, "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*omnidesk, "api", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc, port


# -- the raw baseline: Starlette + uvicorn, echo and Redis pub/sub forwarding --------------------


def baseline_app(redis_url: str):  # pragma: no cover - runs in the child process
    """A bare chat server: acks every message by echoing its client_id; forwards published
    frames from Redis channel `bench:webchat:<token>` to that token's socket."""
    import redis.asyncio as aioredis
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute

    sockets: dict[str, object] = {}

    async def forward() -> None:
        pubsub = aioredis.Redis.from_url(redis_url).pubsub()
        await pubsub.psubscribe(f"{BASELINE_CHANNEL}*")
        async for item in pubsub.listen():
            if item["type"] != "pmessage":
                continue
            ws = sockets.get(item["channel"].decode()[len(BASELINE_CHANNEL) :])
            if ws is not None:
                await ws.send_text(item["data"].decode())  # type: ignore[attr-defined]

    async def chat(websocket) -> None:
        token = websocket.query_params["token"]
        await websocket.accept()
        sockets[token] = websocket
        try:
            while True:
                frame = json.loads(await websocket.receive_text())
                if frame.get("type") == "message":
                    ack = {"type": "ack", "client_id": frame["client_id"], "id": "x", "seq": 0}
                    await websocket.send_text(json.dumps(ack))
        except Exception:  # noqa: BLE001 - the visitor went away
            sockets.pop(token, None)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        task = asyncio.get_running_loop().create_task(forward())
        yield
        task.cancel()

    return Starlette(routes=[WebSocketRoute("/ws", chat)], lifespan=lifespan)


def serve_baseline(port: int, redis_url: str) -> None:  # pragma: no cover - child process
    import uvicorn

    uvicorn.run(baseline_app(redis_url), host="127.0.0.1", port=port, log_level="warning")


def baseline_target(redis_url: str, port: int, proc: subprocess.Popen) -> Target:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)

    async def new_token(_client: httpx.AsyncClient) -> str:
        return uuid.uuid4().hex

    async def publish(chat: Chat, text: str) -> None:
        frame = {"type": "message", "from": "agent", "text": text}
        await client.publish(f"{BASELINE_CHANNEL}{chat.token}", json.dumps(frame))

    http = f"http://127.0.0.1:{port}"
    return Target(
        "raw", http, lambda t: f"ws://127.0.0.1:{port}/ws?token={t}", new_token, publish, proc.pid
    )


def start_baseline(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    code = f"import sys; sys.argv = ['x']; from webchat import serve_baseline; serve_baseline({port}, {env['OMNIDESK_REDIS_URL']!r})"  # noqa: E501
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**env, "PYTHONPATH": str(Path(__file__).parent)}
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the baseline server did not come up") from None
            time.sleep(0.1)


# -- main ---------------------------------------------------------------------------------------


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def report(args: argparse.Namespace, ours: dict[str, float], raw: dict[str, float]) -> None:
    print(
        f"connections: {args.connections} open at once, {args.messages} round trips per row, "
        f"{args.rate:g} started per second; one server process each; open files {args.nofile}"
    )
    print(f"held open at the end: omnidesk {ours['alive']:.0f}, raw {raw['alive']:.0f}")
    print(f"{'':28}{'omnidesk':>12}{'raw':>12}{'ratio':>9}")
    rows = [
        ("open all chats (s)", "open"),
        ("server RSS, all open (MB)", "rss"),
        ("send → ack p50 (ms)", "ack_p50"),
        ("send → ack p99 (ms)", "ack_p99"),
        (f"no ack within {TIMEOUT_SECONDS} s", "ack_lost"),
        ("reply → received p50 (ms)", "reply_p50"),
        ("reply → received p99 (ms)", "reply_p99"),
        (f"reply not received in {TIMEOUT_SECONDS} s", "reply_lost"),
    ]
    for label, key in rows:
        ratio = f"{ours[key] / raw[key]:9.2f}" if raw[key] else f"{'-':>9}"
        print(f"{label:28}{ours[key]:12.1f}{raw[key]:12.1f}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25, help="round trips started per second")
    parser.add_argument("--parallel-connects", type=int, default=50)
    args = parser.parse_args()
    args.nofile = raise_open_files_limit(2 * args.connections + 1024)

    tmp = Path(tempfile.mkdtemp(prefix="omnidesk-bench-webchat-"))
    embedded = EmbeddedRedis(tmp).start()
    config = tmp / "omnidesk.toml"
    omnidesk_config(config)
    env = {
        **os.environ,
        "OMNIDESK_DATA_DIR": str(tmp / "var"),
        "OMNIDESK_CONFIG": str(config),
        "OMNIDESK_REDIS_URL": embedded.url,
        "OMNIDESK_LOG_LEVEL": "WARNING",
        "OMNIDESK_LOG_FORMAT": "json",
    }
    os.environ["OMNIDESK_REDIS_URL"] = embedded.url
    try:
        proc, port = start_omnidesk(env)
        try:
            ours = asyncio.run(measure(omnidesk_target(env, port, proc), args))
        finally:
            stop(proc)
        proc, port = start_baseline(env)
        try:
            raw = asyncio.run(measure(baseline_target(embedded.url, port, proc), args))
        finally:
            stop(proc)
    finally:
        embedded.stop()
    report(args, ours, raw)


if __name__ == "__main__":
    main()
