"""A local HTTP server that answers like SendGrid's v3 Mail Send API and Mailgun's Messages API,
for tests of anymail's real backends (and our failover between them).

    with FakeESP() as esp, override_settings(**esp.settings()):
        esp.script("sendgrid", 503)
        ...  # send: SendGrid answers 503, Mailgun takes it
        assert esp.sent[0].esp == "mailgun"

- SendGrid: `POST /v3/mail/send`, JSON, `Authorization: Bearer <key>`. A wrong key gets 401
  `{"errors": [{"message": "The provided authorization grant is invalid, expired, or
  revoked"}]}`; a recipient in `rejects` gets 400 `{"errors": [{"message": "Does not contain a
  valid address.", "field": "personalizations.0.to.0.email"}]}`; otherwise 202 with an empty
  body and an `X-Message-Id` header, as SendGrid answers.
- Mailgun: `POST /v3/<domain>/messages`, form-encoded or multipart, Basic auth `api:<key>`. A
  wrong key gets 401 "Forbidden"; an unknown domain 404 `{"message": "Domain not found:
  ..."}`; a recipient in `rejects` 400 `{"message": "to parameter is not a valid address.
  please check documentation"}`; otherwise 200 `{"id": "<...@domain>", "message": "Queued.
  Thank you."}`.

`script(esp, *statuses)` replaces the next answers of one ESP (a 5xx gets the ESP's error body).
Every request is recorded, refused ones included.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fake_server import FakeServer

SENDGRID_KEY = "SG.fake-key-for-tests"
MAILGUN_KEY = "key-fake-for-tests"
MAILGUN_DOMAIN = "mg.engarde.example"


@dataclass(frozen=True)
class Received:
    esp: str
    path: str
    headers: dict[str, str]
    status: int  # what the fake answered
    json: Any = None  # SendGrid's body
    form: dict[str, list[str]] = field(default_factory=dict)  # Mailgun's fields

    @property
    def to(self) -> list[str]:
        if self.esp == "sendgrid":
            return [r["email"] for p in self.json["personalizations"] for r in p.get("to", [])]
        return self.form.get("to", [])

    @property
    def subject(self) -> str:
        if self.esp == "sendgrid":
            return self.json["subject"]
        return self.form["subject"][0]

    def header(self, name: str) -> str | None:
        """An email header the ESP was asked to set."""
        if self.esp == "sendgrid":
            return (self.json.get("headers") or {}).get(name)
        values = self.form.get(f"h:{name}")
        return values[0] if values else None

    @property
    def metadata(self) -> dict[str, str]:
        if self.esp == "sendgrid":
            # Message-wide custom_args, then the recipient's (anymail puts its id there).
            found = dict(self.json.get("custom_args") or {})
            for personalization in self.json["personalizations"]:
                found.update(personalization.get("custom_args") or {})
            return found
        return {k[2:]: v[0] for k, v in self.form.items() if k.startswith("v:")}

    @property
    def html(self) -> str:
        if self.esp == "sendgrid":
            return next(c["value"] for c in self.json["content"] if c["type"] == "text/html")
        return self.form["html"][0]


class FakeESP(FakeServer):
    def __init__(self, *, rejects: set[str] | None = None) -> None:
        super().__init__()
        self.rejects = {address.lower() for address in rejects or set()}
        self.received: list[Received] = []
        self._scripts: dict[str, deque[int]] = defaultdict(deque)
        self._lock = threading.Lock()

    def settings(self, **anymail: Any) -> dict[str, Any]:
        return {
            "EMAIL_ESP": "sendgrid",
            "EMAIL_BACKUP_ESP": "mailgun",
            "ANYMAIL": {
                "SENDGRID_API_KEY": SENDGRID_KEY,
                "SENDGRID_API_URL": f"{self.url}/v3/",
                "MAILGUN_API_KEY": MAILGUN_KEY,
                "MAILGUN_API_URL": f"{self.url}/v3",
                "MAILGUN_SENDER_DOMAIN": MAILGUN_DOMAIN,
                "REQUESTS_TIMEOUT": 5,
                **anymail,
            },
        }

    def script(self, esp: str, *statuses: int) -> None:
        with self._lock:
            self._scripts[esp].extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._scripts.clear()

    def of(self, esp: str) -> list[Received]:
        return [r for r in self.received if r.esp == esp]

    @property
    def sent(self) -> list[Received]:
        """The requests the fake accepted."""
        return [r for r in self.received if r.status < 300]

    def _next(self, esp: str) -> int | None:
        with self._lock:
            return self._scripts[esp].popleft() if self._scripts[esp] else None

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


def _form(content_type: str, body: bytes) -> dict[str, list[str]]:
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, list[str]] = defaultdict(list)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)].append(part.get_content())
        return dict(fields)
    return parse_qs(body.decode(), keep_blank_values=True)


def _handler_for(fake: FakeESP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path == "/v3/mail/send":
                self._sendgrid(headers, body)
            elif self.path.startswith("/v3/") and self.path.endswith("/messages"):
                self._mailgun(headers, body)
            else:
                self._answer(404, {"message": "Not found"})

        def _sendgrid(self, headers: dict[str, str], body: bytes) -> None:
            payload = json.loads(body)
            recipients = [
                r["email"].lower() for p in payload["personalizations"] for r in p.get("to", [])
            ]
            status, answer, extra = 202, None, {"X-Message-Id": secrets.token_urlsafe(16)}
            scripted = fake._next("sendgrid")
            if headers.get("authorization") != f"Bearer {SENDGRID_KEY}":
                status, extra = 401, {}
                answer = {
                    "errors": [
                        {
                            "message": "The provided authorization grant is invalid, expired, "
                            "or revoked",
                            "field": None,
                            "help": None,
                        }
                    ]
                }
            elif scripted is not None:
                status, extra = scripted, {}
                answer = {"errors": [{"message": "Internal server error", "field": None}]}
            elif set(recipients) & fake.rejects:
                status, extra = 400, {}
                answer = {
                    "errors": [
                        {
                            "message": "Does not contain a valid address.",
                            "field": "personalizations.0.to.0.email",
                            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/"
                            "errors.html#message.personalizations.to",
                        }
                    ]
                }
            fake._record(Received("sendgrid", self.path, headers, status, json=payload))
            self._answer(status, answer, extra)

        def _mailgun(self, headers: dict[str, str], body: bytes) -> None:
            form = _form(headers.get("content-type", ""), body)
            domain = self.path.removeprefix("/v3/").removesuffix("/messages")
            expected = "Basic " + base64.b64encode(f"api:{MAILGUN_KEY}".encode()).decode()
            scripted = fake._next("mailgun")
            status: int
            answer: Any
            if headers.get("authorization") != expected:
                status, answer = 401, "Forbidden"
            elif domain != MAILGUN_DOMAIN:
                status, answer = 404, {"message": f"Domain not found: {domain}"}
            elif scripted is not None:
                status, answer = scripted, {"message": "Internal Server Error"}
            elif {address.lower() for address in form.get("to", [])} & fake.rejects:
                status = 400
                answer = {
                    "message": "to parameter is not a valid address. please check documentation"
                }
            else:
                status = 200
                answer = {
                    "id": f"<{secrets.token_hex(8)}.{secrets.token_hex(4)}@{domain}>",
                    "message": "Queued. Thank you.",
                }
            fake._record(Received("mailgun", self.path, headers, status, form=form))
            self._answer(status, answer)

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = (
                b""
                if body is None
                else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            )
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if data:
                self.send_header(
                    "Content-Type",
                    "application/json" if not isinstance(body, str) else "text/plain",
                )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
