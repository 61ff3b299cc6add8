"""The API's request parsers (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]); a module of its own because DRF
imports them while its views load."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's recursion limit (about 1,000 levels; a
    100,000-deep array was sent) answered as a parse error instead of a RecursionError (500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
