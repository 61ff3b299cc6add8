"""Reference rows for customers an import creates before their sector (or country) is known: they are
flagged for completion by these codes (``customers.importers.UNKNOWN_SECTOR`` / ``UNKNOWN_COUNTRY``)."""

from django.db import migrations


def add(apps, schema_editor):
    Sector = apps.get_model("customers", "Sector")
    Country = apps.get_model("customers", "Country")
    # Middle of the 1-5 sector scale and of the 0-7 country scale: unknown is neither safe nor risky.
    Sector.objects.get_or_create(code="UNK", defaults={"name": "Unknown (to be completed)", "risk_level": 3})
    Country.objects.get_or_create(code="XX", defaults={"name": "Unknown (to be completed)", "risk_level": 4})


def remove(apps, schema_editor):
    apps.get_model("customers", "Sector").objects.filter(code="UNK", customer__isnull=True).delete()
    apps.get_model("customers", "Country").objects.filter(code="XX", customer__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0001_initial"), ("customers", "0002_reference_data")]
    operations = [migrations.RunPython(add, remove)]
