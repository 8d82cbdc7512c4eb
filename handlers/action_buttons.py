"""The buttons about key actions: the lists of actions, an action's card, its follow-up (status,
comment, evidence) and review, and the review queue (/revisar).

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
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.buttons import Button, CancelStep
from storage.actions import ActionFilter
from storage.models import ReviewStatus, Status


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
