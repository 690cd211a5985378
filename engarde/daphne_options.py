"""Two behaviours of the servers under daphne that daphne has no option for.

- **Request bodies go to Django.** Twisted's HTTP request, which daphne's extends, parses every
  url-encoded and multipart POST body into arguments of its own, which daphne never reads, and
  answers a multipart body it cannot parse (a closing boundary alone, no boundary, garbage)
  itself, with a bare `400 Bad Request`: no Content-Type, no body, no log line. Twisted's switch
  for this, `parsePOSTFormSubmission`, is turned off, so Django parses each body once, with its
  limits (DATA_UPLOAD_MAX_MEMORY_SIZE) and its JSON errors (engarde/errors.py).
- **A refused WebSocket frame gets a close frame.** autobahn fails a connection (a frame over
  daphne's `--websocket-max-frame-size`, invalid UTF-8, a protocol error) by dropping the TCP
  connection unless told otherwise (`failByDrop`); the client then cannot tell why. With it off,
  the client gets the close code (1009 "message too big", ...) and the reason.

Applied when daphne serves this application (its command line imports the application before it
builds its factories); any other process that imports engarde.asgi is left alone, so that no
Twisted reactor is installed where none runs.
"""

from __future__ import annotations

import sys
from typing import Any


def daphne_configure() -> None:
    if "daphne.server" not in sys.modules:
        return
    from daphne import http_protocol, server, ws_protocol

    class BodyToDjangoRequest(http_protocol.WebRequest):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["parsePOSTFormSubmission"] = False
            super().__init__(*args, **kwargs)

    class ClosingWebSocketFactory(ws_protocol.WebSocketFactory):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setProtocolOptions(failByDrop=False)

    # daphne looks both up by these names each time it builds a factory or a connection.
    http_protocol.WebRequest = BodyToDjangoRequest
    server.WebSocketFactory = ClosingWebSocketFactory
