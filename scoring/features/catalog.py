"""The scoring features: name, group, risk direction, how a value is shown, and the reason texts.

One entry per feature column that ``compute_features`` returns. ``direction`` is +1 when risk rises
with the value, -1 when it falls, 0 when the relation is not monotone (both collapses and spikes of
order volume are warning signs); the trainer receives these as monotone constraints.

Reason texts (English and Chinese) are registered with ``scoring.modeling.reasons`` under the
feature's name, and under ``<name>:missing`` for the sentence shown when the value is missing
(e.g. "No financial statements on file"). ``{value}`` is replaced by the value formatted with
``fmt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scoring.modeling.reasons import REASON_TEMPLATES, reason_texts, register_reason_template

PAYMENTS, ORDERS, FINANCIALS, EXTERNAL, PROFILE = "payments", "orders", "financials", "external", "profile"
GROUP_LABELS = {
    PAYMENTS: ("Payment behaviour", "付款行为"),
    ORDERS: ("Orders", "订单"),
    FINANCIALS: ("Financial statements", "财务报表"),
    EXTERNAL: ("External data", "外部数据"),
    PROFILE: ("Profile", "客户概况"),
}


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    direction: int
    label: str
    label_zh: str
    reason_en: str
    reason_zh: str
    fmt: str = "{:.0f}"  # how {value} is written in a reason
    missing_en: str = ""
    missing_zh: str = ""

    def format(self, value: Any) -> str:
        if self.fmt == "pct":
            return f"{value * 100:.0f}%"
        if self.fmt == "pct+":
            return f"{value * 100:+.0f}%"
        return self.fmt.format(value)


def _f(*args: Any, **kwargs: Any) -> Feature:
    return Feature(*args, **kwargs)


FEATURES: list[Feature] = [
    # --- payment behaviour: invoices due in the window; an invoice still open counts with its days
    # past due so far (a customer who stops paying does not look punctual)
    _f("dbt_avg_3m", PAYMENTS, 1, "Days beyond terms, average, 3 months", "近3个月平均逾期天数",
       "Pays on average {value} days late over the last 3 months", "近3个月平均逾期{value}天"),
    _f("dbt_avg_6m", PAYMENTS, 1, "Days beyond terms, average, 6 months", "近6个月平均逾期天数",
       "Pays on average {value} days late over the last 6 months", "近6个月平均逾期{value}天"),
    _f("dbt_avg_12m", PAYMENTS, 1, "Days beyond terms, average, 12 months", "近12个月平均逾期天数",
       "Pays on average {value} days late over the last 12 months", "近12个月平均逾期{value}天"),
    _f("dbt_wavg_3m", PAYMENTS, 1, "Days beyond terms, amount-weighted, 3 months", "近3个月金额加权逾期天数",
       "Weighted by amount, pays {value} days late over the last 3 months", "近3个月按金额加权平均逾期{value}天"),
    _f("dbt_wavg_6m", PAYMENTS, 1, "Days beyond terms, amount-weighted, 6 months", "近6个月金额加权逾期天数",
       "Weighted by amount, pays {value} days late over the last 6 months", "近6个月按金额加权平均逾期{value}天"),
    _f("dbt_wavg_12m", PAYMENTS, 1, "Days beyond terms, amount-weighted, 12 months", "近12个月金额加权逾期天数",
       "Weighted by amount, pays {value} days late over the last 12 months",
       "近12个月按金额加权平均逾期{value}天"),
    _f("late_share_12m", PAYMENTS, 1, "Share of invoices paid late, 12 months", "近12个月逾期发票占比",
       "{value} of invoices paid late in the last 12 months", "近12个月{value}的发票逾期付款", fmt="pct"),
    _f("dbt_max_12m", PAYMENTS, 1, "Maximum days late, 12 months", "近12个月最长逾期天数",
       "Paid an invoice {value} days late in the last 12 months", "近12个月曾有发票逾期{value}天"),
    _f("late30_count_12m", PAYMENTS, 1, "Invoices 30+ days late, 12 months", "近12个月逾期30天以上次数",
       "{value} invoice(s) paid 30+ days late in the last 12 months", "近12个月有{value}张发票逾期30天以上"),
    _f("late60_count_12m", PAYMENTS, 1, "Invoices 60+ days late, 12 months", "近12个月逾期60天以上次数",
       "{value} invoice(s) paid 60+ days late in the last 12 months", "近12个月有{value}张发票逾期60天以上"),
    _f("late90_count_12m", PAYMENTS, 1, "Invoices 90+ days late, 12 months", "近12个月逾期90天以上次数",
       "{value} invoice(s) 90+ days late in the last 12 months", "近12个月有{value}张发票逾期90天以上"),
    _f("dbt_trend", PAYMENTS, 1, "Change in days late (last 3 months vs the 9 before)", "逾期天数变化趋势",
       "Paying {value} days later than in the previous 9 months", "付款比前9个月平均晚{value}天",
       fmt="{:+.0f}"),
    _f("invoices_due_12m", PAYMENTS, 0, "Invoices due, 12 months", "近12个月到期发票数",
       "Only {value} invoice(s) due in the last 12 months", "近12个月仅有{value}张到期发票"),
    _f("max_dpd_open", PAYMENTS, 1, "Days past due of the oldest open invoice", "未付发票最长逾期天数",
       "An open invoice is {value} days past due", "有未付发票已逾期{value}天"),
    _f("overdue_amount", PAYMENTS, 1, "Overdue amount (base currency)", "逾期金额（本位币）",
       "{value} overdue", "逾期金额{value}", fmt="{:,.0f}"),
    _f("overdue_share", PAYMENTS, 1, "Overdue share of open receivables", "逾期占应收比例",
       "{value} of open receivables are overdue", "{value}的应收账款已逾期", fmt="pct"),
    _f("utilisation", PAYMENTS, 1, "Credit limit utilisation", "信用额度使用率",
       "Uses {value} of its credit limit", "已使用信用额度的{value}", fmt="pct"),
    _f("dso", PAYMENTS, 1, "Customer's DSO (days)", "客户应收账款周转天数",
       "Customer DSO of {value} days", "客户应收账款周转天数为{value}天"),
    # --- orders
    _f("order_volume_trend", ORDERS, 0, "Order volume, last 3 months vs the 9 before", "订单量变化",
       "Order volume changed by {value} against the previous 9 months", "订单量较前9个月变化{value}",
       fmt="pct+"),
    _f("order_anomaly_z", ORDERS, 1, "Largest recent order, standard deviations above usual", "订单异常度",
       "Unusually large recent order ({value} standard deviations above usual)",
       "近期订单异常偏大（高于常态{value}个标准差）", fmt="{:.1f}"),
    # --- financial statements: the latest one available on the as-of date (period end + 120 days)
    _f("current_ratio", FINANCIALS, -1, "Current ratio", "流动比率",
       "Low current ratio ({value})", "流动比率偏低（{value}）", fmt="{:.2f}"),
    _f("quick_ratio", FINANCIALS, -1, "Quick ratio", "速动比率",
       "Low quick ratio ({value})", "速动比率偏低（{value}）", fmt="{:.2f}"),
    _f("debt_to_equity", FINANCIALS, 1, "Debt / equity", "资产负债率（负债/权益）",
       "High leverage (debt/equity {value})", "杠杆偏高（负债/权益{value}）", fmt="{:.1f}"),
    _f("equity_ratio", FINANCIALS, -1, "Equity / total assets", "权益比率",
       "Thin equity ({value} of total assets)", "权益偏薄（占总资产{value}）", fmt="pct"),
    _f("interest_coverage", FINANCIALS, -1, "Interest coverage (EBIT / interest)", "利息保障倍数",
       "Weak interest coverage ({value}x)", "利息保障倍数偏低（{value}倍）", fmt="{:.1f}"),
    _f("net_margin", FINANCIALS, -1, "Net margin", "净利润率",
       "Low net margin ({value})", "净利润率偏低（{value}）", fmt="pct"),
    _f("roa", FINANCIALS, -1, "Return on assets", "总资产收益率",
       "Low return on assets ({value})", "总资产收益率偏低（{value}）", fmt="pct"),
    _f("ocf_to_current_liabilities", FINANCIALS, -1, "Operating cash flow / current liabilities",
       "经营现金流/流动负债", "Weak operating cash flow ({value} of current liabilities)",
       "经营现金流偏弱（为流动负债的{value}）", fmt="pct"),
    _f("altman_z2", FINANCIALS, -1, "Altman Z''", "Altman Z''值",
       "Weak Altman Z'' score ({value})", "Altman Z''值偏低（{value}）", fmt="{:.2f}"),
    _f("revenue_growth", FINANCIALS, -1, "Revenue growth vs the prior period", "营收增长率",
       "Revenue changed by {value} against the prior period", "营收较上期变化{value}", fmt="pct+"),
    _f("altman_z2_change", FINANCIALS, -1, "Change in Altman Z'' vs the prior period", "Altman Z''变化",
       "Altman Z'' changed by {value} against the prior period", "Altman Z''较上期变化{value}",
       fmt="{:+.2f}"),
    _f("net_margin_change", FINANCIALS, -1, "Change in net margin vs the prior period", "净利润率变化",
       "Net margin changed by {value} points against the prior period", "净利润率较上期变化{value}个百分点",
       fmt="{:+.1f}"),
    _f("statement_age_days", FINANCIALS, 1, "Age of the latest statement (days since period end)",
       "最新财报距今天数", "Latest financial statement is {value} days old", "最新财务报表已过去{value}天",
       missing_en="No financial statements on file", missing_zh="无财务报表"),
    # --- external
    _f("bureau_score", EXTERNAL, -1, "Bureau score (0-100)", "征信评分（0-100）",
       "Low bureau score ({value} of 100)", "征信评分偏低（{value}/100）",
       missing_en="No bureau score available", missing_zh="无征信评分"),
    _f("bureau_score_change", EXTERNAL, -1, "Change of the bureau score vs the previous one", "征信评分变化",
       "Bureau score changed by {value} points", "征信评分变化{value}分", fmt="{:+.0f}"),
    _f("litigation_12m", EXTERNAL, 1, "Litigation cases, 12 months", "近12个月诉讼数",
       "{value} litigation case(s) in the last 12 months", "近12个月有{value}起诉讼"),
    _f("negative_news_12m", EXTERNAL, 1, "Negative news, 12 months", "近12个月负面新闻数",
       "{value} negative news report(s) in the last 12 months", "近12个月有{value}条负面新闻"),
    _f("payment_default_12m", EXTERNAL, 1, "Payment defaults reported by others, 12 months", "近12个月他方报告违约",
       "{value} payment default(s) reported by other creditors in the last 12 months",
       "近12个月有{value}次其他债权人报告的付款违约"),
    _f("insolvency_filing", EXTERNAL, 1, "Insolvency filing on record", "破产申请记录",
       "Insolvency filing on record", "存在破产申请记录"),
    _f("country_risk", EXTERNAL, 1, "Country risk (0-7, OECD)", "国家风险（0-7）",
       "Country risk level {value} of 7", "国家风险等级{value}/7"),
    _f("sector_risk", EXTERNAL, 1, "Sector risk (1-5)", "行业风险（1-5）",
       "Sector risk level {value} of 5", "行业风险等级{value}/5"),
    # --- profile
    _f("relationship_years", PROFILE, -1, "Years as a customer", "合作年限",
       "Customer for only {value} year(s)", "合作仅{value}年", fmt="{:.1f}",
       missing_en="Start of the relationship unknown", missing_zh="合作起始时间未知"),
    _f("size_rank", PROFILE, -1, "Company size (0 micro .. 3 large)", "企业规模（0微型..3大型）",
       "Small company (size {value} of 3)", "企业规模较小（{value}/3）"),
]

# Flags: missing data made explicit. A customer without statements still gets a score; the flag says
# which part of the picture was missing (and is stored with the score).
FLAG_FEATURES = {"no_statement", "no_bureau", "no_payment_history"}
FEATURES += [
    _f("no_statement", FINANCIALS, 1, "No financial statement available", "无可用财务报表",
       "No financial statements on file", "无财务报表"),
    _f("no_bureau", EXTERNAL, 1, "No bureau score available", "无征信评分",
       "No bureau score available", "无征信评分"),
    _f("no_payment_history", PAYMENTS, 1, "No invoice due in the last 12 months", "近12个月无到期发票",
       "No payment history in the last 12 months", "近12个月无付款记录"),
]
# A reason whose feature has no value (a new customer has no payment history, so its "days late" is not
# known): a sentence about what is missing, never the feature's sentence with "n/a" in it. Features with
# a sentence of their own (``missing_en``) use that one.
MISSING_BY_GROUP: dict[str, tuple[str, str]] = {
    PAYMENTS: ("No payment history yet", "暂无付款记录"),
    ORDERS: ("No order history yet", "暂无订单记录"),
    FINANCIALS: ("No financial statements on file", "无财务报表"),
    EXTERNAL: ("No data yet: {label}", "暂无数据：{label}"),
    PROFILE: ("Not known yet: {label}", "暂未知：{label}"),
}
# Special reason (not a feature): the customer is in default on the as-of date.
IN_DEFAULT_REASON = ("in_default", "In default since {value}", "自{value}起违约")

BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
FEATURE_NAMES: list[str] = [f.name for f in FEATURES]
MONOTONE: dict[str, int] = {f.name: f.direction for f in FEATURES if f.direction}


def register_templates() -> None:
    for f in FEATURES:
        register_reason_template(f.name, f.reason_en, f.reason_zh)
        if f.missing_en:
            register_reason_template(f"{f.name}:missing", f.missing_en, f.missing_zh)
    register_reason_template(IN_DEFAULT_REASON[0], IN_DEFAULT_REASON[1], IN_DEFAULT_REASON[2])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def reason_text(code: str, value: Any) -> tuple[str, str]:
    """(English, Chinese) sentence for a reason code and the feature's value."""
    feature = BY_NAME.get(code)
    if feature is None:
        return reason_texts(code, value)
    if _missing(value):
        key = f"{code}:missing"
        if key in REASON_TEMPLATES:
            return reason_texts(key, "")
        en, zh = MISSING_BY_GROUP.get(feature.group, ("No data yet: {label}", "暂无数据：{label}"))
        return en.format(label=feature.label.lower()), zh.format(label=feature.label_zh)
    return reason_texts(code, feature.format(value))


register_templates()
