"""Moderation in the Django admin. Every change goes through comments.actions, so viewers see it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from comments import actions
from comments.models import Ban, BlockedWord, Comment


class RemovedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Comment]) -> list[tuple[str, str]]:
        return [("visible", "Visible"), ("removed", "Removed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> QuerySet[Comment]:
        if self.value() == "visible":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "removed":
            return queryset.filter(removed_at__isnull=False)
        return queryset


def _moderator(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ["created_at", "room", "author", "text", "state"]
    list_display_links = ["created_at"]
    list_filter = [("room", admin.RelatedOnlyFieldListFilter), RemovedFilter, "created_at"]
    search_fields = ["text", "author__username", "room__title", "room__slug"]
    list_select_related = ["room", "author", "removed_by"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ["room", "author", "text", "created_at", "removed_at", "removed_by"]
    actions = ["remove_selected", "restore_selected", "ban_in_room_and_remove", "ban_everywhere_and_remove"]
    list_per_page = 100

    @admin.display(description="state")
    def state(self, comment: Comment) -> str:
        if not comment.is_removed:
            return "visible"
        return f"removed by {comment.removed_by or 'someone'}"

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False  # nobody edits what a viewer wrote; moderators remove or restore

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # "Remove selected comments" is the soft version
        return found

    @admin.action(description="Remove selected comments", permissions=["moderate"])
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = actions.remove_comments(comments=queryset, by=_moderator(request))
        self.message_user(request, f"Removed {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Restore selected comments", permissions=["moderate"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = actions.restore_comments(comments=queryset)
        self.message_user(request, f"Restored {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Ban the authors from this room and remove their comments here", permissions=["moderate"])
    def ban_in_room_and_remove(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        pairs = {(comment.author, comment.room) for comment in queryset.select_related("author", "room")}
        removed = sum(
            actions.ban_user(user=author, room=room, by=_moderator(request), remove_comments=True)
            for author, room in pairs
        )
        self.message_user(
            request, f"Banned {len(pairs)} author(s) here; removed {removed} comment(s).", messages.SUCCESS
        )

    @admin.action(description="Ban the authors everywhere and remove all their comments", permissions=["moderate"])
    def ban_everywhere_and_remove(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        authors = {comment.author for comment in queryset.select_related("author")}
        removed = sum(
            actions.ban_user(user=author, room=None, by=_moderator(request), remove_comments=True) for author in authors
        )
        self.message_user(
            request, f"Banned {len(authors)} author(s) everywhere; removed {removed} comment(s).", messages.SUCCESS
        )

    # The delete button removes softly too: moderation never loses a comment.
    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        actions.remove_comment(comment=obj, by=_moderator(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        actions.remove_comments(comments=queryset, by=_moderator(request))


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin[Ban]):
    list_display = ["user", "room", "reason", "created_by", "created_at"]
    list_select_related = ["user", "room", "created_by"]
    search_fields = ["user__username", "room__slug", "room__title", "reason"]
    raw_id_fields = ["user", "room"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: Ban, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = _moderator(request)
        super().save_model(request, obj, form, change)


@admin.register(BlockedWord)
class BlockedWordAdmin(admin.ModelAdmin[BlockedWord]):
    list_display = ["word", "room", "created_at"]
    list_select_related = ["room"]
    search_fields = ["word", "room__slug", "room__title"]
    raw_id_fields = ["room"]
