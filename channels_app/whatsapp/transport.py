"""Sending WhatsApp messages through Twilio's Messages API, with the twilio SDK.

`WhatsAppTransport.send` is synchronous and sends one message: the turn engine already runs one
turn per conversation at a time, so sending inline (no thread, no queue) keeps replies in order.

What it decides before calling Twilio, so that a send it knows will fail costs no request:
- an opted-out person gets nothing (`opted_out`);
- the person needs a verified number (`no_number`) and at most 10 media URLs (`too_many_media`);
- WhatsApp only allows free-form messages within 24 hours of the person's last message. Outside
  that window the configured approved template (TWILIO_TEMPLATE_CONTENT_SID) goes out instead,
  with the text as its variable `{{1}}`, or the send fails (`outside_window`).

Quick replies: a free-form WhatsApp message cannot carry buttons (those need an approved Content
template per set of buttons), so the options are appended to the text as a numbered list the
person answers with a digit. The inbound side sees that digit as ordinary text.

Retries: network errors and 5xx are retried after 1, 2 and 4 times TWILIO_RETRY_BACKOFF_SECONDS;
a 429 waits for its Retry-After (at most RETRY_AFTER_MAX_SECONDS); other 4xx are final. Twilio's
Messages API takes no idempotency key, so a retry after a timeout or a dropped connection may, in
the rare case that Twilio had already accepted the first attempt, send the message twice: a
duplicate is judged better than a reply that silently never arrives.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from accounts.models import UserPhoneNumber
from channels_app.models import Channel, Message
from channels_app.transports import SendResult, TransportError
from privacy.masking import mask_text
from privacy.models import ChannelConsent
from privacy.normalize import normalize_phone

logger = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/api/v1/channels/whatsapp/status"
MAX_MEDIA = 10  # Twilio's limit of MediaUrl per message
RETRIES = 3  # after the first attempt: 4 attempts in all
RETRY_AFTER_MAX_SECONDS = 30.0
WINDOW = timedelta(hours=24)
# WhatsApp rejects template variables with newlines or tabs, and a template body over 1024
# characters; the template's own text needs some of those.
TEMPLATE_VARIABLE_MAX = 900

STATUSES = {
    "accepted": Message.DeliveryStatus.QUEUED,
    "scheduled": Message.DeliveryStatus.QUEUED,
    "queued": Message.DeliveryStatus.QUEUED,
    "sending": Message.DeliveryStatus.QUEUED,
    "sent": Message.DeliveryStatus.SENT,
    "delivered": Message.DeliveryStatus.DELIVERED,
    "read": Message.DeliveryStatus.READ,
    "failed": Message.DeliveryStatus.FAILED,
    "undelivered": Message.DeliveryStatus.FAILED,
    "canceled": Message.DeliveryStatus.FAILED,
}

# Twilio's error messages quote the number they refused; error_message is stored in clear.


class RedirectingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending to `base_url` instead of https://api.twilio.com.

    The SDK builds every URL as its domain's base URL (`https://api.twilio.com`) plus the path
    and hands it to `http_client.request` (twilio/base/domain.py, twilio/base/client_base.py);
    region and edge (also read from TWILIO_REGION / TWILIO_EDGE in the environment) only change
    the host name within twilio.com. So the scheme and host are replaced here, whatever twilio.com
    host the SDK chose. It also keeps the last response's headers per thread, because
    TwilioRestException drops them and a 429's Retry-After is needed.
    """

    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self._last.headers = {}
        if self.base_url:
            parts = urlsplit(url)
            if parts.hostname and parts.hostname.endswith(".twilio.com"):
                url = self.base_url + urlunsplit(("", "", parts.path, parts.query, ""))
        response = super().request(method, url, *args, **kwargs)
        self._last.headers = dict(response.headers or {})
        return response

    def last_header(self, name: str) -> str | None:
        headers: dict[str, str] = getattr(self._last, "headers", {})
        return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _require_configured() -> None:
    if not (
        settings.TWILIO_ACCOUNT_SID
        and settings.TWILIO_AUTH_TOKEN
        and settings.TWILIO_WHATSAPP_NUMBER
    ):
        raise TransportError(
            "WhatsApp is not configured: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_WHATSAPP_NUMBER are needed.",
            code="not_configured",
        )


class WhatsAppTransport:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client_key: tuple[Any, ...] | None = None
        self._client: Client | None = None
        self._http: RedirectingHttpClient | None = None

    def send(self, message: Message) -> SendResult:
        _require_configured()
        user_id = message.conversation.user_id
        if ChannelConsent.is_opted_out(user_id=user_id, channel=Channel.WHATSAPP):
            raise TransportError(
                "The person opted out of WhatsApp messages (STOP).", code="opted_out"
            )
        metadata = message.metadata or {}
        media_urls = [str(url) for url in metadata.get("media_urls") or []]
        if len(media_urls) > MAX_MEDIA:
            raise TransportError(
                f"A WhatsApp message takes at most {MAX_MEDIA} media URLs, "
                f"this one has {len(media_urls)}.",
                code="too_many_media",
            )
        number = _number_for(user_id)
        if number is None:
            raise TransportError("The person has no verified WhatsApp number.", code="no_number")

        params: dict[str, Any] = {
            "to": f"whatsapp:{number}",
            "from_": f"whatsapp:{settings.TWILIO_WHATSAPP_NUMBER}",
        }
        if settings.PUBLIC_BASE_URL:
            params["status_callback"] = settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
        if _inside_window(user_id):
            params["body"] = _with_quick_replies(message.body, metadata.get("quick_replies"))
            if media_urls:
                params["media_url"] = media_urls
        elif settings.TWILIO_TEMPLATE_CONTENT_SID:
            # The template carries its own text and buttons; media cannot ride along.
            params["content_sid"] = settings.TWILIO_TEMPLATE_CONTENT_SID
            params["content_variables"] = json.dumps({"1": _template_variable(message.body)})
        else:
            raise TransportError(
                "WhatsApp only allows approved templates more than 24 hours after the person's "
                "last message, and no template is configured (TWILIO_TEMPLATE_CONTENT_SID).",
                code="outside_window",
            )
        return self._create(message_id=message.pk, params=params)

    def send_direct(self, *, to: str, body: str, ref: str) -> SendResult:
        """Send a text to a WhatsApp address with the same client and retries, but none of the
        per-person checks (consent, verified number, 24-hour window): for replies to a message
        that just arrived (keywords, quota, unmapped numbers), where the window is open and the
        address is the one the person wrote from. `ref` names the send in logs, not the number."""
        _require_configured()
        params: dict[str, Any] = {
            "to": f"whatsapp:{normalize_phone(to)}",
            "from_": f"whatsapp:{settings.TWILIO_WHATSAPP_NUMBER}",
            "body": body,
        }
        if settings.PUBLIC_BASE_URL:
            params["status_callback"] = settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
        return self._create(message_id=ref, params=params)

    def _create(self, *, message_id: int | str, params: dict[str, Any]) -> SendResult:
        client, http = self._client_and_http()
        backoff = float(settings.TWILIO_RETRY_BACKOFF_SECONDS)
        attempt = 0
        while True:
            attempt += 1
            try:
                sent = client.messages.create(**params)
            except TwilioRestException as exc:
                error = _rest_error(exc, retry_after=_retry_after(http.last_header("Retry-After")))
            except requests.RequestException as exc:
                error = TransportError(
                    f"Could not reach Twilio ({type(exc).__name__}).",
                    code="network",
                    retryable=True,
                )
            else:
                status = STATUSES.get(sent.status or "", Message.DeliveryStatus.QUEUED)
                logger.info(
                    "whatsapp sent: message=%s sid=%s status=%s attempts=%s",
                    message_id,
                    sent.sid,
                    sent.status,
                    attempt,
                )
                return SendResult(provider_id=sent.sid or "", status=status)

            if not error.retryable or attempt > RETRIES:
                logger.warning(
                    "whatsapp send failed: message=%s code=%s retryable=%s attempts=%s",
                    message_id,
                    error.code,
                    error.retryable,
                    attempt,
                )
                raise error
            wait = error.retry_after or backoff * 2 ** (attempt - 1)
            logger.info(
                "whatsapp send retry: message=%s code=%s attempt=%s wait=%.2fs",
                message_id,
                error.code,
                attempt,
                wait,
            )
            time.sleep(wait)

    def _client_and_http(self) -> tuple[Client, RedirectingHttpClient]:
        """One client (and its pooled connections) per configuration; settings can change in
        tests and a new configuration gets a new client."""
        key = (
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_API_BASE_URL,
            settings.TWILIO_TIMEOUT_SECONDS,
        )
        with self._lock:
            if self._client_key != key or self._client is None or self._http is None:
                self._http = RedirectingHttpClient(
                    base_url=settings.TWILIO_API_BASE_URL,
                    timeout=float(settings.TWILIO_TIMEOUT_SECONDS),
                )
                self._client = Client(
                    settings.TWILIO_ACCOUNT_SID,
                    settings.TWILIO_AUTH_TOKEN,
                    http_client=self._http,
                )
                self._client_key = key
            return self._client, self._http


def _number_for(user_id: int) -> str | None:
    """The user's primary verified number, else their oldest verified one."""
    phone = (
        UserPhoneNumber.objects.filter(user_id=user_id, verified=True)
        .order_by("-primary", "created_at", "id")
        .only("phone_number")
        .first()
    )
    return phone.phone_number if phone else None


def _inside_window(user_id: int) -> bool:
    return Message.objects.filter(
        conversation__user_id=user_id,
        channel=Channel.WHATSAPP,
        direction=Message.Direction.INBOUND,
        created_at__gte=timezone.now() - WINDOW,
    ).exists()


def _with_quick_replies(body: str, options: Any) -> str:
    choices = [str(option).strip() for option in options or [] if str(option).strip()]
    if not choices:
        return body
    numbers = [str(n) for n in range(1, len(choices) + 1)]
    prompt = "Reply " + (
        numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} or {numbers[-1]}"
    )
    listed = "\n".join(f"{n}. {choice}" for n, choice in zip(numbers, choices, strict=True))
    return f"{body}\n\n{prompt}:\n{listed}" if body else f"{prompt}:\n{listed}"


def _template_variable(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= TEMPLATE_VARIABLE_MAX:
        return flat
    return flat[: TEMPLATE_VARIABLE_MAX - 1].rstrip() + "…"


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (a number or an HTTP date), capped; 0 when absent or unreadable."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return 0.0
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)


def _rest_error(exc: TwilioRestException, *, retry_after: float) -> TransportError:
    status = int(exc.status or 0)
    retryable = status == 429 or status >= 500
    code = str(exc.code) if exc.code and exc.code != status else f"http_{status}"
    text = str(exc.msg or f"Twilio answered HTTP {status}.")
    text = text.removeprefix("Unable to create record: ")
    text = mask_text(text)
    return TransportError(
        text, code=code, retryable=retryable, retry_after=retry_after if status == 429 else 0
    )
