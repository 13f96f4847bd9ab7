from typing import Any

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comments.actions import subject_of
        from rooms.events import register_subject

        # A comment's `comment.created` can be redacted when it is removed (comments.actions).
        register_subject("comment.created", lambda fields: subject_of(_comment_id(fields)))


def _comment_id(fields: dict[str, Any]) -> int:
    return int(fields["comment"]["id"])
