"""Replays and recordings in the admin: read-only lists with size and duration, and a "Delete
replay files" action that goes through the same action as the host's delete (webhook included);
who spoke how long on which seat of which room (talk time, read-only: the relay counts it)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from media.models import Recording, Replay, TalkTime
from media.recording import actions


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RecordingInline(ReadOnly, admin.TabularInline[Recording, Replay]):
    model = Recording
    fields = readonly_fields = ("seat_index", "user", "container", "started_at", "ended_at", "size_", "duration_")
    extra = 0
    can_delete = False

    @admin.display(description="size")
    def size_(self, obj: Recording) -> str:
        return human_size(obj.size)

    @admin.display(description="duration")
    def duration_(self, obj: Recording) -> str:
        return human_duration(obj.duration)


@admin.register(Replay)
class ReplayAdmin(ReadOnly, admin.ModelAdmin[Replay]):
    list_display = ["room", "enabled", "private", "ready_at", "deleted_at", "composed_status", "total_size"]
    list_filter = ["enabled", "private", "composed_status"]
    list_select_related = ["room"]
    search_fields = ["room__slug", "room__title"]
    readonly_fields = (
        "room",
        "enabled",
        "private",
        "created_at",
        "ready_at",
        "deleted_at",
        "composed",
        "composed_status",
    )
    inlines = [RecordingInline]
    actions = ["delete_files"]

    def has_delete_permission(self, request: HttpRequest, obj: Replay | None = None) -> bool:
        return False  # the rows are the record: delete the files with the action

    @admin.display(description="size")
    def total_size(self, obj: Replay) -> str:
        return human_size(obj.recordings.aggregate(total=Sum("size"))["total"] or 0)

    @admin.action(description="Delete the selected replays' files now")
    def delete_files(self, request: HttpRequest, queryset: QuerySet[Replay]) -> None:
        deleted = sum(actions.delete_replay(replay=replay, reason="moderator") for replay in queryset)
        self.message_user(request, f"Deleted {deleted} replay(s).", messages.SUCCESS)


@admin.register(Recording)
class RecordingAdmin(ReadOnly, admin.ModelAdmin[Recording]):
    list_display = [
        "replay",
        "seat_index",
        "user",
        "container",
        "video_codec",
        "started_at",
        "ended_at",
        "size_",
        "duration_",
        "dropped_frames",
        "recovered",
    ]
    list_filter = ["container", "recovered", "started_at"]
    list_select_related = ["replay__room", "user"]
    search_fields = ["replay__room__slug", "user__username"]
    readonly_fields = tuple(f.name for f in Recording._meta.fields)

    def has_delete_permission(self, request: HttpRequest, obj: Recording | None = None) -> bool:
        return False

    @admin.display(description="size", ordering="size")
    def size_(self, obj: Recording) -> str:
        return human_size(obj.size)

    @admin.display(description="duration", ordering="duration")
    def duration_(self, obj: Recording) -> str:
        return human_duration(obj.duration)


@admin.register(TalkTime)
class TalkTimeAdmin(ReadOnly, admin.ModelAdmin[TalkTime]):
    list_display = ["room", "seat_index", "user", "talk_time", "first_seen_at"]
    list_filter = ["seat_index", "first_seen_at"]
    list_select_related = ["room", "user"]
    search_fields = ["room__slug", "room__title", "user__username"]
    readonly_fields = ("room", "seat_index", "user", "talk_time", "first_seen_at")
    fields = readonly_fields
    ordering = ["-first_seen_at", "room", "seat_index"]

    def has_delete_permission(self, request: HttpRequest, obj: TalkTime | None = None) -> bool:
        return False  # the room's record: it goes with the room

    @admin.display(description="talk time", ordering="milliseconds")
    def talk_time(self, obj: TalkTime) -> str:
        return human_duration(obj.seconds)
