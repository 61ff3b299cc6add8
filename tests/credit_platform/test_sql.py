"""``credit_platform.sql.fetch_prepared``: the rows of a statement, planned once per connection on
PostgreSQL, seen by query counts like any query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_platform.sql import fetch_prepared
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
SQL = "SELECT o.slug FROM credit_platform_organization o WHERE o.id = %s AND o.slug <> %s"


def test_rows_with_parameters_counted_as_queries():
    org = OrganizationFactory(slug="acme")
    with CaptureQueriesContext(connection) as queries:
        assert fetch_prepared(SQL, [org.pk, "x"]) == [("acme",)]
        assert fetch_prepared(SQL, [org.pk, "acme"]) == []
    assert len(queries) == 2 and "credit_platform_organization" in queries[0]["sql"]


@pytest.mark.postgres
def test_planned_once_per_connection_and_not_at_all_when_switched_off(settings):
    org = OrganizationFactory(slug="acme")

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(generic_plans + custom_plans) FROM pg_prepared_statements "
                           "WHERE statement LIKE %s", ["%o.slug <> $2%"])
            return cursor.fetchone()[0] or 0

    for _ in range(3):
        fetch_prepared(SQL, [org.pk, "x"])
    assert prepared() == 3
    assert connection.connection.prepare_threshold is None  # Django's own statements are still not prepared
    settings.DATABASE_PREPARED_STATEMENTS = False
    assert fetch_prepared(SQL, [org.pk, "x"]) == [("acme",)] and prepared() == 3
