"""What a person is told in their own chat when an admin changes their access: a new role,
other units, or their access back (rows of kind `storage.people.ACCOUNT_KIND`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.i18n import Tr
from handlers.labels import role_label
from handlers.replies import View


def render_account_notice(tr: Tr, payload: Mapping[str, Any]) -> View:
    change = payload.get("change")
    who = str(payload.get("by") or "")
    role = role_label(tr, str(payload.get("role")))
    units = ", ".join(str(unit) for unit in payload.get("units") or []) or "—"
    if change == "role":
        head = tr._("🎭 {who} changed your role: you are now <b>{role}</b>.", who=who, role=role)
    elif change == "units":
        head = tr._(
            "🏷 {who} changed your units. Your units now: <b>{units}</b>.", who=who, units=units
        )
    else:
        head = tr._(
            "↩ {who} reactivated your access to the bot: you are {role} again.", who=who, role=role
        )
    return View(head + "\n" + tr._("/ayuda lists what you can do."))
