"""The sector of customers an import creates before their sector is known: they are flagged for completion
by this code (``customers.importers.UNKNOWN_SECTOR``)."""

from django.db import migrations


def add(apps, schema_editor):
    Sector = apps.get_model("customers", "Sector")
    # Middle of the 1-5 sector scale: unknown is neither safe nor risky.
    Sector.objects.get_or_create(code="UNK", defaults={"name": "Unknown (to be completed)", "risk_level": 3})


def remove(apps, schema_editor):
    apps.get_model("customers", "Sector").objects.filter(code="UNK", customer__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0001_initial"), ("customers", "0002_reference_data")]
    operations = [migrations.RunPython(add, remove)]
