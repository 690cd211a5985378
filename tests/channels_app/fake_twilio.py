"""A local HTTP server that answers like Twilio's Messages API, for tests of the real SDK.

    with FakeTwilio() as fake, override_settings(**fake.settings()):
        fake.script(twilio_error(500), FakeResponse(status=201))
        ...  # send through the real twilio SDK (WhatsAppTransport points it at fake.url)
        assert len(fake.requests) == 2
        assert fake.messages[0].to == "whatsapp:+14155550100"

or, in pytest, the `fake_twilio` fixture (import it into the test module or a conftest).

It listens on 127.0.0.1 on a free port and answers as the twilio Python SDK 9.x calls it:

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded (To, From, Body,
  MediaUrl repeated, ContentSid, ContentVariables, StatusCallback, ...), HTTP Basic auth with
  AccountSid:AuthToken. A wrong or missing login gets 401 with Twilio's error JSON (code 20003);
  another account's path gets 404 (20404); a missing To (21604), From (21603) or content (21619)
  gets 400 like Twilio's. Otherwise the next scripted response (the recipient's own script
  first, `script_to`), or 201 with the documented message resource (`sid` "SM" + 32 hex,
  `status` "queued", ...).
- `GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`: a message created here, or 404.

Scripted responses replace the answer for the next authenticated requests, in order; a 2xx
without a body gets the documented message resource (and counts as a sent message), a 4xx or 5xx
without a body Twilio's error JSON. Every
request is recorded (method, path, form fields with every key a list, lowercased headers, the
Basic auth pair, when it arrived), including refused ones.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fake_server import FakeServer

API_VERSION = "2010-04-01"
TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
# Twilio's WhatsApp sandbox number: what the docs use in every example.
TEST_WHATSAPP_NUMBER = "+14155238886"


@dataclass(frozen=True)
class FakeResponse:
    """One scripted answer. `body`: a dict or list is sent as JSON, a str or bytes as is; None
    means the documented message resource for a 2xx and an empty body otherwise. `delay` waits
    before the status line (a read timeout on the client). `drop` closes the connection without
    answering (a network error the client sees mid-request)."""

    status: int = 201
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


def twilio_error(
    status: int,
    code: int | None = None,
    message: str = "",
    *,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> FakeResponse:
    """Twilio's error JSON: `{"code", "message", "more_info", "status"}`; `code` defaults to
    the HTTP status, as the SDK does when Twilio sends none."""
    code = status if code is None else code
    body = {
        "code": code,
        "message": message or f"HTTP {status}",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return FakeResponse(status=status, body=body, headers=headers or {}, delay=delay)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]  # every key a list, so a repeated MediaUrl keeps all its values
    headers: dict[str, str]  # names lowercased
    raw_body: bytes
    basic_auth: tuple[str, str] | None  # (username, password) when Basic auth was sent
    received_at: float  # time.monotonic(), to measure the waits between attempts

    def get(self, name: str, default: str | None = None) -> str | None:
        """The last value of a form field, like Django's QueryDict."""
        values = self.form.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.form.get(name, []))


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted (answered 2xx), with what was asked and what it answered."""

    sid: str
    request: RecordedRequest
    resource: dict[str, Any]

    def get(self, name: str, default: str | None = None) -> str | None:
        """A form field of the create, as sent (`sent.get("Body")`)."""
        return self.request.get(name, default)

    def __getitem__(self, name: str) -> str:
        value = self.request.get(name)
        if value is None:
            raise KeyError(name)
        return value

    @property
    def to(self) -> str | None:
        return self.request.get("To")

    @property
    def from_(self) -> str | None:
        return self.request.get("From")

    @property
    def body(self) -> str | None:
        return self.request.get("Body")

    @property
    def media_urls(self) -> list[str]:
        return self.request.getlist("MediaUrl")

    @property
    def content_sid(self) -> str | None:
        return self.request.get("ContentSid")

    @property
    def content_variables(self) -> dict[str, Any] | None:
        raw = self.request.get("ContentVariables")
        return json.loads(raw) if raw else None

    @property
    def status_callback(self) -> str | None:
        return self.request.get("StatusCallback")


def message_resource(
    *,
    account_sid: str,
    to: str,
    from_: str,
    body: str = "",
    num_media: int = 0,
    sid: str | None = None,
    status: str = "queued",
) -> dict[str, Any]:
    """The message resource as Twilio documents the answer to a create."""
    sid = sid or "SM" + secrets.token_hex(16)
    now = format_datetime(datetime.now(UTC))
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": None,
        "num_media": str(num_media),
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to,
        "uri": f"{uri}.json",
    }


class FakeTwilio(FakeServer):
    def __init__(
        self, *, account_sid: str = TEST_ACCOUNT_SID, auth_token: str = TEST_AUTH_TOKEN
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[RecordedRequest] = []
        self.messages: list[SentMessage] = []
        self._script: deque[FakeResponse] = deque()
        self._scripts_to: dict[str, deque[FakeResponse]] = {}
        self._lock = threading.Lock()

    def script(self, *responses: FakeResponse | int | tuple[Any, ...]) -> None:
        """Queue answers for the next authenticated requests, in order. Each is a FakeResponse,
        a bare status (`500`), or a tuple `(status, body, headers, delay)` cut anywhere after
        the status. A 4xx or 5xx without a body gets Twilio's error JSON for that status."""
        with self._lock:
            self._script.extend(_scripted(response) for response in responses)

    def script_to(self, to: str, *responses: FakeResponse | int | tuple[Any, ...]) -> None:
        """Queue answers, as `script` does, for the next requests to one recipient (`To`, as
        "whatsapp:+14155550101"), ahead of the shared script: what each of several concurrent
        senders is answered then does not depend on which of them asks first."""
        with self._lock:
            queue = self._scripts_to.setdefault(to, deque())
            queue.extend(_scripted(response) for response in responses)

    def reset(self) -> None:
        """Forget recorded requests, sent messages and any unused script."""
        with self._lock:
            self.requests.clear()
            self.messages.clear()
            self._script.clear()
            self._scripts_to.clear()

    def settings(self) -> dict[str, Any]:
        """The Twilio settings that point the app at this server, for `override_settings`."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_WHATSAPP_NUMBER": TEST_WHATSAPP_NUMBER,
            "TWILIO_API_BASE_URL": self.url,
        }

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def messages_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_sent(self, message: SentMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def _find_sent(self, sid: str) -> SentMessage | None:
        with self._lock:
            return next((m for m in self.messages if m.sid == sid), None)

    def _next(self, to: str | None = None) -> FakeResponse | None:
        with self._lock:
            own = self._scripts_to.get(to or "")
            if own:
                return own.popleft()
            return self._script.popleft() if self._script else None


def _scripted(response: FakeResponse | int | tuple[Any, ...]) -> FakeResponse:
    if isinstance(response, int):
        response = FakeResponse(status=response)
    elif isinstance(response, tuple):
        status, body, headers, delay = (*response, None, None, None)[:4]
        response = FakeResponse(status=status, body=body, headers=headers or {}, delay=delay or 0)
    if response.body is None and response.status >= 400:
        error = twilio_error(response.status)
        response = replace(response, body=error.body)
    return response


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except ValueError:
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _content_error(request: RecordedRequest) -> FakeResponse | None:
    """The 400s Twilio gives a create missing what every message needs."""
    if not request.get("To"):
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not request.get("From") and not request.get("MessagingServiceSid"):
        return twilio_error(400, 21603, "A 'From' phone number is required.")
    if not (request.get("Body") or request.getlist("MediaUrl") or request.get("ContentSid")):
        return twilio_error(400, 21619, "A text message body or media urls must be specified.")
    return None


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    accounts_prefix = f"/{API_VERSION}/Accounts/"

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive as Twilio does, so the SDK's pooled session is exercised as in production.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._handle("POST")

        def do_GET(self) -> None:
            self._handle("GET")

        def _handle(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            request = RecordedRequest(
                method=method,
                path=split.path,
                form=form,
                headers={name.lower(): value for name, value in self.headers.items()},
                raw_body=raw,
                basic_auth=_basic_auth(self.headers.get("Authorization")),
                received_at=time.monotonic(),
            )
            fake._record(request)

            if request.basic_auth != (fake.account_sid, fake.auth_token):
                error = twilio_error(401, 20003, "Authenticate")
                body = {**error.body, "detail": "Your AccountSid or AuthToken was incorrect."}
                headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
                self._send(FakeResponse(status=401, body=body, headers=headers))
                return
            account_path = split.path.removeprefix(accounts_prefix)
            account, _, rest = account_path.partition("/")
            if not split.path.startswith(accounts_prefix) or account != fake.account_sid:
                self._send(
                    twilio_error(404, 20404, f"The requested resource {split.path} was not found")
                )
                return

            if method == "GET":
                self._get_message(rest)
                return
            if rest != "Messages.json":
                self._send(
                    twilio_error(404, 20404, f"The requested resource {split.path} was not found")
                )
                return

            scripted = fake._next(request.get("To"))
            if scripted is None:
                scripted = _content_error(request) or FakeResponse(status=201)
            if scripted.body is None and 200 <= scripted.status < 300:
                resource = message_resource(
                    account_sid=fake.account_sid,
                    to=request.get("To") or "",
                    from_=request.get("From") or "",
                    body=request.get("Body") or "",
                    num_media=len(request.getlist("MediaUrl")),
                )
                scripted = FakeResponse(
                    status=scripted.status,
                    body=resource,
                    headers=scripted.headers,
                    delay=scripted.delay,
                    drop=scripted.drop,
                )
            accepted = None
            if 200 <= scripted.status < 300:
                body = scripted.body if isinstance(scripted.body, dict) else {}
                accepted = SentMessage(sid=str(body.get("sid", "")), request=request, resource=body)
            self._send(scripted, accepted=accepted)

        def _get_message(self, rest: str) -> None:
            sid = rest.removeprefix("Messages/").removesuffix(".json")
            sent = fake._find_sent(sid) if rest.startswith("Messages/") else None
            if sent is None:
                resource = f"/{API_VERSION}/Accounts/{fake.account_sid}/{rest}"
                self._send(
                    twilio_error(404, 20404, f"The requested resource {resource} was not found")
                )
                return
            self._send(FakeResponse(status=200, body=sent.resource))

        def _send(self, response: FakeResponse, *, accepted: SentMessage | None = None) -> None:
            """Answer. `accepted` is recorded as sent once the delay is over and before the
            answer goes out, as Twilio has created the message by then: a client that reads the
            answer finds it in `fake.messages`, and one that timed out has sent it anyway."""
            if fake._pause(response.delay):
                return
            if response.drop:
                self.close_connection = True
                return
            if accepted is not None:
                fake._record_sent(accepted)
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
                self.wfile.write(payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout): what a real server sees too.
                return

        def log_message(self, format: str, *args: Any) -> None:
            # Keep test output clean; the recorded requests are the log.
            return

    return Handler
