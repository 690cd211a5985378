"""The chat WebSocket under many open sockets: `message_received` (the ack) and `agent_response`
latency, against a bare echo consumer timed in the same run.

    .venv/bin/python bench/bench_chat.py [--sockets 300] [--messages 40] [--rate 2]

Starts on loopback: Redis (unless REDIS_URL is set: replies cross from the worker process to
daphne's through the channel layer, which needs a shared one), one daphne (bench/asgi.py: the
real routes plus /ws/echo/), and a Celery worker (thread pool), on a throwaway SQLite database
seeded with the demo (or DATABASE_URL).
1. Opens --sockets chat sockets, one per user of tenant acme (token auth), and keeps them open.
2. Baseline: --messages frames to the echo consumer at --rate per second, each timed until its
   echo comes back.
3. Chat: --messages questions (each in its own conversation, so that turns do not queue behind
   each other) at --rate per second, each timed until its `message_received`, and until its
   `agent_response` (the worker's turn: routing, the built-in agent, the policy, the push over
   Redis).
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
from bench.local import free_port, wait_http  # noqa: E402 (run as a script: the root first)


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


def prepare(sockets: int, messages: int) -> tuple[list[str], str, list[int], str]:
    """Users with tokens for the idle sockets, maya's token, her conversations, a question."""
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
    maya = User.objects.get(username="maya")
    conversations = [
        chat_conversation_create(user=maya, agent_type="seo_optimization").pk
        for _ in range(messages)
    ]
    ranking = KeywordRanking.objects.filter(tenant=tenant).order_by("-date", "-search_volume")[0]
    question = f"Where do we rank for {ranking.keyword}?"
    return idle, Token.objects.get_or_create(user=maya)[0].key, conversations, question


async def measure(
    base: str, idle_tokens: list[str], token: str, conversations: list[int], question: str,
    rate: float,
) -> dict[str, list[float]]:  # fmt: skip
    import aiohttp

    origin = base.replace("ws://", "http://")
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def connect(path: str, key: str | None) -> Any:
            headers = {"Authorization": f"Token {key}"} if key else {}
            return await session.ws_connect(base + path, headers=headers, origin=origin)

        idle = []
        for start in range(0, len(idle_tokens), 50):
            batch = idle_tokens[start : start + 50]
            idle += await asyncio.gather(*(connect("/ws/chat/", key) for key in batch))
        print(f"{len(idle)} idle chat sockets open")

        # Baseline: the bare echo consumer.
        echo = await connect("/ws/echo/", None)
        echoes: list[float] = []
        for n in range(len(conversations) + 5):
            started = time.perf_counter()
            await echo.send_str(json.dumps({"event": "echo", "n": n, "message": question}))
            await echo.receive()
            if n >= 5:  # the first few warm up
                echoes.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(1 / rate)
        await echo.close()

        # The chat: acks and agent responses, matched by message id.
        chat = await connect("/ws/chat/", token)
        sent_at: dict[str, float] = {}
        acked: dict[int, float] = {}
        ids: dict[str, int] = {}
        acks: list[float] = []
        replies: list[float] = []
        done = asyncio.Event()

        async def reader() -> None:
            while len(replies) < len(conversations):
                frame = json.loads((await chat.receive()).data)
                now = time.perf_counter()
                if frame["event"] == "message_received":
                    acks.append((now - sent_at[frame["client_id"]]) * 1000)
                    ids[frame["client_id"]] = frame["message_id"]
                    acked[frame["message_id"]] = sent_at[frame["client_id"]]
                elif frame["event"] == "agent_response":
                    started = acked.get(frame["message"]["reply_to"])
                    if started is not None:
                        replies.append((now - started) * 1000)
                elif frame["event"] == "error":
                    print("error frame:", frame)
            done.set()

        reading = asyncio.create_task(reader())
        for n, conversation_id in enumerate(conversations):
            client_id = f"bench-{os.getpid()}-{n:06d}"
            sent_at[client_id] = time.perf_counter()
            await chat.send_str(
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
        reading.cancel()
        await chat.close()
        await asyncio.gather(*(ws.close() for ws in idle))
    return {"echo": echoes, "ack": acks, "agent_response": replies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rate", type=float, default=2.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="engarde-bench-chat-"))
    for folder in ("broker/out", "broker/processed", "broker/control", "cache"):
        (workdir / folder).mkdir(parents=True)
    redis_process = None
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        redis_url, redis_process = start_redis(workdir)
    port = free_port()
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
    idle, token, conversations, question = prepare(args.sockets, args.messages)

    logs = workdir / "logs"
    logs.mkdir()
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "bench.asgi:application"],
            cwd=ROOT, env=env, stdout=(logs / "web.log").open("w"), stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "engarde", "worker", "--pool", "threads",
             "--concurrency", "4", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        results = asyncio.run(
            measure(f"ws://127.0.0.1:{port}", idle, token, conversations, question, args.rate)
        )
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
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        if redis_process is not None:
            redis_process.terminate()


if __name__ == "__main__":
    main()
