from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from liverooms.errors import ActionError
from liverooms.throttles import in_words
from rooms import actions, limits
from rooms.forms import GoLiveForm
from rooms.models import Room, RoomStats
from rooms.pages import page_parts, recap_parts
from rooms.queries import live_rooms


@require_POST
@login_required
def create(request: HttpRequest) -> HttpResponse:
    """The home page's "Go live" form: open a room with you on seat 0, unless you are live
    already or have opened rooms too quickly (`rooms.limits`)."""
    form = GoLiveForm(request.POST)
    status, retry = 400, 0
    if form.is_valid():
        host: User = request.user  # type: ignore[assignment]
        try:
            room = actions.create_room(host=host, title=form.cleaned_data["title"])
        except limits.AlreadyLive as error:
            url = reverse("rooms:detail", kwargs={"slug": error.room.slug})
            form.add_error(
                "title",
                format_html(
                    _('{message} <a href="{url}">Go back to it</a>, or end it there first.'),
                    message=error.message,
                    url=url,
                ),
            )
            status = 409
        except ActionError as error:
            if error.code == "rate_limited":
                retry = error.fields["retry_after"]
                form.add_error(
                    "title", _("%(reason)s Try again %(when)s.") % {"reason": error.message, "when": in_words(retry)}
                )
                status = 429
            else:
                form.add_error("title", error.message)
        else:
            return redirect("rooms:detail", slug=room.slug)
    response = render(request, "home.html", {"form": form, "rooms": live_rooms()}, status=status)
    if retry:
        response["Retry-After"] = str(retry)
    return response


def duration_in_words(seconds: int) -> str:
    """How long a live lasted: "1 h 05 min", "12 min", "40 s"."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return ngettext("%(minutes)d min", "%(minutes)d min", minutes) % {"minutes": minutes}
    return ngettext("%(seconds)d s", "%(seconds)d s", secs) % {"seconds": secs}


def recap(room: Room) -> dict[str, object]:
    """The ended page's figures: how long it lasted, its peak audience, and what other apps add
    (rooms.pages: its visible comments)."""
    began = room.started_at or room.created_at
    lasted = int(((room.ended_at or began) - began).total_seconds())
    stats = RoomStats.objects.filter(room=room).first()
    return {
        "duration": duration_in_words(lasted),
        "peak_viewers": stats.peak_viewers if stats else 0,
        **recap_parts(room),
    }


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The room page. The server renders the seats and recent comments (readable without
    JavaScript); rooms/static/rooms/room.js then keeps it live from the room's websocket. An
    ended room shows its recap and other lives instead."""
    room = get_object_or_404(Room.objects.select_related("host"), slug=slug)
    if room.status == Room.Status.ENDED:
        others = [other for other in live_rooms(limit=7) if other.pk != room.pk][:6]
        return render(request, "rooms/room.html", {"room": room, "recap": recap(room), "other_rooms": others})
    if request.user.pk == room.host_id:
        actions.note_host_seen(room=room)
    seats = list(room.seats.select_related("user").order_by("index"))
    context = {
        "room": room,
        "seats": seats,
        "seated": sum(1 for seat in seats if seat.user_id is not None),
        "on_air": any(seat.publishing for seat in seats),
        **page_parts(room),
    }
    return render(request, "rooms/room.html", context)
