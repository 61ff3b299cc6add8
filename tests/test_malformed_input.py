"""Malformed input answers 4xx, never 500, and writes nothing: pages, admin and API; the API always in
its JSON error format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from receivables.dunning.policy import dunning_policy_ensure_default
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HUGE = "12345678901234567890123"  # 23 digits: beyond any 64-bit id


@pytest.fixture
def world(org, member):
    dunning_policy_ensure_default(org)
    customer = CustomerFactory(organization=org)
    InvoiceFactory(customer=customer, organization=org)
    manager = member(org, Role.ADMIN)
    token = Token.objects.create(user=manager).key
    return {"customer": customer, "manager": manager, "token": token}


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    # (name, method, url, request kwargs); "{c}" is the customer's id
    ("header superscript two", "get", "/customers/", {"HTTP_X_ORGANIZATION": "²"}),
    ("header 23 digits", "get", "/customers/", {"HTTP_X_ORGANIZATION": HUGE}),
    ("api header superscript two", "api-get", "/api/v1/customers/", {"HTTP_X_ORGANIZATION": "²"}),
    ("api header 23 digits", "api-get", "/api/v1/customers/", {"HTTP_X_ORGANIZATION": HUGE}),
    ("api cursor position abc", "api-get", "/api/v1/customers/?cursor=cD1hYmM%3D", {}),  # base64("p=abc")
    ("api cursor garbage", "api-get", "/api/v1/invoices/?cursor=%%%%", {}),
    ("aging as_of year 1", "get", "/receivables/?as_of=0001-01-01", {}),
    ("aging as_of year 9999", "get", "/receivables/?as_of=9999-12-31", {}),
    ("aging as_of not a date", "get", "/receivables/?as_of=yesterday", {}),
    ("ecl as_of year 1", "get", "/receivables/ecl/?as_of=0001-01-01", {}),
    ("statement as_of year 1", "get", "/receivables/customers/{c}/statement.pdf?as_of=0001-01-01", {}),
    ("ecl snapshot as_of year 1", "post", "/receivables/ecl/?as_of=0001-01-01", {"data": {"action": "snapshot"}}),
    ("task abc", "post", "/receivables/collections/{c}/", {"data": {"action": "task_done", "task": "abc"}}),
    ("level abc", "post", "/receivables/dunning/", {"data": {"action": "level", "level": "abc"}}),
    ("level 23 digits", "post", "/receivables/dunning/", {"data": {"action": "level", "level": HUGE}}),
    ("assign 23-digit customer", "post", "/receivables/collections/", {"data": {"customers": [HUGE]}}),
    ("dispute 23 digits", "post", "/receivables/collections/{c}/",
     {"data": {"action": "resolve", "dispute": HUGE, "status": "resolved"}}),
    ("collections file of a 23-digit customer", "get", f"/receivables/collections/{HUGE}/", {}),
    ("customer 360 of a 23-digit customer", "get", f"/customers/{HUGE}/", {}),
    ("admin invoice year overflow", "get", "/admin/receivables/invoice/?issue_date__year=99999999999999999999", {}),
    ("admin invoice month overflow", "get",
     "/admin/receivables/invoice/?issue_date__year=2026&issue_date__month=99999999999999999999", {}),
    ("admin unknown filter", "get", "/admin/receivables/invoice/?no_such_field=1", {}),
    ("api json 100000 deep", "api-post", "/api/v1/promises/",
     {"data": deep_json(100_000), "content_type": "application/json"}),
    ("api json 11 MB", "api-post", "/api/v1/customers/",
     {"data": json.dumps({"legal_name": "x" * (11 * 1024 * 1024)}), "content_type": "application/json"}),
    ("api json not json", "api-post", "/api/v1/customers/", {"data": "{nope", "content_type": "application/json"}),
    ("api unknown url", "api-get", "/api/v1/no-such-thing/", {}),
]


@pytest.mark.parametrize(("name", "method", "url", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_malformed_input_answers_4xx_and_writes_nothing(world, name, method, url, kwargs):
    url = url.replace("{c}", str(world["customer"].pk))
    client = Client()
    if method.startswith("api-"):
        kwargs = {**kwargs, "HTTP_AUTHORIZATION": f"Token {world['token']}"}
        method = method[4:]
    else:
        client.force_login(world["manager"])
    before = AuditEntry.objects.count()
    response = getattr(client, method)(url, **kwargs)
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert AuditEntry.objects.count() == before, name
    if url.startswith("/api/"):
        assert response["Content-Type"] == "application/json", name
        body = response.json()
        assert body["code"] and body["message"], name


def test_an_11_mb_json_body_is_a_413_in_the_apis_json(world):
    client = Client()
    response = client.post("/api/v1/customers/", data=json.dumps({"legal_name": "x" * (11 * 1024 * 1024)}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Token {world['token']}")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def _patterns(resolver: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out.extend(_patterns(p, route))
        elif isinstance(p, URLPattern):
            out.append((route, p))
    return out


ODD_QUERY = (
    "?as_of=0001-01-01&page=abc&level=abc&task=abc&by=%00&scope=%00&q=%00x&status=%00&sector=" + HUGE
    + "&country=" + HUGE + "&cursor=abc&page_size=-1&o=abc&p=abc&e=1&_changelist_filters=%00"
)


def test_every_url_with_odd_query_strings_answers_below_500(world):
    """A fuzz over the URL patterns: every route (ids filled with the customer's id, a 23-digit id, or a
    known word), GET with a query string of odd values; each answer is below 500."""
    client = Client()
    client.force_login(world["manager"])
    c = world["customer"].pk
    seen = 0
    for route, _p in _patterns(get_resolver()):
        if "(?P<" in route or route.startswith("^") or "static" in route or "i18n" in route:
            url = "/" + route.replace("^", "").replace("$", "")
            if "(?P" in url or "\\" in url:
                continue  # admin's regex routes (app_label, object ids) are covered by the admin URLs below
        else:
            url = "/" + route
        for value in (str(c), HUGE):
            concrete = (url.replace("<int:pk>", value).replace("<slug:kind>", "customers")
                        .replace("<path:object_id>", value).replace("<str:format>", "json"))
            if "<" in concrete:
                continue
            response = client.get(concrete + ODD_QUERY)
            assert response.status_code < 500, (concrete, response.status_code)
            seen += 1
    admin_urls = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
                  for m in __import__("django.contrib.admin", fromlist=["site"]).site._registry]
    for url in admin_urls:
        for query in (ODD_QUERY, "?o=99", "?p=99999999999999999999", "?q=%00"):
            response = client.get(url + query)
            assert response.status_code < 500, (url + query, response.status_code)
            seen += 1
    assert seen > 100, seen
