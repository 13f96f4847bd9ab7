from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from rooms.models import Room

COMMENT_MAX = 500


# The comments everybody may see: not removed, and not held for review nor rejected.
VISIBLE = Q(removed_at__isnull=True, review__in=["", "approved"])


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
    # The `ref` of the frame that posted it: a retry with the same ref answers this comment.
    client_ref = models.CharField(max_length=100, blank=True, default="")

    class Review(models.TextChoices):
        NONE = "", "Published"
        HELD = "held", "Held for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    # A comment with a "hold" blocked word waits for the host or a moderator: nobody else sees it
    # (not in the stream, not in room.state) unless it is approved.
    review = models.CharField(max_length=10, choices=Review.choices, blank=True, default="")

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
        indexes = [
            models.Index(fields=["room", "created_at"], name="comment_room_created_idx"),
            models.Index(fields=["room", "author", "client_ref"], name="comment_client_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author} in {self.room.slug}: {self.text[:40]}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_published(self) -> bool:
        """On the room's stream: not held for review, nor rejected."""
        return self.review in (self.Review.NONE, self.Review.APPROVED)


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
    # A timeout is a ban with an end: from then on it no longer counts (nothing needs to lift it).
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: for good. Set: a timeout, lifted then.")

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

    class Action(models.TextChoices):
        REFUSE = "refuse", "Refuse the comment"
        HOLD = "hold", "Hold it for review"

    word = models.CharField(max_length=60)
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocked_words",
        help_text="Leave empty to block the word in every room.",
    )
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.REFUSE)
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


class ModerationJob(models.Model):
    """A moderator's "ban and remove all their comments" order, carried out by a Celery task.

    The ban is recorded when the job is opened; the task removes the author's visible comments in
    the scope (`room`, or everywhere when empty) batch by batch, counting them in `removed_count`
    in the same transaction as each batch. At most one unfinished job per author and scope.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_jobs")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="moderation_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    removed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the moderator was shown the result.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "room"],
                condition=Q(room__isnull=False) & ~Q(status="done"),
                name="moderationjob_one_open_per_room",
            ),
            models.UniqueConstraint(
                fields=["target"],
                condition=Q(room__isnull=True) & ~Q(status="done"),
                name="moderationjob_one_open_everywhere",
            ),
            models.CheckConstraint(
                condition=Q(status="done", finished_at__isnull=False)
                | (~Q(status="done") & Q(finished_at__isnull=True)),
                name="moderationjob_finished_at_when_done",
            ),
        ]
        indexes = [models.Index(fields=["moderator", "status"], name="moderationjob_moderator_idx")]

    def __str__(self) -> str:
        return f"ban {self.target} {self.scope} (job {self.pk})"

    @property
    def scope(self) -> str:
        return f"from {self.room.title}" if self.room is not None else "everywhere"


QUESTION_MAX = 300


class Question(models.Model):
    """A viewer's question for the host (Hotline / live Q&A). Closed, never deleted: answered by
    the host, or dismissed (its text is then redacted from the stream, like a removed comment)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        DISMISSED = "dismissed", "Dismissed"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=QUESTION_MAX)
    votes = models.PositiveIntegerField(default=0)  # the count of its QuestionVote rows
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-votes", "created_at", "id"]
        permissions = [("moderate_question", "Can dismiss and restore questions")]
        constraints = [
            models.CheckConstraint(
                condition=Q(GreaterThanOrEqual(Length("text"), 1), LessThanOrEqual(Length("text"), QUESTION_MAX)),
                name="question_text_1_to_300_chars",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "answered", "dismissed"]), name="question_status_valid"
            ),
            # one open question per viewer and room at a time
            models.UniqueConstraint(
                fields=["room", "author"], condition=Q(status="open"), name="question_one_open_per_author"
            ),
        ]
        indexes = [models.Index(fields=["room", "status"], name="question_room_status_idx")]

    def __str__(self) -> str:
        return f"question #{self.pk} in {self.room_id}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class QuestionVote(models.Model):
    """One user's vote for a question (undone by deleting it)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="vote_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="question_vote_once")]

    def __str__(self) -> str:
        return f"vote of {self.user_id} for {self.question_id}"


class RoomModerator(models.Model):
    """A user the host trusts to moderate their room from the room itself (at most 5 a room)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="moderators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_moderator_once")]

    def __str__(self) -> str:
        return f"{self.user_id} moderates {self.room_id}"


class Hotline(models.Model):
    """A room's live Q&A and pin: whether viewers may ask, the question shown over the grid, and
    the comment pinned above the others (one per room, made when first needed)."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, related_name="hotline")
    qa_enabled = models.BooleanField(default=True)
    # Seconds a viewer waits between two comments (0: no slow mode); host and moderators exempt.
    slow_mode = models.PositiveIntegerField(default=0)
    spotlight = models.ForeignKey(Question, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pinned = models.ForeignKey(Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"hotline of {self.room_id}"
