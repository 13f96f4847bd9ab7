"""Webhooks in the admin: operators register endpoints and watch (and resend) deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from liverooms.webhooks import delivery
from liverooms.webhooks.models import EVENT_TYPES, Attempt, Delivery, Endpoint
from liverooms.webhooks.tasks import queue_delivery


class EndpointForm(forms.ModelForm[Endpoint]):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="Where events are POSTed.")
    event_types = forms.MultipleChoiceField(
        choices=EVENT_TYPES, widget=forms.CheckboxSelectMultiple, help_text="What this endpoint receives."
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "secret", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.initial.setdefault("event_types", [name for name, _label in EVENT_TYPES])

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("Use an http:// or https:// URL.")
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin[Endpoint]):
    form = EndpointForm
    list_display = ["url", "description", "is_active", "types", "pending", "failed", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
                failed_count=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
            )
        )

    @admin.display(description="events")
    def types(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.event_types)

    @admin.display(description="pending", ordering="pending_count")
    def pending(self, endpoint: Any) -> int:
        return int(endpoint.pending_count)

    @admin.display(description="gave up", ordering="failed_count")
    def failed(self, endpoint: Any) -> int:
        return int(endpoint.failed_count)

    def has_delete_permission(self, request: HttpRequest, obj: Endpoint | None = None) -> bool:
        return False  # its deliveries are the record: turn it off instead


class AttemptInline(admin.TabularInline[Attempt, Delivery]):
    model = Attempt
    fields = readonly_fields = ("started_at", "status_code", "ok", "duration_ms", "error")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = [
        "id",
        "event_type",
        "room",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_try",
        "delivered_at",
    ]
    list_filter = ["status", "endpoint", "event__type"]
    list_select_related = ["event", "event__room", "endpoint"]
    search_fields = ["event__room__slug", "endpoint__url", "last_error"]
    fields = readonly_fields = (
        "endpoint",
        "event",
        "event_data",
        "status",
        "attempts",
        "next_try_at",
        "retry_until",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )
    inlines = [AttemptInline]
    actions = ["resend_selected"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, item: Delivery) -> str:
        return item.event.type

    @admin.display(description="room")
    def room(self, item: Delivery) -> str:
        return item.event.room.slug if item.event.room is not None else "—"

    @admin.display(description="next try")
    def next_try(self, item: Delivery) -> Any:
        return item.next_try_at if item.status == Delivery.Status.PENDING else "—"

    @admin.display(description="payload")
    def event_data(self, item: Delivery) -> Any:
        return item.event.data

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_endpoint")

    @admin.action(description="Resend selected deliveries", permissions=["resend"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = queryset.count()
        for endpoint_id, room_key in delivery.resend(queryset):
            queue_delivery(endpoint_id, room_key)
        self.message_user(request, f"Queued {count} deliveries again.", messages.SUCCESS)
