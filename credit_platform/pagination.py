import binascii
from base64 import b64decode
from typing import Any, cast
from urllib import parse

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination

from .forms import MAX_ID


class IdCursorPagination(CursorPagination):
    """Stable keyset pages by primary key: constant cost however deep an integrator pages.

    The cursor is decoded strictly: it must be the base64 this pagination wrote, and its position an id
    (ASCII digits); anything else answers 400 naming the cursor, instead of a 500 when the position reaches
    the id filter, or a first page for a cursor that decodes to nothing."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request: Any) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        invalid = ValidationError({self.cursor_query_param: [
            gettext("is not a cursor of this list: use the 'next' or 'previous' link of a page as it is.")]})
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
        except (TypeError, ValueError, UnicodeError, binascii.Error):
            raise invalid from None
        if not 0 <= offset <= self.offset_cutoff:
            raise invalid
        if position is not None and not (position.isascii() and position.isdigit() and int(position) <= MAX_ID):
            raise invalid
        return Cursor(offset=offset, reverse=reverse, position=cast(Any, position))  # DRF keeps it a str
