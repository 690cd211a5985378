from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.lockout import LoginLocked, is_locked_out, login_succeeded
from engarde.errors import ErrorSerializer
from engarde.parsers import JSONParser
from engarde.throttles import API_THROTTLES

# Longer than any passphrase a person types or a password manager makes.
PASSWORD_MAX = 4096


# The schema keeps the name it had with DRF's serializer.
@extend_schema_serializer(component_name="AuthToken")
class LoginSerializer(AuthTokenSerializer):
    username = serializers.CharField(
        label="Username",
        max_length=150,  # the column's (AbstractUser.username)
        write_only=True,
    )
    password = serializers.CharField(
        label="Password",
        max_length=PASSWORD_MAX,
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )


class TokenObtainView(ObtainAuthToken):
    """`POST {"username", "password"}` -> `{"token"}` for `Authorization: Token <key>`.

    After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that username
    is refused from that address (429, even with the right password) until the cool-off ends.
    """

    parser_classes = [JSONParser, FormParser]
    serializer_class = LoginSerializer
    # DRF's ObtainAuthToken has no throttle; ours limits password guessing by IP address.
    throttle_classes = API_THROTTLES

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        responses={
            200: TokenOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Wrong or missing credentials."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many calls from this address, or this username is locked out "
                "from it after too many wrong passwords (`locked_out`); see Retry-After.",
            ),
        }
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # authenticate() ran with this request: django-axes has counted the failure and
            # marked the request if the username is locked out from this address.
            if is_locked_out(request):
                raise LoginLocked(request)
            serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        login_succeeded(request, user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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
