"""The API's JSON parser: DRF's, with a clear 400 for JSON nested too deeply to read.

Python's json module descends once per level of nesting, so a body of a few kilobytes of `[`
raises RecursionError, which DRF's parser (it catches ValueError) would let through as a 500.
It is the JSON parser of REST_FRAMEWORK's DEFAULT_PARSER_CLASSES; views that list their parsers
name this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None
