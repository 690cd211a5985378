"""The chat WebSocket under many open sockets: `message_received` (the ack) and `agent_response`
latency, against a bare echo consumer timed in the same run.

    .venv/bin/python bench/bench_chat.py [--sockets 300] [--messages 40] [--rate 2]
        [--servers 1] [--workers 1]

Starts on loopback: Redis (unless REDIS_URL is set: replies cross from the worker process to
daphne's through the channel layer, which needs a shared one), --servers daphne processes
(bench/asgi.py: the real routes plus /ws/echo/, each on its own port) and --workers Celery
workers (thread pool), on a throwaway SQLite database seeded with the demo (or DATABASE_URL:
`make bench` runs two of each on PostgreSQL). Sockets are spread over the servers in turn.
1. Opens --sockets chat sockets, one per user of tenant acme (token auth), and keeps them open.
2. Baseline: --messages frames to the echo consumer (one socket per server, used in turn) at
   --rate per second, each timed until its echo comes back.
3. Chat: --messages questions (each in its own conversation, so that turns do not queue behind
   each other) at --rate per second, each timed until its `message_received`, and until its
   `agent_response` (the worker's turn: routing, the built-in agent, the policy, the push over
   Redis). One sender per server (maya, then users of her tenant made for it), used in turn:
   a user's replies go to all of that user's sockets, so each sender has one.
Prints p50 and p95 of each, and each as a multiple of the echo's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.local import free_port, stack_describe, stack_start, stack_stop  # noqa: E402


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.95 * len(ordered)) - 1]


def start_redis(workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server), or set REDIS_URL")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"redis://127.0.0.1:{port}/0", process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def prepare(
    sockets: int, messages: int, senders: int
) -> tuple[list[str], list[str], list[int], str]:
    """Users with tokens for the idle sockets; the senders' tokens (maya first) and the
    conversations, the nth its sender's n % senders; a question."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from accounts.models import Tenant, User
    from agents.models import KeywordRanking
    from channels_app.chat.services import chat_conversation_create

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    tenant = Tenant.objects.get(slug="acme")
    idle = []
    for n in range(sockets):
        user, _ = User.objects.get_or_create(username=f"bench{n}", defaults={"tenant": tenant})
        idle.append(Token.objects.get_or_create(user=user)[0].key)
    users = [User.objects.get(username="maya")] + [
        User.objects.get_or_create(username=f"bench-sender{n}", defaults={"tenant": tenant})[0]
        for n in range(1, senders)
    ]
    conversations = [
        chat_conversation_create(user=users[n % senders], agent_type="seo_optimization").pk
        for n in range(messages)
    ]
    ranking = KeywordRanking.objects.filter(tenant=tenant).order_by("-date", "-search_volume")[0]
    question = f"Where do we rank for {ranking.keyword}?"
    tokens = [Token.objects.get_or_create(user=user)[0].key for user in users]
    return idle, tokens, conversations, question


async def measure(
    bases: list[str], idle_tokens: list[str], tokens: list[str], conversations: list[int],
    question: str, rate: float,
) -> dict[str, list[float]]:  # fmt: skip
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def connect(n: int, path: str, key: str | None) -> Any:
            """A socket to the nth server, in turn."""
            base = bases[n % len(bases)]
            headers = {"Authorization": f"Token {key}"} if key else {}
            origin = base.replace("ws://", "http://")
            return await session.ws_connect(base + path, headers=headers, origin=origin)

        idle = []
        for start in range(0, len(idle_tokens), 50):
            batch = enumerate(idle_tokens[start : start + 50], start)
            idle += await asyncio.gather(*(connect(n, "/ws/chat/", key) for n, key in batch))
        print(f"{len(idle)} idle chat sockets open")

        # Baseline: the bare echo consumer.
        echo = [await connect(n, "/ws/echo/", None) for n in range(len(bases))]
        echoes: list[float] = []
        for n in range(len(conversations) + 5):
            started = time.perf_counter()
            await echo[n % len(echo)].send_str(
                json.dumps({"event": "echo", "n": n, "message": question})
            )
            await echo[n % len(echo)].receive()
            if n >= 5:  # the first few warm up
                echoes.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*(ws.close() for ws in echo))

        # The chat: acks and agent responses, matched by message id.
        chats = [await connect(n, "/ws/chat/", token) for n, token in enumerate(tokens)]
        sent_at: dict[str, float] = {}
        acked: dict[int, float] = {}
        acks: list[float] = []
        replies: list[float] = []
        done = asyncio.Event()

        async def reader(chat: Any) -> None:
            while True:
                frame = json.loads((await chat.receive()).data)
                now = time.perf_counter()
                if frame["event"] == "message_received":
                    acks.append((now - sent_at[frame["client_id"]]) * 1000)
                    acked[frame["message_id"]] = sent_at[frame["client_id"]]
                elif frame["event"] == "agent_response":
                    started = acked.get(frame["message"]["reply_to"])
                    if started is not None:
                        replies.append((now - started) * 1000)
                        if len(replies) == len(conversations):
                            done.set()
                elif frame["event"] == "error":
                    print("error frame:", frame)

        reading = [asyncio.create_task(reader(chat)) for chat in chats]
        for n, conversation_id in enumerate(conversations):
            client_id = f"bench-{os.getpid()}-{n:06d}"
            sent_at[client_id] = time.perf_counter()
            await chats[n % len(chats)].send_str(
                json.dumps(
                    {
                        "event": "send_message",
                        "conversation_id": conversation_id,
                        "client_id": client_id,
                        "message": question,
                    }
                )
            )
            await asyncio.sleep(1 / rate)
        try:
            await asyncio.wait_for(done.wait(), timeout=180)
        except TimeoutError:
            print(f"only {len(replies)} of {len(conversations)} agent responses arrived")
        for task in reading:
            task.cancel()
        await asyncio.gather(*(chat.close() for chat in chats))
        await asyncio.gather(*(ws.close() for ws in idle))
    return {"echo": echoes, "ack": acks, "agent_response": replies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--servers", type=int, default=1, help="daphne processes")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="engarde-bench-chat-"))
    for folder in ("broker/out", "broker/processed", "broker/control", "cache"):
        (workdir / folder).mkdir(parents=True)
    redis_process = None
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        redis_url, redis_process = start_redis(workdir)
    ports = [free_port() for _ in range(args.servers)]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"),
        "REDIS_URL": redis_url,
        "ENGARDE_VAR_DIR": str(workdir),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The measured client sends --messages questions a run; the idle ones send nothing.
        "CHAT_MESSAGES_PER_MINUTE": "100000",
    }
    os.environ.update(env)
    import django

    django.setup()
    idle, tokens, conversations, question = prepare(args.sockets, args.messages, args.servers)

    logs = workdir / "logs"
    logs.mkdir()
    servers = []
    try:
        servers = stack_start(
            application="bench.asgi:application", env=env, logs=logs, ports=ports,
            workers=args.workers,
        )  # fmt: skip
        print(stack_describe(args.servers, args.workers))
        bases = [f"ws://127.0.0.1:{port}" for port in ports]
        results = asyncio.run(measure(bases, idle, tokens, conversations, question, args.rate))
        echo_p50, echo_p95 = percentiles(results["echo"])
        print(f"\n{args.sockets} open sockets, {args.messages} messages at {args.rate:g}/s")
        print(f"{'':16}{'p50':>10}{'p95':>10}{'p50 / echo':>12}{'p95 / echo':>12}")
        for name in ("echo", "ack", "agent_response"):
            if not results[name]:
                print(f"{name:16}  (none)")
                continue
            p50, p95 = percentiles(results[name])
            print(f"{name:16}{p50:8.1f}ms{p95:8.1f}ms{p50 / echo_p50:12.1f}{p95 / echo_p95:12.1f}")
        print(f"(logs in {logs})")
    finally:
        stack_stop(servers)
        if redis_process is not None:
            redis_process.terminate()


if __name__ == "__main__":
    main()
