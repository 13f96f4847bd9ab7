"""Moderators also keep the blocked-word lists."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_blockedword", "add_blockedword", "change_blockedword", "delete_blockedword"]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        group.permissions.add(*Permission.objects.filter(content_type__app_label="comments", codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [("comments", "0003_blockedword")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
