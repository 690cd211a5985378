from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class TokenObtainView(ObtainAuthToken):
    """`POST {"username", "password"}` -> `{"token"}` for `Authorization: Token <key>`."""

    parser_classes = [JSONParser, FormParser]


class MeView(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        tenant = serializers.SerializerMethodField()
        roles = serializers.ListField(child=serializers.CharField())
        time_zone = serializers.CharField()
        is_staff = serializers.BooleanField()

        def get_tenant(self, user: object) -> dict[str, object] | None:
            tenant = getattr(user, "tenant", None)
            if tenant is None:
                return None
            return {"id": tenant.id, "slug": tenant.slug, "name": tenant.name, "tier": tenant.tier}

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)
