"""A printable credit report of one customer (PDF), in the reader's language: profile, grade and PD with
reasons, exposure and limit, aging of its open invoices, payment behaviour, hold reason. CJK text uses
WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``) through the statement's font helper."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from credit_platform.models import Organization
from receivables.statements import _cell, _text, pdf_font
from scoring.selectors import customer_current_score

from .dossier import customer_dossier
from .models import Customer
from .selectors import customer_360


def _money(value: Any, decimals: int = 0) -> str:
    return "–" if value is None else f"{value:,.{decimals}f}"


def credit_report_pdf(organization: Organization, customer: Customer, as_of: dt.date, language: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    facts = customer_360(organization, customer, as_of)
    dossier = customer_dossier(organization, customer, as_of)
    score = customer_current_score(organization, customer)
    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=15, leading=19, spaceAfter=4)
    head = ParagraphStyle("head", parent=base, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)

    def table(data: list[list[Any]], widths: list[float], numeric_from: int = 1) -> Table:
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d3dd")),
        ]))
        return t

    with translation.override(language):
        base_ccy = organization.base_currency
        bal = facts["balance"]
        story: list[Any] = [
            Paragraph(_text(_("Credit report: %(name)s") % {"name": customer.legal_name}), title),
            Paragraph(_text(_("%(org)s · as of %(day)s · in %(currency)s") % {
                "org": organization.name, "day": as_of.isoformat(), "currency": base_ccy}), base),
            Spacer(1, 3 * mm),
            Paragraph(_("Profile"), head),
            table([
                [_("Field"), _("Value")],
                [_("External id"), _cell(customer.external_id)],
                [_("Status"), _cell(customer.get_status_display())],
                [_("Country"), _cell(customer.country.name)],
                [_("Sector"), _cell(f"{customer.sector.code} {customer.sector.name}")],
                [_("Group"), _cell(customer.group.name if customer.group else "–")],
                [_("Payment terms"), _("%(days)s days") % {"days": customer.payment_terms_days}],
            ], [50 * mm, 120 * mm], numeric_from=2),
        ]
        if dossier["hold"] is not None:
            story.append(Paragraph(_text(_("On hold because: %(reason)s") % {
                "reason": dossier["hold"].reason or _("no reason recorded")}), base))
        story.append(Paragraph(_("Default risk"), head))
        if score:
            story.append(Paragraph(_text(_("Grade %(grade)s of 10, PD over 12 months %(pd)s, scored on %(day)s.") % {
                "grade": score["grade"], "pd": f"{score['pd'] * 100:.2f}%", "day": score["as_of"].isoformat()}), base))
            story.extend(Paragraph("• " + _text(reason["text_zh"] if language.startswith("zh") else reason["text_en"]),
                                   base) for reason in score.get("reasons", [])[:5])
        else:
            story.append(Paragraph(_("Not scored yet."), base))
        story.append(Paragraph(_("Exposure and limit"), head))
        story.append(table([
            [_("Figure"), base_ccy],
            [_("Open receivables"), _money(bal.open if bal else 0)],
            [_("Overdue"), _money(bal.overdue if bal else 0)],
            [_("Open orders"), _money(facts["open_orders"])],
            [_("Exposure"), _money(facts["exposure"])],
            [_("Credit limit (%(currency)s)") % {"currency": customer.currency}, _money(customer.credit_limit)],
        ], [90 * mm, 50 * mm]))
        story.append(Paragraph(_("Open invoices"), head))
        lines = [[_("Number"), _("Due"), _("Amount"), pgettext("amount", "Open"), _("Days past due")]]
        lines += [[_cell(i.number), i.due_date.isoformat(), f"{_money(i.amount, 2)} {i.currency}",
                   _money(i.open_amount, 2), str(i.dpd)] for i in facts["open_invoices"][:30]]
        story.append(table(lines, [40 * mm, 25 * mm, 40 * mm, 35 * mm, 25 * mm], numeric_from=2))
        story.append(Paragraph(_("Payment behaviour"), head))
        rows = [[_("Month"), _("Paid"), _("Days beyond terms")]]
        rows += [[p.month.strftime("%Y-%m"), _money(p.paid), f"{p.days_beyond_terms:.1f}"]
                 for p in dossier["behaviour"]]
        story.append(table(rows, [40 * mm, 50 * mm, 50 * mm]))
        out = io.BytesIO()
        SimpleDocTemplate(out, pagesize=A4, title=_("Credit report"), leftMargin=18 * mm, rightMargin=18 * mm,
                          topMargin=16 * mm, bottomMargin=16 * mm).build(story)
    return out.getvalue()
