"""What buttons carry and what a conversation waits for: every callback data and every
conversation state of the bot, defined here and nowhere else.

A button's data is at most 64 bytes: a short prefix and its fields, separated by `:`. Each kind
of button is a frozen dataclass: `Button.data()` builds the string and `Kind.parse(data)` reads
it back (None when it is not that kind, or malformed), so no handler slices strings or reads
regex groups. `Kind.matches` is the `pattern` of its `CallbackQueryHandler`. The data only says
what was asked for: handlers check again on the server what the person may do.

| data | button |
|---|---|
| `l:<p·o·a·r>:<page>` | a page of /acciones (pending, overdue, all, to review) |
| `a:<id>` / `h:<id>` | an action's card / its history |
| `c:<id>` / `e:<id>` / `d:<id>` | comment / attach evidence / done attaching |
| `s:<id>` / `ss:<id>:<n·i·c·x>` | status menu / set the status |
| `v:<id>` / `vs:<id>:<p·v·o>` / `vc:<id>` | review menu / set the review / review comment |
| `ev:<id>` | send the action's evidence files |
| `an:<id>` / `ra:<id>:<comment>` | (from a notice) open the card anew / answer the secretariat |
| `rq:<pos>` / `rqv:<id>:<pos>` / `rqo:<id>` | /revisar's card at a position / validate / observe |
| `x` | cancel the open step |
| `lg:<es·en>` | language |
| `u:<page>` / `ud:<id>` / `udy:<id>` / `ua:<id>` | people / deactivate? / deactivate / reactivate |
| `nm:<mode>` | notification preference |
| `rs:s:<plan>:<scope>` / `rs:g:…` / `rs:l:<page>:<scope>` | summary / its chart / plan picker |
| `rs:v:<plan>.<page>:<scope>` | a page of the summary's overdue actions |
| `ex:<x·c·w·p>:<plan>[:<day>]` / `ex:l:<page>:<x·c·w·p>[:<day>]` | export a plan / plan picker |
| `ry:<invitation>` / `rn:<invitation>` | change to an invitation's role / keep one's role |
| `rc:<chat id>` | (admins' notice of an unreachable chat) retry delivering to it |
| `iv:<page>` / `ivr:<id>` / `ivy:<id>` | pending invitations / revoke? / revoke |
| `up:<id>` / `ur:<id>` / `urc:<id>:<from>:<to>` / `ury:…` | a person / role menu / role? / role |
| `uu:<id>:<page>` / `uuc:<id>:<unit>:<a·r>` / `uuy:…` | units menu / add·remove unit? / do it |
| (none: a `web_app` button) | `OpenDashboard`: opens the dashboard (Mini App) at its URL |
| `rog:<round>:<0·1>` | a reporting round's guided sequence: start or go on (1: the skipped ones) |
| `rou:<round>:<id>` / `ros:<round>:<id>:<status>` | no changes / a status (guided) |
| `roc:<round>:<id>` / `rox:<round>:<id>` | comment / skip for now (guided) |
| `rop:<plan>` / `roo:<plan>:<choice>` | /ronda for a plan / open a round closing at a preset date |
| `rov:<round>` / `ron:<round>` | a round (its progress, or its report) / remind those pending |
| `roz:<round>` / `rozy:<round>` | close the round? / close it |
| `rol` / `ror:<round>` | past rounds / a past round's report, sent again |
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar, Self

from telegram import Update

from storage.actions import ActionFilter
from storage.models import NotifyMode, ReviewStatus, Role, Status

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit

#: Short codes of the enums buttons carry.
CODES: dict[type[Enum], dict[str, Enum]] = {
    ActionFilter: {
        "p": ActionFilter.PENDING,
        "o": ActionFilter.OVERDUE,
        "a": ActionFilter.ALL,
        "r": ActionFilter.TO_REVIEW,
        "w": ActionFilter.OBSERVED,
    },
    Status: {
        "n": Status.NOT_STARTED,
        "i": Status.IN_PROGRESS,
        "c": Status.COMPLETED,
        "x": Status.NOT_APPLICABLE,
    },
    ReviewStatus: {
        "p": ReviewStatus.PENDING,
        "v": ReviewStatus.VALIDATED,
        "o": ReviewStatus.OBSERVED,
    },
}


class ExportFormat(StrEnum):
    XLSX = "x"
    CSV = "c"
    DOCX = "w"
    PDF = "p"


class State(StrEnum):
    """What an open conversation waits for (stored in the database, so it survives a restart).

    | state | data | next message |
    |---|---|---|
    | `comment` | action, kind (follow-up/review), files | text (or a file) saves the comment |
    | `justify` | action, status | text sets the status with it as justification |
    | `observe` | action | text records the review "with observations" |
    | `plan_upload` | — | a spreadsheet is imported as a plan |
    | `search` | — | text is searched for, as with `/buscar WORDS` |
    | `confirm_role` | invitation (its id, never its code) | — (the buttons "Yes"/"No") |
    | `round_date` | plan | a closing date (and a title) opens a reporting round |

    `comment` and `justify` opened from a reporting round's guided sequence carry `round` too:
    once done, the sequence goes on with the next action.

    A button of the step's prompt ("Done", "Cancel") or `/cancelar` ends it too."""

    COMMENT = "comment"
    JUSTIFY = "justify"
    OBSERVE = "observe"
    PLAN_UPLOAD = "plan_upload"
    SEARCH = "search"
    CONFIRM_ROLE = "confirm_role"
    ROUND_DATE = "round_date"


def _encode(value: object) -> str:
    if isinstance(value, Enum) and type(value) in CODES:
        return next(code for code, member in CODES[type(value)].items() if member is value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _decode(text: str, kind: Any) -> object:
    if kind is int:
        if not text.isdigit() or len(text) > 12:
            raise ValueError(text)
        return int(text)
    if kind in CODES:
        return CODES[kind][text]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(text)
    return text


_FIELD_TYPES: dict[type, tuple[Any, ...]] = {}


def _field_types(cls: type) -> tuple[Any, ...]:
    """The types of a button's fields, in order (read once per kind)."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = tuple(hints[f.name] for f in dataclasses.fields(cls))
    return _FIELD_TYPES[cls]


@dataclass(frozen=True)
class Button:
    """A kind of button: `prefix` and the dataclass fields, in order, make its data."""

    prefix: ClassVar[str]

    def data(self) -> str:
        values = [_encode(getattr(self, f.name)) for f in dataclasses.fields(self)]
        text = ":".join([self.prefix, *values])
        if len(text.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {text!r}")
        return text

    @classmethod
    def parse(cls, data: object) -> Self | None:
        if not isinstance(data, str):
            return None
        types = _field_types(cls)
        if not types:
            return cls() if data == cls.prefix else None
        if not data.startswith(cls.prefix + ":"):
            return None
        parts = data[len(cls.prefix) + 1 :].split(":")
        if len(parts) != len(types):
            return None
        try:
            return cls(*(_decode(part, kind) for part, kind in zip(parts, types, strict=True)))
        except (KeyError, ValueError):
            return None

    @classmethod
    def matches(cls, data: object) -> bool:
        """The `pattern` of this kind's handler: data of this kind (even malformed ones, which
        the handler answers as stale)."""
        return isinstance(data, str) and (data == cls.prefix or data.startswith(cls.prefix + ":"))


@dataclass(frozen=True)
class ActionList(Button):
    prefix = "l"
    filter: ActionFilter
    page: int = 0


@dataclass(frozen=True)
class ActionButton(Button):
    """A button about one key action."""

    action_id: int


@dataclass(frozen=True)
class OpenCard(ActionButton):
    prefix = "a"


@dataclass(frozen=True)
class ShowHistory(ActionButton):
    prefix = "h"


@dataclass(frozen=True)
class StartComment(ActionButton):
    prefix = "c"


@dataclass(frozen=True)
class StartEvidence(ActionButton):
    prefix = "e"


@dataclass(frozen=True)
class EvidenceDone(ActionButton):
    prefix = "d"


@dataclass(frozen=True)
class StatusMenu(ActionButton):
    prefix = "s"


@dataclass(frozen=True)
class SetStatus(ActionButton):
    prefix = "ss"
    status: Status


@dataclass(frozen=True)
class ReviewMenu(ActionButton):
    prefix = "v"


@dataclass(frozen=True)
class SetReview(ActionButton):
    prefix = "vs"
    review: ReviewStatus


@dataclass(frozen=True)
class StartReviewComment(ActionButton):
    prefix = "vc"


@dataclass(frozen=True)
class OpenCardAnew(ActionButton):
    """Open an action's card in a new message (from a notice, which stays as it was)."""

    prefix = "an"


@dataclass(frozen=True)
class AnswerReview(ActionButton):
    """Answer the secretariat's observation (or review comment) `comment_id` on the action."""

    prefix = "ra"
    comment_id: int


@dataclass(frozen=True)
class ShowEvidence(ActionButton):
    """Send the action's evidence files to the person who asks."""

    prefix = "ev"


@dataclass(frozen=True)
class CancelStep(Button):
    prefix = "x"


#: The buttons of the follow-up and review flow (one handler takes them all).
FOLLOW_UP_BUTTONS: tuple[type[Button], ...] = (
    StartComment,
    StartEvidence,
    EvidenceDone,
    StatusMenu,
    SetStatus,
    ReviewMenu,
    SetReview,
    StartReviewComment,
    AnswerReview,
    CancelStep,
)


@dataclass(frozen=True)
class ReviewQueueShow(Button):
    """The review queue's card at a position (0 is the oldest change); "Skip" is the next
    position, so the skipped ones stay out of this round."""

    prefix = "rq"
    position: int = 0


@dataclass(frozen=True)
class ReviewQueueValidate(ActionButton):
    """Validate the action, then the card now at the same position (the next one)."""

    prefix = "rqv"
    position: int = 0


@dataclass(frozen=True)
class ReviewQueueObserve(ActionButton):
    """Record observations on the action: the observation step opens."""

    prefix = "rqo"


REVIEW_QUEUE_BUTTONS: tuple[type[Button], ...] = (
    ReviewQueueShow,
    ReviewQueueValidate,
    ReviewQueueObserve,
)


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


class _DayLast(Button):
    """A button whose last field is an optional day (YYYYMMDD, "" for now), left out of the data
    when empty, so that buttons sent before the field existed still work."""

    def data(self) -> str:
        text = super().data()
        return text.removesuffix(":")

    @classmethod
    def parse(cls, data: object) -> Self | None:
        button = super().parse(data)
        if button is None and isinstance(data, str):
            button = super().parse(data + ":")
        return button


@dataclass(frozen=True)
class ExportPlan(_DayLast):
    """A plan's file; `as_of` is the day it is "as of" as YYYYMMDD ("": now)."""

    prefix = "ex"
    format: ExportFormat
    plan_id: int
    as_of: str = ""


@dataclass(frozen=True)
class ExportPlans(_DayLast):
    """A page of the export's plan picker."""

    prefix = "ex:l"
    page: int
    format: ExportFormat
    as_of: str = ""


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


# -- the summary's scope ---------------------------------------------------------------------

ALL_PLANS = "all"
UNCHOSEN = "-"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a summary covers: a plan id, `ALL_PLANS` or `UNCHOSEN` (ask first); overdue actions
    only; one unit or one recommendation block (its key, see `handlers.summary.block_key`).

    Written in button data as `o` (overdue only) followed by `u<unit id>` or `b<block key>`.
    `as_of`, the day the summary is "as of" (None: now), goes first as `@YYYYMMDD`."""

    plan: str = UNCHOSEN
    overdue: bool = False
    unit_id: int | None = None
    block: str | None = None
    as_of: dt.date | None = None

    def date_code(self) -> str:
        return f"@{self.as_of:%Y%m%d}" if self.as_of is not None else ""

    def code(self) -> str:
        code = self.date_code() + ("o" if self.overdue else "")
        if self.unit_id is not None:
            code += f"u{self.unit_id}"
        elif self.block:
            code += f"b{self.block}"
        return code

    @classmethod
    def parse(cls, plan: str, code: str) -> Scope | None:
        if plan not in (ALL_PLANS, UNCHOSEN) and not plan.isdigit():
            return None
        as_of = None
        if code.startswith("@"):
            try:
                as_of = dt.datetime.strptime(code[1:9], "%Y%m%d").date()
            except ValueError:
                return None
            code = code[9:]
        overdue = code.startswith("o")
        rest = code[1:] if overdue else code
        if rest.startswith("u") and rest[1:].isdigit():
            return cls(plan=plan, overdue=overdue, unit_id=int(rest[1:]), as_of=as_of)
        if rest.startswith("b") and rest[1:]:
            return cls(plan=plan, overdue=overdue, block=rest[1:], as_of=as_of)
        return cls(plan=plan, overdue=overdue, as_of=as_of) if not rest else None

    @property
    def plan_ids(self) -> list[int] | None:
        return None if self.plan in (ALL_PLANS, UNCHOSEN) else [int(self.plan)]


class _ScopedButton(Button):
    """`rs:<verb>:<plan or page>:<scope code>`; a scope too long for 64 bytes is dropped (the
    button then shows the whole plan)."""

    verb: ClassVar[str]
    prefix = "rs"

    def _head(self) -> str:
        raise NotImplementedError

    def data(self) -> str:
        scope: Scope = getattr(self, "scope")  # noqa: B009
        text = f"{self.prefix}:{self.verb}:{self._head()}:{scope.code()}"
        if len(text.encode()) <= CALLBACK_DATA_LIMIT:
            return text
        return f"{self.prefix}:{self.verb}:{self._head()}:{scope.date_code()}"

    @classmethod
    def matches(cls, data: object) -> bool:
        return isinstance(data, str) and data.startswith(f"{cls.prefix}:{cls.verb}:")

    @classmethod
    def _split(cls, data: object) -> tuple[str, str] | None:
        if not cls.matches(data):
            return None
        parts = str(data).split(":", 3)
        return (parts[2], parts[3]) if len(parts) == 4 else None


@dataclass(frozen=True)
class _OneScope(_ScopedButton):
    scope: Scope

    def _head(self) -> str:
        return self.scope.plan

    @classmethod
    def parse(cls, data: object) -> Self | None:
        split = cls._split(data)
        scope = Scope.parse(*split) if split else None
        return cls(scope) if scope else None


@dataclass(frozen=True)
class ShowSummary(_OneScope):
    verb = "s"


@dataclass(frozen=True)
class SummaryChart(_OneScope):
    verb = "g"


@dataclass(frozen=True)
class SummaryPlans(_ScopedButton):
    """A page of the summary's plan picker, keeping the scope asked for."""

    verb = "l"
    page: int
    scope: Scope

    def _head(self) -> str:
        return str(self.page)

    @classmethod
    def parse(cls, data: object) -> Self | None:
        split = cls._split(data)
        if split is None or not split[0].isdigit():
            return None
        scope = Scope.parse(UNCHOSEN, split[1])
        return cls(int(split[0]), scope) if scope else None


@dataclass(frozen=True)
class OverduePage(_ScopedButton):
    """A page of the overdue actions of a summary's scope: `rs:v:<plan>.<page>:<scope code>`
    (the scope's plan travels with the page; the list is of overdue actions whatever the
    code says)."""

    verb = "v"
    page: int
    scope: Scope

    def _head(self) -> str:
        return f"{self.scope.plan}.{self.page}"

    @classmethod
    def parse(cls, data: object) -> Self | None:
        split = cls._split(data)
        if split is None:
            return None
        plan, _, page = split[0].partition(".")
        if not page.isdigit() or len(page) > 6:
            return None
        scope = Scope.parse(plan, split[1])
        return cls(int(page), dataclasses.replace(scope, overdue=True)) if scope else None


SUMMARY_BUTTONS: tuple[type[Button], ...] = (ShowSummary, SummaryChart, SummaryPlans, OverduePage)


def any_of(*kinds: type[Button]) -> typing.Callable[[object], bool]:
    """A `CallbackQueryHandler` pattern for several kinds of button."""
    return lambda data: any(kind.matches(data) for kind in kinds)


def parse_any(update: Update, *kinds: type[Button]) -> Button | None:
    """The button pressed, if it is of one of these kinds."""
    data = update.callback_query.data if update.callback_query is not None else None
    for kind in kinds:
        button = kind.parse(data)
        if button is not None:
            return button
    return None


B = typing.TypeVar("B", bound=Button)


def pressed(update: Update, kind: type[B]) -> B | None:
    """The button of this kind that was pressed, or None (another kind, or malformed data)."""
    query = update.callback_query
    return kind.parse(query.data) if query is not None else None


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


# -- reporting rounds --------------------------------------------------------------------------


class RoundDate(StrEnum):
    """The preset closing dates of a new round."""

    WEEK = "w1"
    TWO_WEEKS = "w2"
    MONTH_END = "me"
    QUARTER_END = "qe"


@dataclass(frozen=True)
class RoundGo(Button):
    """Start the guided sequence of a round, or go on where one left it (`skipped`: 1 to go
    through the actions skipped for now)."""

    prefix = "rog"
    round_id: int
    skipped: int = 0


@dataclass(frozen=True)
class RoundUnchanged(Button):
    prefix = "rou"
    round_id: int
    action_id: int


@dataclass(frozen=True)
class RoundStatus(Button):
    prefix = "ros"
    round_id: int
    action_id: int
    status: Status


@dataclass(frozen=True)
class RoundComment(Button):
    prefix = "roc"
    round_id: int
    action_id: int


@dataclass(frozen=True)
class RoundSkip(Button):
    prefix = "rox"
    round_id: int
    action_id: int


ROUND_GUIDE_BUTTONS: tuple[type[Button], ...] = (
    RoundGo,
    RoundUnchanged,
    RoundStatus,
    RoundComment,
    RoundSkip,
)


@dataclass(frozen=True)
class OpenDashboard(Button):
    """Not callback data: a button that opens the dashboard (a Telegram Mini App) at `url`
    (`View.markup` makes it a `web_app` button; Telegram shows those in private chats only)."""

    prefix = "webapp"
    url: str


@dataclass(frozen=True)
class RoundPlan(Button):
    """/ronda for one plan: its open round, or the question of a closing date."""

    prefix = "rop"
    plan_id: int


@dataclass(frozen=True)
class RoundOpen(Button):
    prefix = "roo"
    plan_id: int
    choice: RoundDate


@dataclass(frozen=True)
class RoundView(Button):
    prefix = "rov"
    round_id: int


@dataclass(frozen=True)
class RoundNudge(Button):
    prefix = "ron"
    round_id: int


@dataclass(frozen=True)
class RoundAskClose(Button):
    prefix = "roz"
    round_id: int


@dataclass(frozen=True)
class RoundClose(Button):
    prefix = "rozy"
    round_id: int


@dataclass(frozen=True)
class RoundHistory(Button):
    prefix = "rol"


@dataclass(frozen=True)
class RoundResend(Button):
    prefix = "ror"
    round_id: int


ROUND_BUTTONS: tuple[type[Button], ...] = (
    RoundPlan,
    RoundOpen,
    RoundView,
    RoundNudge,
    RoundAskClose,
    RoundClose,
    RoundHistory,
    RoundResend,
)
