"""Rooms in the admin: read-only, with their four seats, and an "End room" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from rooms import actions
from rooms.models import Room, RoomStats, Seat


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
    list_display = [
        "title",
        "slug",
        "host",
        "status",
        "peak_viewers",
        "unique_viewers",
        "comments",
        "hearts",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    list_select_related = ["host", "stats"]
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
        "peak_viewers",
        "unique_viewers",
        "comments",
        "removed_comments",
        "questions",
        "answered_questions",
        "question_votes",
        "hearts",
        "other_reactions",
        "stats_counted_at",
    )
    inlines = [SeatInline]
    actions = ["end_selected"]

    # Room figures (rooms.stats): counted by a Celery task, never on the live path.
    @admin.display(description="peak viewers", ordering="stats__peak_viewers")
    def peak_viewers(self, room: Room) -> int:
        return _figures(room).peak_viewers

    @admin.display(description="unique viewers", ordering="stats__unique_viewers")
    def unique_viewers(self, room: Room) -> int:
        return _figures(room).unique_viewers

    @admin.display(description="comments", ordering="stats__comments")
    def comments(self, room: Room) -> int:
        return _figures(room).comments

    @admin.display(description="removed comments")
    def removed_comments(self, room: Room) -> int:
        return _figures(room).removed_comments

    @admin.display(description="questions asked")
    def questions(self, room: Room) -> int:
        return _figures(room).questions

    @admin.display(description="questions answered")
    def answered_questions(self, room: Room) -> int:
        return _figures(room).answered_questions

    @admin.display(description="question votes")
    def question_votes(self, room: Room) -> int:
        return _figures(room).question_votes

    @admin.display(description="hearts", ordering="stats__hearts")
    def hearts(self, room: Room) -> int:
        return _figures(room).hearts

    @admin.display(description="other reactions")
    def other_reactions(self, room: Room) -> int:
        return _figures(room).other_reactions

    @admin.display(description="figures counted at")
    def stats_counted_at(self, room: Room) -> object:
        return _figures(room).refreshed_at

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


def _figures(room: Room) -> RoomStats:
    try:
        return room.stats
    except RoomStats.DoesNotExist:
        return RoomStats(room=room)  # not counted yet: zeros
