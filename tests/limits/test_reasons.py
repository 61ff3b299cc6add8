"""The reasons the nightly run writes (the increase it proposes, the reviews it opens, the dunning holds it
lifts) are stored as a code with values and read in the reader's language; rows written before, as English
text, are turned into codes by the migration, and any other text is shown as stored."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from limits import reasons
from limits.models import Hold, LimitRequest, Review
from limits.nightly import dunning_holds_lift, nightly_run
from limits.services import decision_apply, limit_request_approve
from scoring.models import CurrentScore, GradeChange
from scoring.services import scoring_setup
from tests.factories import CustomerFactory, InvoiceFactory, StatementFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 29)
migration = importlib.import_module("limits.migrations.0002_reason_codes")


def proposal(org):
    """A customer the nightly run proposes to raise (grade 2, a limit well below its recommendation)."""
    model = scoring_setup(organization=org)
    customer = CustomerFactory(organization=org, legal_name="Better GmbH")
    CurrentScore.objects.create(organization=org, customer=customer, as_of=TODAY, model=model, model_version=1,
                                pd=0.003, grade=2, computed_at=timezone.now())
    StatementFactory(customer=customer, organization=org, equity=Decimal("2000000"), total_assets=Decimal("6000000"),
                     total_liabilities=Decimal("4000000"), current_assets=Decimal("2000000"),
                     revenue=Decimal("5000000"))
    InvoiceFactory(customer=customer, amount=Decimal("1000000"), issue_date=dt.date(2026, 6, 1),
                   due_date=dt.date(2026, 6, 30))
    decision_apply(organization=org, customer=customer, limit=Decimal("50000"), kind="approved", actor=None,
                   as_of=dt.date(2026, 6, 1))
    nightly_run(org, TODAY, notify=False)
    return LimitRequest.objects.get(customer=customer, source="nightly")


def test_the_nightly_proposal_is_a_code_read_in_english_and_in_chinese(client, org, staff):
    request = proposal(org)
    amount = request.reason_details["amount"]
    assert (request.reason, request.reason_code) == ("", "nightly_recommendation")
    assert request.reason_details == {"amount": amount, "currency": "EUR", "grade": 2}
    shown = f"{Decimal(amount):,.2f}"  # e.g. 219,000.00
    with translation.override("en"):
        assert request.reason_text == f"Nightly recommendation {shown} EUR (grade 2)"
    with translation.override("zh-hans"):
        assert request.reason_text == f"夜间批处理建议额度 {shown} EUR（等级 2）"
    # the ledger keeps it in the site's language, with the code and values
    entry = AuditEntry.objects.get(action="limit_request.created", object_id=str(request.pk))
    assert entry.reason == f"Nightly recommendation {shown} EUR (grade 2)"
    assert entry.after["reason_code"] == "nightly_recommendation" and entry.after["reason_details"]["grade"] == 2
    # the queue, as the Chinese approver reads it
    client.force_login(staff(org, Role.FINANCE_APPROVER, approval_limit="1000000"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("limits-queue")).content.decode()
    assert "夜间批处理建议额度" in page and "ightly recommendation" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Nightly recommendation" in client.get(reverse("limits-queue")).content.decode()


def test_the_api_answers_the_reason_in_the_callers_language_and_as_a_code(org, staff):
    request = proposal(org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff(org, Role.INTEGRATOR)).key}")
    [row] = client.get("/api/v1/limits/requests/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert row["id"] == request.pk and row["reason_code"] == "nightly_recommendation"
    assert row["reason_details"]["grade"] == 2 and row["reason"].startswith("夜间批处理建议额度")


def test_approving_the_proposal_without_a_comment_gives_the_ledger_its_reason(org, staff):
    request = proposal(org)
    limit_request_approve(organization=org, request=request, actor=staff(org, Role.FINANCE_APPROVER,
                                                                          approval_limit="1000000"), comment="")
    entry = AuditEntry.objects.get(action="limit.decided", after__request=request.pk)
    assert entry.reason.startswith("Nightly recommendation ")


def test_the_reviews_it_opens_and_the_holds_it_lifts_read_in_the_readers_language(org):
    model = scoring_setup(organization=org)
    new = CustomerFactory(organization=org)
    downgraded = CustomerFactory(organization=org)
    CurrentScore.objects.create(organization=org, customer=downgraded, as_of=TODAY, model=model, model_version=1,
                                pd=0.05, grade=6, computed_at=timezone.now())
    GradeChange.objects.create(organization=org, customer=downgraded, as_of=TODAY, old_grade=4, new_grade=6,
                               old_pd=0.02, new_pd=0.05, model=model, trigger="nightly", changed_at=timezone.now())
    nightly_run(org, TODAY, notify=False)
    first, down = Review.objects.get(customer=new), Review.objects.get(customer=downgraded)
    assert (first.reason, first.reason_code, down.reason_code) == ("", "first_review", "grade_downgraded")
    with translation.override("zh-hans"):
        assert (first.reason_text, down.reason_text) == ("新客户首次复核", "信用等级下调")
    with translation.override("en"):
        assert (first.reason_text, down.reason_text) == ("First review of a new customer", "Grade downgraded")
    held = CustomerFactory(organization=org, status="on_hold")
    hold = Hold.objects.create(organization=org, customer=held, kind="hold", source="dunning", reason="level 3",
                               placed_on=TODAY)
    assert dunning_holds_lift(org, TODAY) == 1
    hold.refresh_from_db()
    assert (hold.release_reason, hold.release_code, hold.release_details) == ("", "overdue_cleared",
                                                                              {"weighted": "0.00"})
    with translation.override("zh-hans"):
        assert hold.release_reason_text == "逾期已结清（加权逾期 0.00）"
    assert AuditEntry.objects.get(action="hold.released").reason == "Overdue cleared (weighted overdue 0.00)"


def test_every_message_reads_in_chinese():
    for code, message in [*reasons.MESSAGES.items(), ("unscored", reasons.UNSCORED_RECOMMENDATION)]:
        with translation.override("en"):
            english = str(message)
        with translation.override("zh-hans"):
            assert str(message) != english, code


def test_old_english_rows_become_codes_and_other_text_stays(org):
    customer = CustomerFactory(organization=org)
    other = CustomerFactory(organization=org)
    old = LimitRequest.objects.create(organization=org, customer=customer, currency="EUR", requested_limit=1,
                                      requested_limit_base=1, source="nightly", policy_version=1,
                                      expires_on=TODAY, reason="nightly recommendation 33000.00 (grade 3)")
    unscored = LimitRequest.objects.create(organization=org, customer=other, currency="EUR", requested_limit=1,
                                           requested_limit_base=1, source="nightly", policy_version=1,
                                           expires_on=TODAY, status="expired",
                                           reason="nightly recommendation 1000.00 (grade None)")
    typed = LimitRequest.objects.create(organization=org, customer=other, currency="EUR", requested_limit=1,
                                        requested_limit_base=1, source="officer", policy_version=1,
                                        expires_on=TODAY, reason="nightly recommendation 5.00 (grade 1)")
    review = Review.objects.create(organization=org, customer=customer, kind="new_customer", due_on=TODAY,
                                   reason="first review")
    kept = Review.objects.create(organization=org, customer=other, kind="manual", due_on=TODAY,
                                 reason="asked by sales")
    lifted = Hold.objects.create(organization=org, customer=customer, kind="hold", source="dunning", reason="x",
                                 placed_on=TODAY, released_at=timezone.now(),
                                 release_reason="overdue cleared (weighted 12.50)")
    migration.texts_to_codes(apps, None)
    for row in (old, unscored, typed, review, kept, lifted):
        row.refresh_from_db()
    assert (old.reason, old.reason_code, old.reason_details) == (
        "", "nightly_recommendation", {"amount": "33000.00", "currency": "EUR", "grade": 3})
    assert unscored.reason_details["grade"] is None and typed.reason_code == ""  # an officer's text is theirs
    assert (review.reason, review.reason_code, kept.reason, kept.reason_code) == ("", "first_review",
                                                                                  "asked by sales", "")
    assert (lifted.release_code, lifted.release_details) == ("overdue_cleared", {"weighted": "12.50"})
    with translation.override("zh-hans"):
        assert old.reason_text == "夜间批处理建议额度 33,000.00 EUR（等级 3）"
        assert unscored.reason_text == "夜间批处理建议额度 1,000.00 EUR（未评分）"
        assert (typed.reason_text, kept.reason_text) == ("nightly recommendation 5.00 (grade 1)", "asked by sales")
    migration.codes_to_texts(apps, None)  # and back
    old.refresh_from_db()
    lifted.refresh_from_db()
    assert old.reason == "nightly recommendation 33000.00 (grade 3)"
    assert lifted.release_reason == "overdue cleared (weighted 12.50)"


def test_an_unknown_code_is_refused_when_written_and_shown_as_stored_when_read():
    with pytest.raises(ValueError, match="unknown reason code"):
        reasons.check_code("made_up")
    assert reasons.reason_text("made_up", {}, "as typed") == "as typed"
    assert reasons.reason_text("", {"amount": "1"}, "as typed") == "as typed"
