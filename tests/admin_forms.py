"""Posting admin forms the way a browser does: read the change page, keep every value it renders
(management forms of inlines included), override what the test changes."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormValues(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data.lstrip("\n") if not self.values[self._textarea] else data


def form_values(html: str) -> dict[str, Any]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def admin_post(client: Any, url: str, **changes: Any) -> Any:
    """GET the admin form at ``url``, apply ``changes`` and POST it back."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = form_values(page.content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data.update({k: v for k, v in changes.items()})
    return client.post(url, data)
