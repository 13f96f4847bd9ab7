"""Moderators no longer see the user list (it shows every user's e-mail): they ban from a comment
or by username in the Ban admin (issue #11)."""

from django.db import migrations

PERMISSION = ("auth", "view_user")


def revoke(apps, schema_editor):  # type: ignore[no-untyped-def]
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        app_label, codename = PERMISSION
        Permission = apps.get_model("auth", "Permission")
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        app_label, codename = PERMISSION
        Permission = apps.get_model("auth", "Permission")
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("comments", "0007_comment_client_ref")]
    operations = [migrations.RunPython(revoke, grant)]
