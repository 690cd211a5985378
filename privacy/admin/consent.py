"""Admin pages: consent. Both read-only: a person's consent changes only through their own
channels (STOP/START, the unsubscribe link, their settings) and privacy.consent."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin, TenantScopedAdminMixin
from privacy.models import ChannelConsent, ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = ["recorded_at", "user", "channel", "purpose", "granted", "source"]
    list_filter = ["channel", "purpose", "granted", "source"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    date_hierarchy = "recorded_at"
    show_full_result_count = False


@admin.register(ChannelConsent)
class ChannelConsentAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, ModelAdmin):
    list_display = ["user", "channel", "opted_out", "changed_at"]
    list_filter = ["channel", "opted_out"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    show_full_result_count = False
