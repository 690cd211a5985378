from __future__ import annotations

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from engarde.urls import urlpatterns as engarde_urlpatterns


class BareView(APIView):
    """The baseline: DRF parses the same form and answers, doing nothing else."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # like the webhook it is measured against
    parser_classes = [FormParser]

    def post(self, request: Request) -> Response:
        return Response({"fields": len(request.data)})


urlpatterns = [
    path("bench/bare", csrf_exempt(BareView.as_view())),
    *engarde_urlpatterns,
]
