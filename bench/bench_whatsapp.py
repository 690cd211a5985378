"""WhatsApp webhook throughput against a bare DRF view, and a turn's end-to-end latency.

    .venv/bin/python bench/bench_whatsapp.py [--seconds 5] [--rate 2] [--turns 40]
        [--servers 1] [--workers 1]

Starts, on loopback: a fake Twilio, --servers daphne processes (each on its own port, sharing
the one PUBLIC_BASE_URL Twilio signs, as behind a load balancer) and --workers Celery workers
(SQLite and the filesystem broker of `make run`, in a throwaway directory, or
DATABASE_URL/REDIS_URL when set: `make bench` runs two of each on PostgreSQL and Redis).
1. Throughput: 4 client threads post for --seconds each, first to a bare DRF view that parses the
   same form, then to the signed webhook (a fresh MessageSid each time, for a mapped number: the
   message is stored and its turn enqueued), with no worker running yet: the webhook's own cost.
   Printed as requests/s and as a ratio. Then the workers start and the webhook is timed again
   while they answer every message on the same cores (where production has workers elsewhere).
2. Latency: --turns questions at --rate per second, each timed from the webhook's POST to the
   reply reaching the fake Twilio. Printed as p50 and p95.
Requests go to the servers in turn (round-robin), the baseline's as the webhook's.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.local import free_port, stack_describe, stack_start, stack_stop  # noqa: E402

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-0123456789"
NUMBER = "+14155550101"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--servers", type=int, default=1, help="daphne processes")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="engarde-bench-"))
    for folder in ("broker/out", "broker/processed", "broker/control", "cache"):
        (workdir / folder).mkdir(parents=True)
    ports = [free_port() for _ in range(args.servers)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    base = bases[0]  # the public URL, which Twilio signs

    from tests.channels_app.fake_twilio import FakeTwilio

    twilio = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"),
        "ENGARDE_VAR_DIR": str(workdir),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": "+14155238886",
        "TWILIO_API_BASE_URL": twilio.url,
        "PUBLIC_BASE_URL": base,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from twilio.request_validator import RequestValidator

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    logs = workdir / "logs"
    logs.mkdir()
    validator = RequestValidator(AUTH_TOKEN)
    counter = iter(range(10**9))
    rotation = iter(range(10**9))
    lock = threading.Lock()

    def signed(body: str) -> tuple[bytes, dict[str, str]]:
        with lock:
            n = next(counter)
        params = {
            "From": f"whatsapp:{NUMBER}",
            "To": "whatsapp:+14155238886",
            "Body": body,
            "MessageSid": f"SM{n:032d}",
            "AccountSid": ACCOUNT_SID,
            "NumMedia": "0",
        }
        url = base + "/api/v1/channels/whatsapp/webhook"
        headers = {
            "X-Twilio-Signature": validator.compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return urllib.parse.urlencode(params).encode(), headers

    def post(path: str, data: bytes, headers: dict[str, str]) -> int:
        with lock:
            server = bases[next(rotation) % len(bases)]
        request = urllib.request.Request(server + path, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    def throughput(path: str, make: object) -> float:
        done = [0]
        stop = time.monotonic() + args.seconds

        def client() -> None:
            while time.monotonic() < stop:
                data, headers = make()  # type: ignore[operator]
                assert post(path, data, headers) == 200
                with lock:
                    done[0] += 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return done[0] / (time.monotonic() - started)

    servers = []
    try:
        # The web servers first, alone: the webhook's own cost against the bare view's. Then the
        # workers, on the same two cores, answering every message the webhook takes.
        servers = stack_start(
            application="engarde.asgi:application", env=env, logs=logs, ports=ports, workers=0
        )
        print(stack_describe(args.servers, args.workers))
        form = urllib.parse.urlencode({"Body": "hi", "From": "x", "MessageSid": "y"}).encode()
        bare_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        webhook = "/api/v1/channels/whatsapp/webhook"
        throughput("/bench/bare", lambda: (form, bare_headers))  # warm up
        throughput(webhook, lambda: signed("hello there"))  # warm up (pools, caches)
        bare = throughput("/bench/bare", lambda: (form, bare_headers))
        hook = throughput(webhook, lambda: signed("hello there"))
        servers += stack_start(
            application="engarde.asgi:application", env=env, logs=logs, ports=[],
            workers=args.workers,
        )  # fmt: skip
        answered = throughput(webhook, lambda: signed("hello there"))
        print(f"bare DRF view:    {bare:8.1f} req/s")
        print(f"signed webhook:   {hook:8.1f} req/s  ({hook / bare:.2f} of the bare view)")
        print(
            f"  with the workers answering each message on the same cores: {answered:8.1f} req/s "
            f"({answered / bare:.2f})"
        )

        # Let the workers answer what the throughput runs enqueued before timing turns.
        from channels_app.models import Message, TurnState

        waiting = Message.objects.filter(
            direction=Message.Direction.INBOUND,
            turn_state__in=[TurnState.PENDING, TurnState.CLAIMED],
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and waiting.exists():
            time.sleep(1)
        time.sleep(2)  # the last replies' sends
        twilio.reset()
        started_at: dict[str, float] = {}
        # A question answered straight from the data: the turn ends with the agent's reply, not
        # with a holding message while an action waits for approval.
        from agents.models import KeywordRanking

        ranking = KeywordRanking.objects.filter(tenant__slug="acme").order_by(
            "-date", "-search_volume"
        )[0]
        question = f"Where do we rank for {ranking.keyword}?"
        for _ in range(args.turns):
            data, headers = signed(question)
            started_at[str(len(started_at))] = time.monotonic()
            assert post("/api/v1/channels/whatsapp/webhook", data, headers) == 200
            time.sleep(1 / args.rate)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(twilio.messages) < args.turns:
            time.sleep(0.1)
        arrivals = [m.request.received_at for m in twilio.messages]
        starts = sorted(started_at.values())
        latencies = sorted(
            (arrival - start) * 1000
            for start, arrival in zip(starts, sorted(arrivals), strict=False)
        )
        if len(latencies) < args.turns:
            print(f"only {len(latencies)} of {args.turns} replies arrived")
        if latencies:
            p95 = latencies[math.ceil(0.95 * len(latencies)) - 1]  # nearest rank
            print(
                f"turn end to end at {args.rate:g}/s ({len(latencies)} turns): "
                f"p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms"
            )
    finally:
        stack_stop(servers)
        twilio.stop()


if __name__ == "__main__":
    main()
