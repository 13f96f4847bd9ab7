from typing import Any

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comments import questions
        from comments.actions import subject_of
        from rooms.events import register_subject
        from rooms.hub import register_tick

        # What a removal or a dismissal redacts (rooms.events.redact): a comment's
        # `comment.created` and the `room.updated` that pinned it; a question's `question.created`
        # and `question.spotlighted`.
        register_subject("comment.created", lambda fields: subject_of(_comment_id(fields)))
        register_subject("room.updated", _pinned_subject)
        register_subject("question.created", lambda fields: questions.subject_of(int(fields["question"]["id"])))
        register_subject("question.spotlighted", _spotlight_subject)
        register_tick(questions.flush_votes, pending=questions.votes_pending)


def _comment_id(fields: dict[str, Any]) -> int:
    return int(fields["comment"]["id"])


def _pinned_subject(fields: dict[str, Any]) -> str:
    from comments.actions import subject_of

    pinned = fields.get("room", {}).get("pinned")
    return subject_of(int(pinned["id"])) if pinned else ""


def _spotlight_subject(fields: dict[str, Any]) -> str:
    from comments.questions import subject_of

    question = fields.get("question")
    return subject_of(int(question["id"])) if question else ""
