"""Button data: every kind reads back what it wrote, fits Telegram's 64 bytes, and malformed or
forged data parses as nothing (the handler then answers that the button is stale)."""

from __future__ import annotations

import pytest

from handlers.action_buttons import ActionList, OpenCard, SetReview, SetStatus
from handlers.buttons import Button, CancelStep
from handlers.people_buttons import AskDeactivate, ChooseLanguage, ChooseNotifyMode
from handlers.summary_buttons import (
    ExportFormat,
    ExportPlan,
    ExportPlans,
    OverduePage,
    Scope,
    ShowSummary,
    SummaryChart,
    SummaryPlans,
)
from storage.actions import ActionFilter
from storage.models import NotifyMode, ReviewStatus, Status

EXAMPLES: list[tuple[Button, str]] = [
    (ActionList(ActionFilter.OVERDUE, 2), "l:o:2"),
    (OpenCard(17), "a:17"),
    (SetStatus(17, Status.NOT_APPLICABLE), "ss:17:x"),
    (SetReview(17, ReviewStatus.OBSERVED), "vs:17:o"),
    (CancelStep(), "x"),
    (ChooseLanguage("en"), "lg:en"),
    (AskDeactivate(3), "ud:3"),
    (ChooseNotifyMode(NotifyMode.DIGEST), "nm:digest"),
    (ExportPlan(ExportFormat.CSV, 4), "ex:c:4"),
    (ExportPlans(1, ExportFormat.XLSX), "ex:l:1:x"),
    (ShowSummary(Scope(plan="3", overdue=True, unit_id=9)), "rs:s:3:ou9"),
    (SummaryChart(Scope(plan="all", block="2y3")), "rs:g:all:b2y3"),
    (SummaryPlans(2, Scope(overdue=True)), "rs:l:2:o"),
    (OverduePage(3, Scope(plan="1", overdue=True, block="7y8")), "rs:v:1.3:ob7y8"),
    (OverduePage(0, Scope(plan="all", overdue=True)), "rs:v:all.0:o"),
]


@pytest.mark.parametrize(("button", "data"), EXAMPLES)
def test_data_is_written_and_read_back(button: Button, data: str) -> None:
    assert button.data() == data
    assert type(button).parse(data) == button
    assert type(button).matches(data)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (OpenCard, "a:abc"),
        (OpenCard, "a:1:2"),
        (OpenCard, "a:" + "9" * 13),
        (SetStatus, "ss:1:z"),
        (ActionList, "l:q:0"),
        (ExportPlan, "ex:l:0:x"),
        (ShowSummary, "rs:s:abc:"),
        (ShowSummary, "rs:s:1:zz"),
        (SummaryPlans, "rs:l:x:"),
        (OverduePage, "rs:v:1:o"),
        (OverduePage, "rs:v:1.x:o"),
        (OverduePage, "rs:v:abc.1:o"),
        (ShowSummary, "rs:v:1.0:o"),
        (ChooseNotifyMode, "nm:loud"),
        (CancelStep, "xx"),
    ],
)
def test_malformed_data_parses_as_nothing(kind: type[Button], data: str) -> None:
    assert kind.parse(data) is None


def test_a_scope_too_long_for_64_bytes_falls_back_to_the_whole_plan() -> None:
    button = ShowSummary(Scope(plan="12", block="x" * 80))
    assert button.data() == "rs:s:12:"


def test_an_overdue_page_is_of_overdue_actions_even_without_its_scope() -> None:
    button = OverduePage(12, Scope(plan="7", overdue=True, block="x" * 80))
    assert button.data() == "rs:v:7.12:"
    assert OverduePage.parse(button.data()) == OverduePage(12, Scope(plan="7", overdue=True))


def test_data_over_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ChooseLanguage("x" * 70).data()


def test_a_second_kind_of_button_with_a_taken_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="'a' of Shadow is OpenCard's"):
        type("Shadow", (Button,), {"prefix": "a"})
