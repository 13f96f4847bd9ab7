"""The Moderators group: exactly the permissions moderation needs (the data migration creates it).

Not `auth.view_user`: the user list shows every user's e-mail. Moderators ban from a comment the
user wrote (the comment admin) or by username (the Ban admin)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

MODERATORS = "Moderators"
MODERATOR_PERMISSIONS = [
    ("comments", "view_comment"),
    ("comments", "moderate_comment"),
    ("comments", "view_ban"),
    ("comments", "add_ban"),
    ("comments", "change_ban"),
    ("comments", "delete_ban"),
    ("comments", "view_blockedword"),
    ("comments", "add_blockedword"),
    ("comments", "change_blockedword"),
    ("comments", "delete_blockedword"),
    ("comments", "view_moderationjob"),
    ("comments", "view_question"),
    ("comments", "moderate_question"),
    ("rooms", "view_room"),
    ("rooms", "end_room"),
    ("rooms", "view_seat"),
]


def moderators_group() -> Group:
    """The group, with its permissions put back if something removed them."""
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    for app_label, codename in MODERATOR_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group
