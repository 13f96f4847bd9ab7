"""Rooms in the admin: read-only, with their four seats, and an "End room" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from rooms import actions
from rooms.models import Room, Seat


class SeatInline(admin.TabularInline[Seat, Room]):
    model = Seat
    fields = readonly_fields = ("index", "user", "camera", "mic", "publishing")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Seat | None = None) -> bool:  # type: ignore[override]
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ["title", "slug", "host", "status", "comments_enabled", "created_at", "ended_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["host"]
    search_fields = ["title", "slug", "host__username"]
    fields = readonly_fields = (
        "slug",
        "title",
        "host",
        "status",
        "comments_enabled",
        "created_at",
        "started_at",
        "ended_at",
    )
    inlines = [SeatInline]
    actions = ["end_selected"]

    def has_end_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("rooms.end_room")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rooms open when a host goes live

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False  # a room's comments are its record; end it instead

    @admin.action(description="End selected rooms", permissions=["end"])
    def end_selected(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = sum(actions.end_room(room=room) for room in queryset)
        self.message_user(request, f"Ended {count} room(s).", messages.SUCCESS)
