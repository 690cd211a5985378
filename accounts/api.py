from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from engarde.throttles import API_THROTTLES


class TokenObtainView(ObtainAuthToken):
    """`POST {"username", "password"}` -> `{"token"}` for `Authorization: Token <key>`."""

    parser_classes = [JSONParser, FormParser]
    # DRF's ObtainAuthToken has no throttle; ours limits password guessing by IP address.
    throttle_classes = API_THROTTLES


class TenantOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()


class MeView(APIView):
    class MeOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        tenant = TenantOutputSerializer(allow_null=True, help_text="null for platform operators")
        roles = serializers.ListField(child=serializers.CharField())
        time_zone = serializers.CharField()
        is_staff = serializers.BooleanField()

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.MeOutputSerializer(request.user).data)
