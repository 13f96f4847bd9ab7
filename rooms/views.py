from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from comments.models import Comment
from liverooms.errors import ActionError
from rooms import actions
from rooms.forms import GoLiveForm
from rooms.models import Room
from rooms.queries import live_rooms

RECENT_COMMENTS = 50


@require_POST
@login_required
def create(request: HttpRequest) -> HttpResponse:
    """The home page's "Go live" form: open a room with you on seat 0."""
    form = GoLiveForm(request.POST)
    if form.is_valid():
        try:
            room = actions.create_room(host=request.user, title=form.cleaned_data["title"])  # type: ignore[arg-type]
        except ActionError as error:
            form.add_error("title", error.message)
        else:
            return redirect("rooms:detail", slug=room.slug)
    return render(request, "home.html", {"form": form, "rooms": live_rooms()}, status=400)


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The room page. The server renders the seats and recent comments (readable without
    JavaScript); rooms/static/rooms/room.js then keeps it live from the room's websocket."""
    room = get_object_or_404(Room.objects.select_related("host"), slug=slug)
    if request.user.pk == room.host_id:
        actions.note_host_seen(room=room)
    seats = room.seats.select_related("user").order_by("index")
    recent = (
        Comment.objects.filter(room=room, removed_at__isnull=True)
        .select_related("author")
        .order_by("-created_at", "-id")[:RECENT_COMMENTS]
    )
    return render(request, "rooms/room.html", {"room": room, "seats": seats, "comments": reversed(recent)})
