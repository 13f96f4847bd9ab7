from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from rooms.models import Room

COMMENT_MAX = 500


class Comment(models.Model):
    """A viewer's comment. Moderation removes it softly (`removed_at`/`removed_by`), never deletes."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    text = models.CharField(max_length=COMMENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("moderate_comment", "Can remove and restore comments")]
        constraints = [
            models.CheckConstraint(
                condition=Q(GreaterThanOrEqual(Length("text"), 1), LessThanOrEqual(Length("text"), COMMENT_MAX)),
                name="comment_text_1_to_500_chars",
            ),
            models.CheckConstraint(
                condition=Q(removed_by__isnull=True) | Q(removed_at__isnull=False),
                name="comment_removed_by_needs_removed_at",
            ),
        ]
        indexes = [models.Index(fields=["room", "created_at"], name="comment_room_created_idx")]

    def __str__(self) -> str:
        return f"{self.author} in {self.room.slug}: {self.text[:40]}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class Ban(models.Model):
    """A user may not comment in one room (`room` set) or anywhere (`room` empty)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_bans")
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="bans",
        help_text="Leave empty to ban the user from commenting everywhere.",
    )
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "room"], condition=Q(room__isnull=False), name="ban_unique_per_room"
            ),
            models.UniqueConstraint(fields=["user"], condition=Q(room__isnull=True), name="ban_unique_everywhere"),
        ]

    def __str__(self) -> str:
        where = self.room.slug if self.room is not None else "everywhere"
        return f"{self.user} banned ({where})"


class BlockedWord(models.Model):
    """A word comments may not contain, in one room (`room` set) or everywhere (`room` empty)."""

    word = models.CharField(max_length=60)
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocked_words",
        help_text="Leave empty to block the word in every room.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(
                Lower("word"), "room", condition=Q(room__isnull=False), name="blocked_word_unique_per_room"
            ),
            models.UniqueConstraint(
                Lower("word"), condition=Q(room__isnull=True), name="blocked_word_unique_everywhere"
            ),
            models.CheckConstraint(condition=~Q(word=""), name="blocked_word_not_empty"),
        ]

    def __str__(self) -> str:
        return self.word
