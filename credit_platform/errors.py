"""One application error type, rendered by the API exception handler and by pages alike.

Codes are stable strings that integrators can branch on (Zulip's ErrorCode idea).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NO_ORGANIZATION = "no_organization"
    CONFLICT = "conflict"
    FX_RATE_MISSING = "fx_rate_missing"
    IMPORT_REJECTED = "import_rejected"
    AUDIT_IMMUTABLE = "audit_immutable"
    BAD_REQUEST = "bad_request"
    REQUEST_TOO_LARGE = "request_too_large"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"


class AppError(Exception):
    """A failure the caller can act on: a code, a sentence saying what was wrong, and details."""

    status = 400

    def __init__(self, code: ErrorCode, message: str, *, details: Any = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body
