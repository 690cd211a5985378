"""The query parameters of a cursor-paginated list, checked before its paginator.

DRF's CursorPagination takes a page size over its maximum as the maximum and an unreadable cursor
as a 404: here either past its bound is a 400 with the JSON error, as for every other input.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import CursorPagination

# DRF's cursors (an offset under 1,000, a direction and a timestamp, base64) are under 100.
CURSOR_MAX = 256


def cursor_page_query(
    name: str, pagination: type[CursorPagination], items: str
) -> type[serializers.Serializer]:
    """A serializer class `name` for `?cursor=` and `?page_size=` of a list of `items` paged by
    `pagination`; its fields document the bounds in the schema."""
    if pagination.max_page_size is None:
        raise ValueError(f"{pagination.__name__} needs a max_page_size.")
    fields = {
        "cursor": serializers.CharField(
            required=False, max_length=CURSOR_MAX, help_text="From `next` or `previous`"
        ),
        "page_size": serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=pagination.max_page_size,
            help_text=f"{items} a page (default {pagination.page_size})",
        ),
    }
    return type(name, (serializers.Serializer,), {"__module__": __name__, **fields})
