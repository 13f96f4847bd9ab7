"""`{% replay_url room user as url %}`: the replay page's address when `user` may watch a ready
replay of `room` (the ended page links to it), else ""."""

from __future__ import annotations

from django import template
from django.urls import reverse

from rooms.models import Room
from rooms.replay import AnyUser, ReplayRefused, replay_access

register = template.Library()


@register.simple_tag
def replay_url(room: Room, user: AnyUser) -> str:
    try:
        replay_access(room=room, user=user)
    except ReplayRefused:
        return ""
    return reverse("rooms:replay", kwargs={"slug": room.slug})
