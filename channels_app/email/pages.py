"""The two pages an email's footer links to, for people who have no console login: unsubscribe
(a GET shows a button, so that link scanners fetching the URL unsubscribe nobody) and the
preferences form. The signed token in the link is the only credential."""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import User
from channels_app.email.models import (
    WEEKDAYS,
    DigestFormat,
    EmailPreferences,
    Frequency,
    Priority,
    Section,
)
from channels_app.email.services import preferences_update, unsubscribe
from channels_app.email.tokens import PREFERENCES, UNSUBSCRIBE, BadToken, token_user_id

DAY_CHOICES = [(str(n), name) for n, name in enumerate(WEEKDAYS)]


def _person(request: HttpRequest, purpose: str) -> tuple[User | None, str]:
    token = request.GET.get("token", "")
    try:
        user_id = token_user_id(token, purpose=purpose)
    except BadToken as exc:
        return None, exc.detail
    user = User.objects.select_related("tenant").filter(pk=user_id, is_deleted=False).first()
    return user, "" if user else "This person no longer exists."


def _invalid(request: HttpRequest, detail: str) -> HttpResponse:
    return render(request, "emails/pages/invalid.html", {"detail": detail}, status=400)


@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest) -> HttpResponse:
    user, problem = _person(request, UNSUBSCRIBE)
    if user is None:
        return _invalid(request, problem)
    done = request.method == "POST"
    if done:
        unsubscribe(user=user, source="page")
    return render(
        request,
        "emails/pages/unsubscribe.html",
        {"person": user, "done": done, "token": request.GET["token"]},
    )


class PreferencesForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Send me the brief")
    delivery_time = forms.TimeField(
        label="Delivery time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_zone = forms.ChoiceField(label="Time zone")
    frequency = forms.ChoiceField(choices=Frequency.choices)
    weekday = forms.TypedChoiceField(
        choices=[("", "-"), *DAY_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        label="Weekday (weekly)",
    )
    custom_days = forms.TypedMultipleChoiceField(
        choices=DAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Weekdays (custom)",
    )
    sections = forms.MultipleChoiceField(
        choices=Section.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    min_priority = forms.ChoiceField(choices=Priority.choices, label="Show items from priority")
    digest_format = forms.ChoiceField(choices=DigestFormat.choices, label="Format")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form's copy of the ChoiceField declared above.
        time_zone = cast(forms.ChoiceField, self.fields["time_zone"])
        time_zone.choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]


FIELDS = list(PreferencesForm.base_fields)


@require_http_methods(["GET", "POST"])
def preferences_page(request: HttpRequest) -> HttpResponse:
    user, problem = _person(request, PREFERENCES)
    if user is None:
        return _invalid(request, problem)
    current = EmailPreferences.objects.filter(user=user).first() or EmailPreferences(
        user=user, time_zone=user.time_zone or "UTC"
    )
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                current = preferences_update(user=user, now=timezone.now(), **form.cleaned_data)
                saved = True
            except forms.ValidationError as exc:
                errors: dict[str | None, list[str]]
                if hasattr(exc, "error_dict"):
                    errors = dict(exc.message_dict.items())
                else:
                    errors = {None: exc.messages}
                for field, messages in errors.items():
                    form.add_error(field if field in form.fields else None, messages)
    else:
        form = PreferencesForm(initial={name: getattr(current, name) for name in FIELDS})
    return render(
        request,
        "emails/pages/preferences.html",
        {"person": user, "form": form, "saved": saved, "preferences": current},
    )
