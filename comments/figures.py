"""The comment app's room figures (rooms.stats.register_figures, from CommentsConfig.ready):
comments and removals, questions, answers and votes, counted when the figures are refreshed."""

from __future__ import annotations

from django.db.models import Count, Q

from comments.models import Comment, Question, QuestionVote


def count(room_id: int) -> dict[str, int]:
    comments = Comment.objects.filter(room_id=room_id).aggregate(
        total=Count("id"), removed=Count("id", filter=Q(removed_at__isnull=False))
    )
    asked = Question.objects.filter(room_id=room_id).aggregate(
        total=Count("id"), answered=Count("id", filter=Q(status=Question.Status.ANSWERED))
    )
    return {
        "comments": comments["total"],
        "removed_comments": comments["removed"],
        "questions": asked["total"],
        "answered_questions": asked["answered"],
        "question_votes": QuestionVote.objects.filter(question__room_id=room_id).count(),
    }
