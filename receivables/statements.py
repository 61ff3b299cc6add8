"""Statements of account: a customer's open items, their aging and the payments received, as PDF
(reportlab) and by e-mail, on demand or monthly (``CollectionProfile.statement_monthly``, on the
policy's ``statement_day``).

CJK names render with WenQuanYi Micro Hei when the font is installed (Debian ``fonts-wqy-microhei``),
else with reportlab's built-in STSong-Light CID font, which needs no file.

Customer and organization text is data, never markup: reportlab's ``Paragraph`` reads a mini-HTML
(``<img src>`` embeds a server file, ``<a href>`` keeps a link, an unclosed ``<b>`` raises), so every
value that goes into a paragraph is escaped (``_text``) and capped in length.

A statement that cannot be built or sent is recorded as failed on its dispatch with the reason, and the
ledger says ``statement.sent`` or ``statement.failed`` for what actually happened; the monthly batch goes
on with the next customer.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from credit_platform.audit import audit_append
from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from customers.models import Customer

from .models import CollectionProfile, StatementDispatch
from .selectors import (
    AGING_BUCKETS,
    Aging,
    aging_from_rows,
    customer_balances,
    invoices_of,
    open_items_grouped,
    payments_of,
)

logger = logging.getLogger(__name__)

CJK_FONT_FILES = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
]
PAYMENTS_DAYS = 90
# Longest text of one paragraph: an address is capped at 1,000 characters by the model (a postal address
# is a few hundred); older rows are cut here too, so one record cannot make a PDF take minutes to lay out.
PARAGRAPH_MAX_CHARS = 1000


def _text(value: Any, limit: int = PARAGRAPH_MAX_CHARS) -> str:
    """Data for a reportlab Paragraph: cut to ``limit`` characters, markup characters escaped, line breaks
    kept as breaks."""
    raw = "" if value is None else str(value)
    if len(raw) > limit:
        raw = raw[: limit - 1] + "…"
    return "<br/>".join(escape(line) for line in raw.splitlines()) if raw else ""


def _cell(value: Any, limit: int = 120) -> str:
    """Data for a table cell (drawn as plain text by reportlab): one line, capped."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attachment_filename(external_id: str, as_of: dt.date) -> str:
    """A file name that is safe in any header (Content-Disposition, MIME): letters, digits, dot, dash and
    underscore only; an external id with quotes, CR/LF or non-ASCII characters cannot inject a header
    parameter or break the header."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", external_id).strip("._")[:64] or "customer"
    return f"statement-{safe}-{as_of.isoformat()}.pdf"


@lru_cache(maxsize=1)
def pdf_font() -> str:
    """Register a font that covers Latin and CJK; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for path in CJK_FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont("WQYMicroHei", str(path), subfontIndex=0))
            return "WQYMicroHei"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


@dataclass
class StatementLine:
    number: str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    currency: str
    days_past_due: int


@dataclass
class Statement:
    organization: Organization
    customer: Customer
    as_of: dt.date
    lines: list[StatementLine] = field(default_factory=list)
    aging_by_currency: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    aging_base: Aging | None = None
    payments: list[Any] = field(default_factory=list)

    def open_by_currency(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            out[line.currency] += line.open_amount
        return dict(out)

    def aging_total_by_currency(self) -> dict[str, Decimal]:
        return {cur: sum(b.values(), ZERO) for cur, b in self.aging_by_currency.items()}


def statement_build(organization: Organization, customer: Customer, as_of: dt.date) -> Statement:
    """Open items (one query), aging by currency (the aging SQL of ``receivables.selectors``) and the
    payments of the last 90 days."""
    st = Statement(organization, customer, as_of)
    for inv in (
        invoices_of(organization)
        .filter(customer=customer)
        .open(as_of)
        .order_by("due_date", "number")
    ):
        st.lines.append(
            StatementLine(
                inv.number,
                inv.issue_date,
                inv.due_date,
                inv.amount,
                money(inv.open_amount),
                inv.currency,
                inv.days_past_due(as_of, inv.open_amount),
            )
        )
    rows = open_items_grouped(organization, as_of, by_customer=True, customer_ids=[customer.pk])
    aging: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys([b[0] for b in AGING_BUCKETS], ZERO)
    )
    for _cid, currency, bucket, amount, _count, _oldest in rows:
        aging[currency][bucket] += money(str(amount))
    st.aging_by_currency = dict(aging)
    fx = FxTable.load(organization, as_of, set(aging))
    # The customer's document shows its totals per currency; the base-currency line is left out rather
    # than printed without the amounts whose currency has no rate.
    convertible = all(cur in fx.rates for cur in aging)
    st.aging_base = aging_from_rows([(r[1], r[2], r[3], r[4]) for r in rows], as_of, fx) if convertible else None
    st.payments = list(
        payments_of(organization)
        .filter(
            customer=customer,
            received_on__gt=as_of - dt.timedelta(days=PAYMENTS_DAYS),
            received_on__lte=as_of,
        )
        .with_unapplied()
        .order_by("-received_on", "-pk")
    )
    return st


def statement_pdf(st: Statement) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=base, fontSize=15, leading=19, spaceAfter=4)
    head = ParagraphStyle("head", parent=base, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)

    def table(data: list[list[Any]], widths: list[float], numeric_from: int) -> Table:
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                    ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3dd")),
                ]
            )
        )
        return t

    c = st.customer
    story: list[Any] = [
        Paragraph(f"Statement of account / 对账单 - {_text(st.organization.name)}", title),
        Paragraph(f"{_text(c.legal_name)} ({_text(c.external_id)})", head),
        Paragraph(f"As of {st.as_of:%Y-%m-%d}.", base),
        Paragraph(_text(c.address), base),
        Spacer(1, 4 * mm),
        Paragraph("Open items / 未结发票", head),
    ]
    lines = [["Invoice", "Issued", "Due", "Amount", "Open", "Cur.", "Days late"]]
    lines += [
        [
            _cell(ln.number),
            f"{ln.issue_date:%Y-%m-%d}",
            f"{ln.due_date:%Y-%m-%d}",
            f"{ln.amount:,.2f}",
            f"{ln.open_amount:,.2f}",
            ln.currency,
            str(ln.days_past_due or ""),
        ]
        for ln in st.lines
    ]
    for cur, total in sorted(st.open_by_currency().items()):
        lines.append(["Total", "", "", "", f"{total:,.2f}", cur, ""])
    story.append(table(lines, [34 * mm, 22 * mm, 22 * mm, 27 * mm, 27 * mm, 13 * mm, 18 * mm], 3))
    story.append(Paragraph("Aging / 账龄", head))
    aging = [["Currency", *[label for _k, label, _l, _h in AGING_BUCKETS], "Total"]]
    for cur, buckets in sorted(st.aging_by_currency.items()):
        aging.append(
            [cur, *[f"{buckets[k]:,.2f}" for k, *_ in AGING_BUCKETS], f"{sum(buckets.values(), ZERO):,.2f}"]
        )
    if st.aging_base is not None and len(st.aging_by_currency) > 1:
        aging.append(
            [
                f"{st.aging_base.base_currency} (base)",
                *[f"{st.aging_base.buckets.get(k, ZERO):,.2f}" for k, *_ in AGING_BUCKETS],
                f"{st.aging_base.total:,.2f}",
            ]
        )
    story.append(table(aging, [26 * mm] + [21 * mm] * 6 + [24 * mm], 1))
    story.append(Paragraph(f"Payments received in the last {PAYMENTS_DAYS} days / 近期收款", head))
    pays = [["Received", "Reference", "Amount", "Cur.", "On account"]]
    pays += [
        [
            f"{p.received_on:%Y-%m-%d}",
            _cell(p.reference),
            f"{p.amount:,.2f}",
            p.currency,
            f"{p.unapplied_amount:,.2f}",
        ]
        for p in st.payments
    ]
    story.append(table(pays, [26 * mm, 50 * mm, 30 * mm, 15 * mm, 30 * mm], 2))
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_cell(f"Statement {c.external_id} {st.as_of}"),
        author=_cell(st.organization.name),
    ).build(story)
    return buf.getvalue()


def statement_recipient(customer: Customer) -> str:
    """The address statements go to: the collections profile's dunning e-mail, else the customer's."""
    profile = CollectionProfile.objects.filter(customer=customer).first()
    return (profile.dunning_email if profile and profile.dunning_email else "") or customer.email


def _record(d: StatementDispatch, status: str, error: str = "") -> StatementDispatch:
    """Mark the dispatch and append what happened to the ledger, in the caller's transaction."""
    d.status, d.error = status, error[:2000]
    fields = ["status", "error"]
    if status == "sent":
        d.sent_at = timezone.now()
        fields.append("sent_at")
    d.save(update_fields=fields)
    if status in ("sent", "failed"):
        audit_append(
            organization=d.organization_id,
            actor=d.created_by,
            action=f"statement.{status}",
            obj=d.customer,
            after={"as_of": d.as_of, "to": d.to_email, "kind": d.kind, "dispatch": d.pk,
                   **({"error": d.error[:300]} if error else {})},
        )
    return d


def statement_dispatch_send(dispatch: StatementDispatch) -> StatementDispatch:
    """Build and e-mail one statement; marked sent (and recorded in the ledger) in the transaction of its
    send, so it is never sent twice once marked. Whatever stops it (data the PDF cannot lay out, a
    missing FX rate, the mail server) marks it failed with the reason instead of raising: a batch goes on
    with the next customer, and a failed dispatch is retried by the next pass."""
    with transaction.atomic():
        d = (
            StatementDispatch.objects.select_for_update(skip_locked=True, of=("self",))  # the dispatch only
            .select_related("customer", "organization", "created_by")
            .filter(pk=dispatch.pk, status__in=["pending", "failed"])
            .first()
        )
        if d is None:
            return dispatch
        if not d.to_email:
            return _record(d, "no_address")
        try:
            with transaction.atomic():  # a savepoint: a database error while building leaves d writable
                pdf = statement_pdf(statement_build(d.organization, d.customer, d.as_of))
            names = {"day": f"{d.as_of:%Y-%m-%d}", "org": d.organization.name, "name": d.customer.legal_name}
            with translation.override(customer_language(d.customer)):
                subject = " ".join((gettext("Statement of account as of %(day)s - %(org)s") % names).split())
                body = gettext("Dear %(name)s,\n\nplease find attached your statement of account as of %(day)s."
                               "\n\nKind regards,\n%(org)s - Credit management\n") % names
            mail = EmailMessage(subject[:300], body, settings.DEFAULT_FROM_EMAIL, [d.to_email])
            mail.attach(attachment_filename(d.customer.external_id, d.as_of), pdf, "application/pdf")
            mail.send()
        except Exception as exc:  # recorded on the dispatch and in the ledger; the batch goes on
            logger.warning("statement %s of customer %s to %s failed: %r", d.pk, d.customer_id, d.to_email, exc)
            return _record(d, "failed", f"{type(exc).__name__}: {exc}")
        return _record(d, "sent")


def customer_language(customer: Customer) -> str:
    """The language the customer reads: its collections profile's, else Chinese for customers in CN, HK,
    MO and TW (as the dunning messages choose), else English."""
    from .dunning.messages import ZH_COUNTRIES
    from .models import CollectionProfile

    chosen = CollectionProfile.objects.filter(customer=customer).values_list("language", flat=True).first()
    if chosen:
        return chosen
    return "zh-hans" if customer.country_id in ZH_COUNTRIES else "en"


@transaction.atomic
def statement_send(*, customer: Customer, as_of: dt.date, actor: Any) -> StatementDispatch:
    """E-mail a statement now (after commit). The ledger records the outcome of the send
    (``statement.sent`` or ``statement.failed``, by the requesting user), not the request."""
    d = StatementDispatch.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        as_of=as_of,
        kind=StatementDispatch.Kind.ON_DEMAND,
        to_email=statement_recipient(customer),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: statement_dispatch_send(d))
    return d


def statements_send_scheduled(*, organization: Organization, as_of: dt.date) -> int:
    """Monthly statements to the customers that asked for them and owe something: one dispatch per
    customer and date (unique), so a repeated schedule sends nothing twice."""
    ids = list(
        CollectionProfile.objects.for_organization(organization)
        .filter(statement_monthly=True)
        .values_list("customer_id", flat=True)
    )
    owing = [cid for cid, bal in customer_balances(organization, as_of, ids).items() if bal.open > 0]
    customers = Customer.objects.for_organization(organization).in_bulk(owing)
    StatementDispatch.objects.bulk_create(
        [
            StatementDispatch(
                organization=organization,
                customer=c,
                as_of=as_of,
                kind=StatementDispatch.Kind.SCHEDULED,
                to_email=statement_recipient(c),
            )
            for c in customers.values()
        ],
        ignore_conflicts=True,
    )
    sent = 0
    for d in StatementDispatch.objects.for_organization(organization).filter(
        as_of=as_of, kind=StatementDispatch.Kind.SCHEDULED, status__in=["pending", "failed"]
    ).order_by("pk"):
        sent += statement_dispatch_send(d).status == "sent"  # never raises: a failure is recorded on d
    return sent
