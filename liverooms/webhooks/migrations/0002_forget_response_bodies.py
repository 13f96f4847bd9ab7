"""Attempts no longer keep what a receiver answered, only its status (issue #12): forget the
response bodies recorded before (up to 500 characters of whatever answered on an endpoint's
address, shown in the admin). A status summary of ours takes their place."""

from http import HTTPStatus

from django.db import migrations


def summary(code):  # type: ignore[no-untyped-def]
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def forget(apps, schema_editor):  # type: ignore[no-untyped-def]
    Attempt = apps.get_model("webhooks", "Attempt")
    Delivery = apps.get_model("webhooks", "Delivery")
    for model, code_field, text_field in ((Attempt, "status_code", "error"), (Delivery, "last_status_code", "last_error")):
        answered = model.objects.filter(**{f"{code_field}__isnull": False}).exclude(**{text_field: ""})
        for code in set(answered.values_list(code_field, flat=True)):
            answered.filter(**{code_field: code}).update(**{text_field: summary(code)})


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]
    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
