"""The one small base every channel's transport shares: `send(message) -> SendResult`.

A transport raises TransportError when a send fails; `retryable` says whether trying again could
help (a network error, a 5xx, a 429), so the caller never has to know the provider's codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from channels_app.models import Message


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: str  # a Message.DeliveryStatus value


class TransportError(Exception):
    def __init__(
        self, message: str, *, code: str = "", retryable: bool = False, retry_after: float = 0
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


class Transport(Protocol):
    def send(self, message: Message) -> SendResult: ...


_TRANSPORTS: dict[str, Transport] = {}


def transport_register(channel: str, transport: Transport | None) -> Transport | None:
    """Register the channel's transport (None: none); the one it replaces, to put back."""
    previous = _TRANSPORTS.pop(channel, None)
    if transport is not None:
        _TRANSPORTS[channel] = transport
    return previous


def transport_for(channel: str) -> Transport:
    try:
        return _TRANSPORTS[channel]
    except KeyError:
        raise TransportError(
            f"No transport for the {channel} channel.", code="no_transport"
        ) from None
