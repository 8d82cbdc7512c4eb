"""The buttons of reporting rounds: a round's guided sequence for a person, and /ronda (open a
round, see it, remind those pending, close it, its past reports).

| data | button |
|---|---|
| `rog:<round>:<0·1>` | a reporting round's guided sequence: start or go on (1: the skipped ones) |
| `rou:<round>:<id>` / `ros:<round>:<id>:<status>` | no changes / a status (guided) |
| `roc:<round>:<id>` / `rox:<round>:<id>` | comment / skip for now (guided) |
| `rop:<plan>` / `roo:<plan>:<choice>` | /ronda for a plan / open a round closing at a preset date |
| `rov:<round>` / `ron:<round>` | a round (its progress, or its report) / remind those pending |
| `roz:<round>` / `rozy:<round>` | close the round? / close it |
| `rol` / `ror:<round>` | past rounds / a past round's report, sent again |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.buttons import Button
from storage.models import Status


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
