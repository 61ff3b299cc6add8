"""Words, not internals: what a user reads on the pages says what happened, in English and Chinese."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from credit_platform.imports.engine import import_file
from credit_platform.roles import Role
from customers.models import Customer
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.models import StatementDispatch
from scoring.features.catalog import FEATURES, reason_text
from scoring.selectors import render_reasons
from scoring.services import score_customers, scoring_setup
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_dunning_subjects_read_as_the_customer_reads_them(client, org, member):
    dunning_policy_ensure_default(org)
    client.force_login(member(org, Role.CREDIT_MANAGER))
    page = html.unescape(client.get(reverse("collections-dunning")).content.decode())
    assert "Payment reminder - Acme" in page
    assert "{{ organization }}" not in page


def test_a_dry_run_import_says_it_was_a_dry_run_and_nothing_was_written(client, org, member, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,legal_name,country,sector,currency\nD1,Dry One,DE,C,EUR\nD2,Dry Two,DE,C,EUR\n",
                    encoding="utf-8")
    log = import_file(organization=org, kind="customers", path=path, dry_run=True)
    assert not Customer.objects.exists()
    client.force_login(member(org, Role.CREDIT_OFFICER))
    detail = html.unescape(client.get(reverse("import-detail", args=[log.pk])).content.decode())
    assert "Dry run: valid, nothing written" in detail
    assert "nothing was written" in detail and "would create 2" in detail
    assert '<span class="badge succeeded">Imported</span>' not in detail and "2 created" not in detail
    listing = client.get(reverse("import-list")).content.decode()
    assert "Dry run: nothing written" in listing and '<span class="badge succeeded">' not in listing


def test_a_new_customers_reason_never_reads_n_a_days_late():
    assert reason_text("dbt_avg_3m", None) == ("No payment history yet", "暂无付款记录")
    for feature in FEATURES:
        en, zh = reason_text(feature.name, None)
        assert "n/a" not in en and "n/a" not in zh and "{" not in en, feature.name
    reasons = render_reasons([{"code": c, "value": None, "impact": 0.2}
                              for c in ("dbt_avg_3m", "dbt_avg_6m", "dbt_wavg_12m", "bureau_score")])
    assert [r["text_en"] for r in reasons] == ["No payment history yet", "No bureau score available"]
    assert [r["text_zh"] for r in reasons] == ["暂无付款记录", "无征信评分"]


def test_a_new_customer_page_shows_sensible_reasons(client, org, member):
    scoring_setup(organization=org)
    new = CustomerFactory(organization=org, customer_since=None)
    score_customers(organization=org, customer_ids=[new.pk])
    client.force_login(member(org, Role.CREDIT_OFFICER))
    page = client.get(reverse("customer-detail", args=[new.pk])).content.decode()
    assert "n/a" not in page and "missing days" not in page


def test_the_collections_file_labels_the_risk_weight_truthfully(client, org, member):
    scoring_setup(organization=org)
    scored, unscored = CustomerFactory(organization=org), CustomerFactory(organization=org)
    score_customers(organization=org, customer_ids=[scored.pk])
    client.force_login(member(org, Role.COLLECTOR))
    page = html.unescape(client.get(reverse("collections-file", args=[scored.pk])).content.decode())
    assert "1 + 9 × PD (PD " in page and "status × days past due" not in page
    page = html.unescape(client.get(reverse("collections-file", args=[unscored.pk])).content.decode())
    assert "not scored yet: status × (1 + days past due / 90)" in page


def test_e_mail_statement_asks_for_confirmation_first(client, org, member, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    c = CustomerFactory(organization=org, email="ap@customer.example")
    InvoiceFactory(customer=c, organization=org)
    client.force_login(member(org, Role.COLLECTOR))
    url = reverse("collections-file", args=[c.pk])
    page = client.get(url).content.decode()
    assert 'name="confirm" value=""' in page and "window.confirm(" in page  # the JavaScript shortcut
    ask = client.post(url, {"action": "statement"})
    assert ask.status_code == 200 and not StatementDispatch.objects.exists()
    text = html.unescape(ask.content.decode())
    assert "E-mail a statement of account?" in text and "ap@customer.example" in text
    assert 'name="confirm" value="1"' in text
    assert client.post(url, {"action": "statement", "confirm": "1"}).status_code == 302
    assert StatementDispatch.objects.get().to_email == "ap@customer.example"
