"""The buttons about people: a person's own language, notifications and role (the one an
invitation offers), and the administrators' ones: people, pending invitations, a person's role
and units, and retrying a chat that could not be reached.

| data | button |
|---|---|
| `lg:<es·en>` | language |
| `nm:<mode>` | notification preference |
| `ry:<invitation>` / `rn:<invitation>` | change to an invitation's role / keep one's role |
| `u:<page>` / `ud:<id>` / `udy:<id>` / `ua:<id>` | people / deactivate? / deactivate / reactivate |
| `iv:<page>` / `ivr:<id>` / `ivy:<id>` | pending invitations / revoke? / revoke |
| `up:<id>` / `ur:<id>` / `urc:<id>:<from>:<to>` / `ury:…` | a person / role menu / role? / role |
| `uu:<id>:<page>` / `uuc:<id>:<unit>:<a·r>` / `uuy:…` | units menu / add·remove unit? / do it |
| `rc:<chat id>` | (admins' notice of an unreachable chat) retry delivering to it |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from handlers.buttons import Button
from storage.models import NotifyMode, Role


@dataclass(frozen=True)
class ChooseLanguage(Button):
    prefix = "lg"
    code: str


@dataclass(frozen=True)
class PeoplePage(Button):
    prefix = "u"
    page: int = 0


@dataclass(frozen=True)
class AskDeactivate(Button):
    prefix = "ud"
    person_id: int


@dataclass(frozen=True)
class Deactivate(Button):
    prefix = "udy"
    person_id: int


@dataclass(frozen=True)
class Reactivate(Button):
    prefix = "ua"
    person_id: int


PEOPLE_BUTTONS: tuple[type[Button], ...] = (PeoplePage, AskDeactivate, Deactivate, Reactivate)


@dataclass(frozen=True)
class ChooseNotifyMode(Button):
    prefix = "nm"
    mode: NotifyMode


@dataclass(frozen=True)
class ChangeRole(Button):
    """Yes to the other role of an invitation presented with `/start CODE`: the invitation's id
    only, to compare with the one kept in the conversation (`State.CONFIRM_ROLE`)."""

    prefix = "ry"
    invitation_id: int


@dataclass(frozen=True)
class KeepRole(Button):
    """No to it: the role stays, the invitation is not used."""

    prefix = "rn"
    invitation_id: int


ROLE_BUTTONS: tuple[type[Button], ...] = (ChangeRole, KeepRole)


@dataclass(frozen=True)
class RetryChat(Button):
    """(On the administrators' notice that a chat is unreachable) try delivering to it again.
    A group's id is negative, which the generic reading of numbers refuses: read here."""

    prefix = "rc"
    chat_id: int

    @classmethod
    def parse(cls, data: object) -> Self | None:
        if not isinstance(data, str) or not data.startswith(cls.prefix + ":"):
            return None
        text = data[len(cls.prefix) + 1 :]
        digits = text.removeprefix("-")
        if not digits.isdigit() or len(digits) > 15:
            return None
        return cls(int(text))


# -- an admin's pending invitations and a person's entry in /usuarios -------------------------


@dataclass(frozen=True)
class InvitationsPage(Button):
    """A page of the pending invitations (`/invitaciones`)."""

    prefix = "iv"
    page: int = 0


@dataclass(frozen=True)
class AskRevoke(Button):
    prefix = "ivr"
    invitation_id: int


@dataclass(frozen=True)
class Revoke(Button):
    prefix = "ivy"
    invitation_id: int


INVITATION_BUTTONS: tuple[type[Button], ...] = (InvitationsPage, AskRevoke, Revoke)


class UnitChange(StrEnum):
    ADD = "a"
    REMOVE = "r"


@dataclass(frozen=True)
class ShowPerson(Button):
    """A person's entry in /usuarios: their role, units and access, with buttons to change them."""

    prefix = "up"
    person_id: int


@dataclass(frozen=True)
class RoleMenu(Button):
    prefix = "ur"
    person_id: int


@dataclass(frozen=True)
class AskRole(Button):
    """Change the role from `current` (what the admin saw) to `role`? Asked first."""

    prefix = "urc"
    person_id: int
    current: Role
    role: Role


@dataclass(frozen=True)
class SetRole(Button):
    prefix = "ury"
    person_id: int
    current: Role
    role: Role


@dataclass(frozen=True)
class UnitsMenu(Button):
    prefix = "uu"
    person_id: int
    page: int = 0


@dataclass(frozen=True)
class AskUnit(Button):
    """Add (or remove) a unit? Asked first."""

    prefix = "uuc"
    person_id: int
    unit_id: int
    change: UnitChange


@dataclass(frozen=True)
class SetUnit(Button):
    prefix = "uuy"
    person_id: int
    unit_id: int
    change: UnitChange


PERSON_BUTTONS: tuple[type[Button], ...] = (
    ShowPerson,
    RoleMenu,
    AskRole,
    SetRole,
    UnitsMenu,
    AskUnit,
    SetUnit,
)
