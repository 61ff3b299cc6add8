"""Letters created from the default templates before 2026-11-29 say "(1 days overdue)": the item line
of the stored English bodies gets the plural filter. Bodies a user rewrote keep their own wording
(only the exact default snippet is replaced)."""

from django.db import migrations

OLD = "({{ i.days_past_due }} days overdue)"
NEW = "({{ i.days_past_due }} day{{ i.days_past_due|pluralize }} overdue)"


def forwards(apps, schema_editor):
    DunningLevel = apps.get_model("receivables", "DunningLevel")
    for level in DunningLevel.objects.filter(body_en__contains=OLD).only("pk", "body_en"):
        level.body_en = level.body_en.replace(OLD, NEW)
        level.save(update_fields=["body_en"])


def backwards(apps, schema_editor):
    DunningLevel = apps.get_model("receivables", "DunningLevel")
    for level in DunningLevel.objects.filter(body_en__contains=NEW).only("pk", "body_en"):
        level.body_en = level.body_en.replace(NEW, OLD)
        level.save(update_fields=["body_en"])


class Migration(migrations.Migration):
    dependencies = [("receivables", "0004_collections")]
    operations = [migrations.RunPython(forwards, backwards)]
