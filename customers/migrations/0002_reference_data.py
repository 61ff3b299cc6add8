import pycountry
from django.db import migrations


def load(apps, schema_editor):
    from customers.reference_data import COUNTRY_RISK, DEFAULT_COUNTRY_RISK, SECTORS

    Country = apps.get_model("customers", "Country")
    Sector = apps.get_model("customers", "Sector")
    Country.objects.bulk_create(
        [
            Country(code=c.alpha_2, name=getattr(c, "common_name", c.name)[:100],
                    risk_level=COUNTRY_RISK.get(c.alpha_2, DEFAULT_COUNTRY_RISK))
            for c in pycountry.countries
        ],
        ignore_conflicts=True,
    )
    Sector.objects.bulk_create([Sector(code=c, name=n, risk_level=r) for c, n, r in SECTORS], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
