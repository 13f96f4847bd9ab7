from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from comments.models import VISIBLE, Comment
from liverooms.errors import ActionError
from liverooms.throttles import in_words
from rooms import actions, limits
from rooms.forms import GoLiveForm
from rooms.models import Room
from rooms.queries import live_rooms

RECENT_COMMENTS = 50


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
                format_html('{} <a href="{}">Go back to it</a>, or end it there first.', error.message, url),
            )
            status = 409
        except ActionError as error:
            if error.code == "rate_limited":
                retry = error.fields["retry_after"]
                form.add_error("title", f"{error.message} Try again {in_words(retry)}.")
                status = 429
            else:
                form.add_error("title", error.message)
        else:
            return redirect("rooms:detail", slug=room.slug)
    response = render(request, "home.html", {"form": form, "rooms": live_rooms()}, status=status)
    if retry:
        response["Retry-After"] = str(retry)
    return response


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The room page. The server renders the seats and recent comments (readable without
    JavaScript); rooms/static/rooms/room.js then keeps it live from the room's websocket."""
    room = get_object_or_404(Room.objects.select_related("host"), slug=slug)
    if request.user.pk == room.host_id:
        actions.note_host_seen(room=room)
    seats = room.seats.select_related("user").order_by("index")
    recent = (
        Comment.objects.filter(VISIBLE, room=room)
        .select_related("author")
        .order_by("-created_at", "-id")[:RECENT_COMMENTS]
    )
    return render(request, "rooms/room.html", {"room": room, "seats": seats, "comments": reversed(recent)})
