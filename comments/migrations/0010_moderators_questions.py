"""Moderators see questions and dismiss or restore them (Hotline)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [("comments", "view_question"), ("comments", "moderate_question")]


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    for label in ("comments",):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        for app_label, codename in PERMISSIONS:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):  # type: ignore[no-untyped-def]
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        for app_label, codename in PERMISSIONS:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [("comments", "0009_hotline")]
    operations = [migrations.RunPython(grant, revoke)]
