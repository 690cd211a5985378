"""Serializer fields the API's inputs share."""

from __future__ import annotations

from typing import Any

from django.db.models import BigIntegerField
from rest_framework import serializers


class IdField(serializers.IntegerField):
    """A row's id sent by a client: 1 to the largest bigint, the id columns' range (past it,
    PostgreSQL would refuse the value, a 500 instead of the 400 this gives)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=BigIntegerField.MAX_BIGINT, **kwargs)
