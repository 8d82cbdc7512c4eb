"""The buttons of the reports on progress: the summary (its scope, chart, plan picker and pages
of overdue actions), the export of a plan, and the button that opens the dashboard.

| data | button |
|---|---|
| `rs:s:<plan>:<scope>` / `rs:g:…` / `rs:l:<page>:<scope>` | summary / its chart / plan picker |
| `rs:v:<plan>.<page>:<scope>` | a page of the summary's overdue actions |
| `ex:<x·c·w·p>:<plan>[:<day>]` / `ex:l:<page>:<x·c·w·p>[:<day>]` | export a plan / plan picker |
| (none: a `web_app` button) | `OpenDashboard`: opens the dashboard (Mini App) at its URL |
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from handlers.buttons import CALLBACK_DATA_LIMIT, Button

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


# -- exports and the dashboard ----------------------------------------------------------------


class ExportFormat(StrEnum):
    XLSX = "x"
    CSV = "c"
    DOCX = "w"
    PDF = "p"


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
class OpenDashboard(Button):
    """Not callback data: a button that opens the dashboard (a Telegram Mini App) at `url`
    (`View.markup` makes it a `web_app` button; Telegram shows those in private chats only)."""

    prefix = "webapp"
    url: str
