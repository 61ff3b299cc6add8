"""Statements of account: customer text is data, not PDF markup; a failing customer never stops a batch;
the ledger records what happened to each statement."""

from __future__ import annotations

import re
import shutil
import smtplib
import subprocess

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from customers.models import Customer
from receivables.models import CollectionProfile, StatementDispatch
from receivables.statements import statement_build, statement_pdf, statement_send, statements_send_scheduled
from tests.factories import CustomerFactory

from .conftest import D, invoice

pytestmark = pytest.mark.django_db

# A PNG of 1x1 pixel; embedded as an image XObject if the address were read as markup.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class RefusingBackend(EmailBackend):
    """The mail server refuses recipients whose address starts with "refuse" (a real SMTP failure)."""

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        for m in messages:
            if any(to.startswith("refuse") for to in m.to):
                raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"no such mailbox")})
        return super().send_messages(messages)


def pdf_text(pdf: bytes) -> str | None:
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    text = subprocess.run([tool, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return " ".join(text.split())


def test_statement_address_with_img_tag_embeds_no_server_file(org, tmp_path):
    picture = tmp_path / "local.png"
    picture.write_bytes(PNG)
    c = CustomerFactory(organization=org, address=f'<img src="{picture}" width="200" height="200"/> Main St 1')
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    pdf = statement_pdf(statement_build(org, c, D(2026, 3, 1)))
    assert b"/Subtype /Image" not in pdf
    text = pdf_text(pdf)
    if text is not None:
        assert "<img" in text and "Main St 1" in text  # shown as the text it is


def test_javascript_link_in_an_address_is_not_kept_as_a_link(org):
    c = CustomerFactory(organization=org, address='<a href="javascript:alert(1)">Pay here</a>',
                        legal_name='<link href="javascript:alert(2)">Evil</link> GmbH')
    pdf = statement_pdf(statement_build(org, c, D(2026, 3, 1)))
    assert b"/URI" not in pdf and b"/JavaScript" not in pdf and b"/Link" not in pdf


def test_address_unit_b_7_is_e_mailed_and_recorded_as_sent(client, org, member, settings,
                                                            django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    c = CustomerFactory(organization=org, address="Unit <b>7\nHarbour Road", email="ap@customer.example")
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    client.force_login(member(org, Role.COLLECTOR))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("collections-file", args=[c.pk]), {"action": "statement", "confirm": "1"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert StatementDispatch.objects.get().status == "sent"
    assert list(AuditEntry.objects.filter(action__startswith="statement.").values_list("action", flat=True)) == [
        "statement.sent"
    ]
    text = pdf_text(mail.outbox[0].attachments[0][1])
    if text is not None:
        assert "Unit <b>7" in text


def test_a_refused_statement_is_recorded_as_failed_not_sent(org, member, settings,
                                                           django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.receivables.test_statement_safety.RefusingBackend"
    c = CustomerFactory(organization=org, email="refuse@customer.example")
    invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    user = member(org, Role.COLLECTOR)
    with django_capture_on_commit_callbacks(execute=True):
        statement_send(customer=c, as_of=D(2026, 3, 1), actor=user)
    d = StatementDispatch.objects.get()
    assert d.status == "failed" and "no such mailbox" in d.error
    entries = AuditEntry.objects.filter(action__startswith="statement.")
    assert [(e.action, e.actor_id) for e in entries] == [("statement.failed", user.pk)]


def test_a_customer_whose_statement_fails_does_not_stop_the_monthly_batch(org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    customers = [CustomerFactory(organization=org, email=f"c{i}@customer.example") for i in range(3)]
    for c in customers:
        CollectionProfile.objects.create(organization=org, customer=c, statement_monthly=True)
        invoice(c, "100.00", D(2026, 1, 1), D(2026, 2, 1))
    # an address from an old import that no mail header can carry (raises ValueError, not an SMTP error)
    Customer.objects.filter(pk=customers[1].pk).update(email="c1@customer.example\nBcc: all@x.example")
    assert statements_send_scheduled(organization=org, as_of=D(2026, 3, 1)) == 2
    status = dict(StatementDispatch.objects.values_list("customer_id", "status"))
    assert status == {customers[0].pk: "sent", customers[1].pk: "failed", customers[2].pk: "sent"}
    assert len(mail.outbox) == 2
    actions = sorted(AuditEntry.objects.filter(action__startswith="statement.").values_list("action", flat=True))
    assert actions == ["statement.failed", "statement.sent", "statement.sent"]


def test_statement_pdf_file_name_from_an_external_id_with_a_quote_injects_no_header_parameter(
    client, org, member
):
    client.force_login(member(org, Role.COLLECTOR))
    for external_id in ('A"; filename*=UTF-8\'\'evil.exe; x="', "A\r\nSet-Cookie: a=b", "客户-1"):
        c = CustomerFactory(organization=org, external_id=external_id)
        response = client.get(reverse("collections-statement", args=[c.pk]) + "?as_of=2026-03-01")
        assert response.status_code == 200
        header = response["Content-Disposition"]
        # one parameter, one quoted token of safe characters: nothing can close the quote or add a parameter
        assert re.fullmatch(r'inline; filename="statement-[A-Za-z0-9._-]+-2026-03-01\.pdf"', header), header


def test_a_9_mb_address_from_an_old_row_is_cut_in_the_pdf(org):
    c = CustomerFactory(organization=org)
    Customer.objects.filter(pk=c.pk).update(address="Long Road " * (900 * 1024))  # ~9 MB, written around the bound
    c.refresh_from_db()
    pdf = statement_pdf(statement_build(org, c, D(2026, 3, 1)))
    assert pdf.startswith(b"%PDF") and len(pdf) < 100_000  # laid out from the first 1,000 characters only
