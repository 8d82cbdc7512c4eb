"""The machinery of the bot's buttons, and what a conversation waits for: `Button`, the callback
data it writes and reads back, the helpers that tell which button was pressed, and every
conversation state (`State`).

A button's data is at most 64 bytes: a short prefix and its fields, separated by `:`. Each kind
of button is a frozen dataclass: `Button.data()` builds the string and `Kind.parse(data)` reads
it back (None when it is not that kind, or malformed), so no handler slices strings or reads
regex groups. `Kind.matches` is the `pattern` of its `CallbackQueryHandler`. The data only says
what was asked for: handlers check again on the server what the person may do.

The kinds live beside this module, each family with the table of its data; a prefix is used by
one kind only, across all of them:

- `action_buttons`: the lists of actions, an action's card, its follow-up and review, and the
  review queue (/revisar);
- `people_buttons`: a person's language, notifications and role, and the administration of
  people, invitations, roles and units (and retrying an unreachable chat);
- `summary_buttons`: the summary and its scope, the export of a plan, the dashboard's button;
- `round_buttons`: reporting rounds.

Here only the button that ends any open step:

| data | button |
|---|---|
| `x` | cancel the open step |
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar, Self

from telegram import Update

from storage.actions import ActionFilter
from storage.models import ReviewStatus, Status

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
#: Every kind of button by its prefix (see `Button.__init_subclass__`).
_KINDS: dict[str, type[Button]] = {}


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Two kinds with one prefix would read each other's buttons: refused when the second
        is defined (the kinds live in several modules)."""
        super().__init_subclass__(**kwargs)
        prefix = cls.__dict__.get("prefix")
        if prefix is None:  # a family's base (ActionButton...): no buttons of its own
            return
        taken = _KINDS.setdefault(prefix, cls)
        if taken is not cls:
            raise ValueError(f"button prefix {prefix!r} of {cls.__name__} is {taken.__name__}'s")

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
class CancelStep(Button):
    prefix = "x"


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
