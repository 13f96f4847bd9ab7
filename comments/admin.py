"""Moderation in the Django admin. Every change goes through comments.actions, so viewers see it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from comments import actions, bulk, questions, review
from comments.models import Ban, BlockedWord, Comment, ModerationJob, Question
from comments.tasks import run_moderation_job
from rooms.admin import RoomAdmin
from rooms.models import Room

# The comment list's "N new comments" (comments/static/comments/admin_live.js) asks this often.
NEW_COMMENTS_POLL_MS = 3000
# The query parameter of that count: comments newer than this id (the newest when the page loaded).
AFTER = "_after"


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


def ban_and_remove(
    request: HttpRequest, model_admin: admin.ModelAdmin[Any], targets: list[tuple[User, Room | None]]
) -> None:
    """Ban each (author, room or None for everywhere) at once and queue the removal of their
    comments there; the moderator is told the count when each job is done."""
    moderator = _moderator(request)
    jobs = [bulk.open_ban_job(target=target, room=room, by=moderator) for target, room in targets]
    for job in jobs:  # enqueued after commit (a worker must find the job); eager mode runs it right here
        transaction.on_commit(partial(run_moderation_job.delay, job.pk), robust=True)  # else: the sweep
    told = {job.pk for job in tell_finished_jobs(request)}
    for job in jobs:
        if job.pk in told:
            continue
        who = "" if job.moderator_id in {None, getattr(moderator, "pk", None)} else f", opened by {job.moderator}"
        model_admin.message_user(
            request,
            f"Banned {job.target.username} {job.scope}; removing their comments in the background "
            f"(job {job.pk}{who}). The count shows here when it is done.",
            messages.INFO,
        )


def tell_finished_jobs(request: HttpRequest) -> list[ModerationJob]:
    """Show the moderator the result of each of their bulk jobs finished since they last looked."""
    moderator = _moderator(request)
    if moderator is None:
        return []
    finished = bulk.take_finished_jobs(moderator=moderator)
    for job in finished:
        messages.success(request, bulk.result_message(job))
    return finished


class TellsFinishedJobs(admin.ModelAdmin[Any]):
    """Moderation pages tell the moderator about their finished bulk jobs when they load."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "GET":
            tell_finished_jobs(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            tell_finished_jobs(request)
        return super().changeform_view(request, object_id, form_url, extra_context)


REMOVED = "(removed)"


def redacted(comment: Comment) -> Comment:
    """A stand-in for a removed comment, for staff who may not moderate: no text, no author (its
    `str()` too, which the admin shows in titles and breadcrumbs). Never saved: nobody may change
    a comment in the admin, and removal re-reads the row."""
    shown = copy.copy(comment)
    shown.text = REMOVED
    Comment.author.field.set_cached_value(shown, User(username=REMOVED))
    return shown


@admin.register(Comment)
class CommentAdmin(TellsFinishedJobs, admin.ModelAdmin[Comment]):
    """Staff who may view comments but not moderate them never see a removed comment's text or
    author: the list, the search, a comment's page and its history show "(removed)"."""

    list_display = ["created_at", "room", "author", "text", "state"]
    list_display_links = ["created_at"]
    list_filter = [("room", admin.RelatedOnlyFieldListFilter), RemovedFilter, "review", "created_at"]
    search_fields = ["text", "author__username", "room__title", "room__slug"]
    list_select_related = ["room", "author", "removed_by"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ["room", "author", "text", "created_at", "removed_at", "removed_by"]
    actions = [
        "remove_selected",
        "restore_selected",
        "approve_selected",
        "reject_selected",
        "ban_in_room_and_remove",
        "ban_everywhere_and_remove",
    ]
    list_per_page = 100
    change_list_template = "admin/comments/comment/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        count = path("new/", self.admin_site.admin_view(self.new_comments_view), name="comments_comment_new")
        return [count, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        newest = Comment.objects.aggregate(newest=Max("pk"))["newest"] or 0
        live = {
            "new_comments_url": reverse("admin:comments_comment_new"),
            "newest_comment_id": newest,
            "new_comments_poll_ms": NEW_COMMENTS_POLL_MS,
        }
        return super().changelist_view(request, {**live, **(extra_context or {})})

    def new_comments_view(self, request: HttpRequest) -> JsonResponse:
        """How many comments the list, as filtered and searched now, has gained since the page was
        loaded (`_after`: the newest id then). Staff with view permission only; a count, no text."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = request.GET.get(AFTER, "")
        if not raw.isdigit() or len(raw) > 18:
            return JsonResponse({"error": f"`{AFTER}` must be a comment id."}, status=400)
        query = request.GET.copy()
        query.pop(AFTER)
        request.GET = query  # type: ignore[assignment]  # the list's own filters and search, as on the page
        try:
            listed = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return JsonResponse({"error": "Unknown filter."}, status=400)
        new = listed.filter(pk__gt=int(raw))
        return JsonResponse({"count": new.count()})

    @admin.display(description="state")
    def state(self, comment: Comment) -> str:
        if not comment.is_removed:
            return "visible"
        return f"removed by {comment.removed_by or 'someone'}"

    @admin.display(description="author")
    def author_shown(self, comment: Comment) -> str:
        return REMOVED if comment.is_removed else comment.author.username

    @admin.display(description="text")
    def text_shown(self, comment: Comment) -> str:
        return REMOVED if comment.is_removed else comment.text

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    def _redacting(self, fields: Sequence[Any], request: HttpRequest) -> list[Any]:
        if self.has_moderate_permission(request):
            return list(fields)
        shown = {"author": "author_shown", "text": "text_shown"}
        return [shown.get(name, name) if isinstance(name, str) else name for name in fields]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return self._redacting(self.list_display, request)

    def get_fields(self, request: HttpRequest, obj: Comment | None = None) -> list[Any]:
        return self._redacting(self.readonly_fields, request)

    def get_readonly_fields(self, request: HttpRequest, obj: Comment | None = None) -> list[str]:
        return self._redacting(self.readonly_fields, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Comment], search_term: str
    ) -> tuple[QuerySet[Comment], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term and not self.has_moderate_permission(request):
            found = found.filter(removed_at__isnull=True)  # a match would tell what a removed one said
        return found, may_have_duplicates

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Comment | None:
        comment = super().get_object(request, object_id, from_field)
        if comment is not None and comment.is_removed and not self.has_moderate_permission(request):
            return redacted(comment)
        return comment

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False  # nobody edits what a viewer wrote; moderators remove or restore

    def has_delete_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        # Deleting is removing (softly), which is moderation.
        return self.has_moderate_permission(request) and super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # "Remove selected comments" is the soft version
        return found

    @admin.action(description="Remove selected comments", permissions=["moderate"])
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = actions.remove_comments(comments=queryset, by=_moderator(request))
        self.message_user(request, f"Removed {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Approve selected held comments (publish them)", permissions=["moderate"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = review.review_selected(comments=list(queryset), approve_them=True)
        self.message_user(request, f"Approved {count} held comment(s).", messages.SUCCESS)

    @admin.action(description="Reject selected held comments", permissions=["moderate"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = review.review_selected(comments=list(queryset), approve_them=False)
        self.message_user(request, f"Rejected {count} held comment(s).", messages.SUCCESS)

    @admin.action(description="Restore selected comments", permissions=["moderate"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = actions.restore_comments(comments=queryset)
        self.message_user(request, f"Restored {count} comment(s).", messages.SUCCESS)

    @admin.action(
        description="Ban the authors from this room and remove all their comments here", permissions=["moderate"]
    )
    def ban_in_room_and_remove(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        pairs: dict[tuple[int, int], tuple[User, Room | None]] = {
            (comment.author_id, comment.room_id): (comment.author, comment.room)
            for comment in queryset.select_related("author", "room")
        }
        ban_and_remove(request, self, [pairs[key] for key in sorted(pairs)])

    @admin.action(description="Ban the authors everywhere and remove all their comments", permissions=["moderate"])
    def ban_everywhere_and_remove(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        authors = {comment.author for comment in queryset.select_related("author")}
        ban_and_remove(request, self, [(author, None) for author in sorted(authors, key=lambda user: user.pk)])

    # The delete button removes softly too: moderation never loses a comment.
    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        actions.remove_comment(comment=obj, by=_moderator(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        actions.remove_comments(comments=queryset, by=_moderator(request))


class BanForm(forms.ModelForm[Ban]):
    # A username, not a user picker: moderators cannot open the user list (it shows e-mails), and
    # a raw id would send them looking for numbers they cannot see.
    user = forms.ModelChoiceField(
        queryset=User.objects.all(),
        to_field_name="username",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        label="Username",
        error_messages={"invalid_choice": "There is no user with that username."},
    )

    class Meta:
        model = Ban
        fields = ["user", "room", "reason", "until"]


@admin.register(Ban)
class BanAdmin(TellsFinishedJobs, admin.ModelAdmin[Ban]):
    form = BanForm
    list_display = ["user", "room", "reason", "ends", "created_by", "created_at"]
    list_select_related = ["user", "room", "created_by"]

    @admin.display(description="ends", ordering="until")
    def ends(self, ban: Ban) -> str:
        """A timeout's end, and whether it is over (an ended timeout no longer counts: nothing
        has to lift it)."""
        if ban.until is None:
            return "never"
        over = " (over)" if ban.until <= timezone.now() else ""
        return f"{timezone.localtime(ban.until):%Y-%m-%d %H:%M:%S}{over}"

    search_fields = ["user__username", "room__slug", "room__title", "reason"]
    raw_id_fields = ["room"]
    readonly_fields = ["created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Ban | None = None) -> list[str]:
        # A ban stays on the user it was made for; lift it (delete) and ban someone else instead.
        return [*self.readonly_fields, "user"] if obj is not None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Ban, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = _moderator(request)
        super().save_model(request, obj, form, change)


@admin.register(BlockedWord)
class BlockedWordAdmin(TellsFinishedJobs, admin.ModelAdmin[BlockedWord]):
    list_display = ["word", "room", "created_at"]
    list_select_related = ["room"]
    search_fields = ["word", "room__slug", "room__title"]
    raw_id_fields = ["room"]


@admin.register(ModerationJob)
class ModerationJobAdmin(TellsFinishedJobs, admin.ModelAdmin[ModerationJob]):
    """Bulk "ban and remove" jobs, read-only: what each removed so far and what is left."""

    list_display = ["created_at", "target", "where", "moderator", "status", "removed_count", "left", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["target", "room", "moderator"]
    search_fields = ["target__username", "moderator__username", "room__slug", "room__title"]
    readonly_fields = [
        "target",
        "room",
        "moderator",
        "status",
        "removed_count",
        "created_at",
        "started_at",
        "finished_at",
        "notified_at",
    ]
    list_per_page = 50
    actions = ["run_again"]

    @admin.action(description="Run the selected unfinished jobs again", permissions=["moderate"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[ModerationJob]) -> None:
        """For a job whose worker died: Redis redelivers it only after its visibility timeout."""
        unfinished = list(queryset.exclude(status=ModerationJob.Status.DONE).values_list("pk", flat=True))
        for job_id in unfinished:
            transaction.on_commit(partial(run_moderation_job.delay, job_id), robust=True)
        self.message_user(request, f"Queued {len(unfinished)} job(s) again.", messages.SUCCESS)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    @admin.display(description="where")
    def where(self, job: ModerationJob) -> str:
        return job.room.title if job.room is not None else "everywhere"

    @admin.display(description="comments left")
    def left(self, job: ModerationJob) -> int:
        return bulk.comments_in_scope(job).filter(removed_at__isnull=True).count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModerationJob | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModerationJob | None = None) -> bool:
        return False


# Staff who may see the user list (not moderators: it shows e-mails) ban from it too: "everywhere"
# only. Moderators ban from a comment the user wrote (the comment admin, filtered by room or
# searched by username) or by username in the Ban admin.
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(TellsFinishedJobs, BaseUserAdmin[User]):
    actions = ["ban_everywhere_and_remove"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    @admin.action(description="Ban the users everywhere and remove all their comments", permissions=["moderate"])
    def ban_everywhere_and_remove(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ban_and_remove(request, self, [(user, None) for user in queryset.order_by("pk")])


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin[Question]):
    """Hotline questions: dismiss (redacted from the stream, like a removed comment) or restore,
    through the same actions as the room's. Non-moderators never see a dismissed one's text."""

    list_display = ["created_at", "room", "author", "text", "votes", "status"]
    list_display_links = ["created_at"]
    list_filter = [("room", admin.RelatedOnlyFieldListFilter), "status", "created_at"]
    search_fields = ["author__username", "room__title", "room__slug"]
    list_select_related = ["room", "author"]
    readonly_fields = ["room", "author", "text", "votes", "status", "created_at", "closed_at", "closed_by"]
    actions = ["dismiss_selected", "restore_selected"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_question")

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        if self.has_moderate_permission(request):
            return list(self.list_display)
        return ["created_at", "room", "author_shown", "text_shown", "votes", "status"]

    @admin.display(description="author")
    def author_shown(self, question: Question) -> str:
        return REMOVED if question.status == Question.Status.DISMISSED else question.author.username

    @admin.display(description="text")
    def text_shown(self, question: Question) -> str:
        return REMOVED if question.status == Question.Status.DISMISSED else question.text

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return False  # dismissing is the soft version

    @admin.action(description="Dismiss selected questions", permissions=["moderate"])
    def dismiss_selected(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        count = sum(questions.dismiss_question(question=q, by=_moderator(request)) for q in queryset)
        self.message_user(request, f"Dismissed {count} question(s).", messages.SUCCESS)

    @admin.action(description="Restore selected questions", permissions=["moderate"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        count = sum(questions.restore_question(question=q) for q in queryset)
        self.message_user(request, f"Restored {count} question(s).", messages.SUCCESS)


admin.site.unregister(Room)


@admin.register(Room)
class LiveRoomAdmin(RoomAdmin):
    """The rooms app's admin, plus one click from a room to its comments (comments plugs in here
    rather than rooms importing comments)."""

    list_display = [*RoomAdmin.list_display, "follow_comments"]

    def get_fields(self, request: HttpRequest, obj: Room | None = None) -> list[Any]:
        return [*super().get_fields(request, obj), "follow_comments"]

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "follow_comments"]

    @admin.display(description="comments (live)")
    def follow_comments(self, room: Room) -> SafeString:
        url = f"{reverse('admin:comments_comment_changelist')}?room__id__exact={room.pk}"
        return format_html('<a href="{}">{}</a>', url, "Follow comments" if room.is_live else "Comments")
