"""A local HTTP server that answers like Langflow's run endpoint, for tests of the real client.

    with FakeLangflow(api_key="sk-test") as fake:
        fake.script(FakeResponse(status=503), FakeResponse(body=run_response("Hi")))
        ...  # point LANGFLOW_API_URL at fake.url and run the backend
        assert len(fake.requests) == 2

It listens on 127.0.0.1 on a free port and answers `POST /api/v1/run/<flow_id>` as Langflow
does: 403 with FastAPI's `{"detail": ...}` when the `x-api-key` header (or query parameter) is
missing or wrong, 404 for a flow it does not know (when given `flows`), otherwise the next
scripted response, or a documented RunResponse echoing the input when the script is empty.
Every request is recorded (method, path, query, headers, JSON body), including refused ones.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import FakeServer

RUN_PREFIX = "/api/v1/run/"


@dataclass(frozen=True)
class FakeResponse:
    """One scripted answer. `body`: a dict or list is sent as JSON, a str or bytes as is, None
    means a documented RunResponse. `delay` waits before the status line (a read timeout on the
    client); `body_delay` sends the headers, then waits before the body."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body_delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lowercased
    body: Any  # the parsed JSON, or None when the body was not JSON
    raw_body: bytes

    @property
    def flow_id(self) -> str:
        return self.path.removeprefix(RUN_PREFIX) if self.path.startswith(RUN_PREFIX) else ""


def run_response(
    text: str,
    *,
    session_id: str = "session-1",
    input_value: str = "",
    flow_id: str = "flow-1",
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A RunResponse as Langflow's docs show it for a flow ending in a Chat Output; `usage` goes
    where recent versions put it (`message.properties.usage`)."""
    properties: dict[str, Any] = {
        "source": {"id": "OpenAIModel-d1wOZ", "display_name": "OpenAI", "source": "gpt-4o-mini"},
        "icon": "OpenAI",
    }
    if usage is not None:
        properties["usage"] = usage
    return {
        "session_id": session_id,
        "outputs": [
            {
                "inputs": {"input_value": input_value},
                "outputs": [
                    {
                        "results": {
                            "message": {
                                "text": text,
                                "sender": "Machine",
                                "sender_name": "AI",
                                "session_id": session_id,
                                "timestamp": "2025-03-03T17:17:37+00:00",
                                "flow_id": flow_id,
                                "properties": properties,
                                "component_id": "ChatOutput-ylMzN",
                            }
                        }
                    }
                ],
            }
        ],
    }


class FakeLangflow(FakeServer):
    def __init__(self, *, api_key: str | None = "sk-test", flows: set[str] | None = None) -> None:
        """`api_key=None` turns authentication off; `flows=None` accepts any flow id."""
        super().__init__()
        self.api_key = api_key
        self.flows = flows
        self.requests: list[RecordedRequest] = []
        self._script: deque[FakeResponse] = deque()
        self._lock = threading.Lock()

    def script(self, *responses: FakeResponse) -> None:
        """Queue answers for the next requests that pass authentication, in order."""
        with self._lock:
            self._script.extend(responses)

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self) -> FakeResponse | None:
        with self._lock:
            return self._script.popleft() if self._script else None


def _handler_for(fake: FakeLangflow) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = RecordedRequest(
                method="POST",
                path=split.path,
                query=query,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                raw_body=raw,
            )
            fake._record(request)

            if not split.path.startswith(RUN_PREFIX) or not request.flow_id:
                self._send(FakeResponse(status=404, body={"detail": "Not Found"}))
                return
            if fake.api_key is not None:
                given = self.headers.get("x-api-key") or (query.get("x-api-key") or [""])[0]
                if not given:
                    detail = "An API key must be passed as query or header"
                    self._send(FakeResponse(status=403, body={"detail": detail}))
                    return
                if given != fake.api_key:
                    self._send(
                        FakeResponse(status=403, body={"detail": "Invalid or missing API key"})
                    )
                    return
            if fake.flows is not None and request.flow_id not in fake.flows:
                detail = f"Flow identifier {request.flow_id} not found"
                self._send(FakeResponse(status=404, body={"detail": detail}))
                return

            scripted = fake._next() or FakeResponse()
            if scripted.body is None and 200 <= scripted.status < 300:
                input_value = body.get("input_value", "") if isinstance(body, dict) else ""
                session_id = body.get("session_id") if isinstance(body, dict) else None
                echo = run_response(
                    f"Echo: {input_value}",
                    session_id=session_id or request.flow_id,
                    input_value=input_value,
                    flow_id=request.flow_id,
                )
                scripted = FakeResponse(
                    status=scripted.status,
                    body=echo,
                    headers=scripted.headers,
                    delay=scripted.delay,
                    body_delay=scripted.body_delay,
                )
            self._send(scripted)

        def do_GET(self) -> None:
            fake._record(
                RecordedRequest(
                    method="GET",
                    path=urlsplit(self.path).path,
                    query=parse_qs(urlsplit(self.path).query),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=None,
                    raw_body=b"",
                )
            )
            # Langflow's run endpoint only takes POST.
            self._send(FakeResponse(status=405, body={"detail": "Method Not Allowed"}))

        def _send(self, response: FakeResponse) -> None:
            if fake._pause(response.delay):
                return
            if isinstance(response.body, bytes):
                payload, content_type = response.body, "application/octet-stream"
            elif isinstance(response.body, str):
                payload, content_type = response.body.encode(), "text/html; charset=utf-8"
            elif response.body is None:
                payload, content_type = b"", "application/json"
            else:
                payload, content_type = json.dumps(response.body).encode(), "application/json"
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
                if fake._pause(response.body_delay):
                    return
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout): what a real server sees too.
                return

        def log_message(self, format: str, *args: Any) -> None:
            # Keep test output clean; the recorded requests are the log.
            return

    return Handler
