"""Errors the plan operations raise. Each carries a stable `code`; the text a person reads is
chosen by the handlers from that code (through the translation catalogs)."""

from __future__ import annotations

from typing import Any


class PlanError(Exception):
    code: str = "error"

    def __init__(self, code: str | None = None, **detail: Any) -> None:
        self.code = code or self.code
        self.detail = detail
        super().__init__(f"{self.code} {detail}" if detail else self.code)


class NotFound(PlanError):
    code = "not_found"


class PermissionDenied(PlanError):
    code = "permission_denied"


class InvalidInput(PlanError):
    code = "invalid_input"


class InvitationError(PlanError):
    code = "invitation_invalid"
