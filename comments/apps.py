from typing import Any

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plug the comment app (comments, reactions, Q&A, moderation in the room) into the room:
        rooms owns the socket, its snapshot, stream, hub and pages, and imports no app of ours."""
        from comments import figures, pages, questions, reactions, replay, state
        from comments.actions import subject_of
        from comments.handlers import HANDLERS, WITH_REF
        from comments.moderators import is_moderator
        from rooms.catalogue import COMMENT_CREATED, QUESTION_CREATED, QUESTION_SPOTLIGHTED, ROOM_UPDATED
        from rooms.events import register_subject
        from rooms.handlers import register_handler
        from rooms.hub import register_tick
        from rooms.pages import register_page, register_recap
        from rooms.replay import register_comment_track
        from rooms.snapshot import register_moderator_check, register_state
        from rooms.stats import register_figures
        from rooms.tally import register_reactions

        # What a removal or a dismissal redacts (rooms.events.redact): a comment's
        # `comment.created` and the `room.updated` that pinned it; a question's `question.created`
        # and `question.spotlighted`.
        register_subject(COMMENT_CREATED, lambda fields: subject_of(_comment_id(fields)))
        register_subject(ROOM_UPDATED, _pinned_subject)
        register_subject(QUESTION_CREATED, lambda fields: questions.subject_of(int(fields["question"]["id"])))
        register_subject(QUESTION_SPOTLIGHTED, _spotlight_subject)
        register_tick(questions.flush_votes, pending=questions.votes_pending)
        # The socket's frames, its snapshot, reactions, the pages and the room's figures.
        for frame_type, handler in HANDLERS.items():
            register_handler(frame_type, handler, with_ref=frame_type in WITH_REF)
        register_state(state.add_to_state)
        register_moderator_check(lambda user, room: is_moderator(user=user, room=room))
        register_reactions(check=reactions.check_kind, add_to_totals=reactions.add_to_totals)
        register_page(pages.room_page)
        register_comment_track(replay.comment_track)
        register_recap(pages.recap)
        register_figures(figures.count)


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
