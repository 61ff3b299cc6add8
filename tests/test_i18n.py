"""The interface in Chinese: every marked string translated, the catalogue current with the code, the
language chosen per user and remembered, ``<html lang>`` right, compiled without GNU gettext."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from credit_platform.catalogs import catalogue_paths, compile_catalogue, read_catalogue, untranslated
from credit_platform.models import AuditEntry, UserPreference
from credit_platform.roles import Role
from tests.conftest import REQUIRE_SERVICES
from tests.factories import CustomerFactory

ROOT = Path(settings.BASE_DIR)


def test_every_catalogue_of_the_project_is_fully_translated():
    paths = list(catalogue_paths())
    assert ROOT / "locale/zh_Hans/LC_MESSAGES/django.po" in paths
    for po in paths:
        assert untranslated(po) == [], f"{po.relative_to(ROOT)} has untranslated or fuzzy entries"


def _msgids(po: Path) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_catalogue(po) if m.id}


@pytest.mark.skipif(not shutil.which("xgettext") and not REQUIRE_SERVICES, reason="makemessages needs GNU gettext")
def test_makemessages_finds_nothing_new(tmp_path, monkeypatch):
    """Run makemessages over the whole project: no catalogue gains or loses a string. (The files are
    restored afterwards, whatever happens.)"""
    before = {po: po.read_bytes() for po in catalogue_paths()}
    ids_before = {po: _msgids(po) for po in before}
    monkeypatch.chdir(ROOT)
    try:
        call_command("makemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "var", "node_modules", "build"],
                     no_obsolete=True, no_location=True, verbosity=0)
        after = list(catalogue_paths())
        assert set(after) == set(before), "makemessages created a catalogue that is not committed"
        for po in after:
            new = _msgids(po) - ids_before[po]
            gone = ids_before[po] - _msgids(po)
            assert not new, f"{po.relative_to(ROOT)}: strings marked but not in the catalogue: {sorted(new)[:10]}"
            assert not gone, f"{po.relative_to(ROOT)}: strings no longer in the code: {sorted(gone)[:10]}"
            assert untranslated(po) == []
    finally:
        for po, content in before.items():
            po.write_bytes(content)


def test_catalogues_compile_without_gettext(tmp_path):
    po = tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"
    po.parent.mkdir(parents=True)
    shutil.copy(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po", po)
    mo = compile_catalogue(po)
    assert mo.exists() and mo.stat().st_size > 10_000
    assert list(catalogue_paths(tmp_path)) == [po]


@pytest.mark.django_db
def test_the_language_is_chosen_per_user_and_remembered(client, org, member):
    officer = member(org, Role.CREDIT_OFFICER)
    client.force_login(officer)
    english = client.get(reverse("customer-list")).content.decode()
    assert '<html lang="en">' in english and "Customers" in english
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("customer-list")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    chinese = client.get(reverse("customer-list")).content.decode()  # the cookie remembers the choice
    assert '<html lang="zh-Hans">' in chinese
    assert "客户" in chinese and "找到" in chinese and "No customers match" not in chinese
    assert 'value="zh-hans" selected' in chinese

    # kept with the user (in the ledger): another browser, signed in later, speaks Chinese from the start
    assert UserPreference.objects.get(user=officer).language == "zh-hans"
    entry = AuditEntry.objects.get(organization=org, action="user.language_changed")
    assert (entry.before, entry.after) == ({"language": None}, {"language": "zh-hans"})
    elsewhere = Client()
    elsewhere.force_login(officer)
    page = elsewhere.get(reverse("customer-list"))
    assert '<html lang="zh-Hans">' in page.content.decode()
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # another user, and a visitor before signing in, still get English
    colleague = Client()
    colleague.force_login(member(org, Role.CREDIT_OFFICER))
    assert '<html lang="en">' in colleague.get(reverse("customer-list")).content.decode()
    assert '<html lang="en">' in Client().get(reverse("login")).content.decode()
    # back to English in the second browser: the first one follows at its next sign-in
    elsewhere.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert UserPreference.objects.get(user=officer).language == "en"
    client.logout()
    client.force_login(officer)
    assert '<html lang="en">' in client.get(reverse("customer-list")).content.decode()
    # a language the product does not have changes nothing
    elsewhere.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert UserPreference.objects.get(user=officer).language == "en"


@pytest.mark.django_db
def test_chinese_pages_use_chinese_words_for_statuses_and_headings(client, org, member):
    CustomerFactory(organization=org, legal_name="Acme Trading", status="on_hold")
    client.force_login(member(org, Role.CREDIT_OFFICER))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for name in ("home", "customer-list", "collections-overview", "collections-worklist", "collections-ecl",
                 "scoring-home"):
        page = client.get(reverse(name))
        text = page.content.decode()
        assert page.status_code == 200, name
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", text, flags=re.S)
        for word in ("Customers", "Overdue", "Exposure", "Status", "Search", "Filter", "Total", "Previous"):
            assert not re.search(rf"\b{word}\b", body), f"{name}: '{word}' left in English"
    assert "暂停赊销" in client.get(reverse("customer-list")).content.decode()


def test_every_model_and_field_name_has_a_translation():
    from credit_platform.labels import untranslated_labels

    assert untranslated_labels() == []


@pytest.mark.django_db
def test_the_admin_reads_in_chinese(client, org, member):
    CustomerFactory(organization=org)
    user = member(org, Role.ADMIN)
    user.is_staff = True
    user.save()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "选择 客户 来修改" in page and "Select customer" not in page and "选择 customer" not in page
    assert "信用平台" in page
    form = client.get(reverse("admin:customers_customer_add")).content.decode()
    assert "法定名称" in form and "Legal name" not in form


@pytest.mark.django_db
def test_the_statement_e_mail_reads_in_the_customers_language(org, settings, django_capture_on_commit_callbacks):
    import datetime as dt
    from decimal import Decimal

    from django.core import mail

    from receivables.statements import statement_send
    from tests.factories import InvoiceFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    chinese = CustomerFactory(organization=org, legal_name="北京长城贸易有限公司", email="ap@cn.example.com",
                              country_id="CN")
    english = CustomerFactory(organization=org, legal_name="Acme Ltd", email="ap@acme.example.com")
    for c in (chinese, english):
        InvoiceFactory(customer=c, amount=Decimal("100.00"), issue_date=dt.date(2026, 1, 1))
        with django_capture_on_commit_callbacks(execute=True):
            statement_send(customer=c, as_of=dt.date(2026, 3, 1), actor=None)
    by_to = {m.to[0]: m for m in mail.outbox}
    zh = by_to["ap@cn.example.com"]
    assert "对账单" in zh.subject and "北京长城贸易有限公司：" in zh.body
    assert by_to["ap@acme.example.com"].subject.startswith("Statement of account as of 2026-03-01")
