"""The Moderators group: exactly the permissions moderation needs, nothing else."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Moderators"
PERMISSIONS = [
    ("comments", "view_comment"),
    ("comments", "moderate_comment"),
    ("comments", "view_ban"),
    ("comments", "add_ban"),
    ("comments", "change_ban"),
    ("comments", "delete_ban"),
    ("rooms", "view_room"),
    ("rooms", "end_room"),
    ("rooms", "view_seat"),
]


def create_group(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for label in ("comments", "rooms"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_group(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("rooms", "0001_initial"),
        ("comments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
