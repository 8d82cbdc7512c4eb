"""Small things a person reads: imported comments are "del plan original", a deadline due
tomorrow says so, the recommendation's number is not repeated, the justification prompt says how
long it must be."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from handlers.i18n import Tr
from handlers.labels import deadline_in_words
from handlers.views import without_number
from storage.models import Comment
from tests.test_flows_story import action_id, bot, registered  # noqa: F401


async def test_imported_comments_come_from_the_original_plan(bot, sessions):  # noqa: F811
    app, request = bot
    carmen = await registered(app, sessions, 901, "coordinator")
    async with sessions() as session:
        imported = await session.scalar(
            select(Comment.action_id).where(Comment.author_id.is_(None)).limit(1)
        )
    assert imported is not None
    await carmen.press(f"a:{imported}")
    card = request.sent(901)[-1].text
    assert "<i>del plan original</i>:" in card
    await carmen.press(f"h:{imported}")
    assert "<i>del plan original</i>" in request.sent(901)[-1].text


async def test_the_justification_prompt_says_how_long(bot, sessions):  # noqa: F811
    app, request = bot
    ana = await registered(app, sessions, 902, "focal", ["PNUD"])
    await ana.press(f"ss:{await action_id(sessions, '1', 1)}:c")
    assert "(de 3 a 3.000 caracteres)" in request.sent(902)[-1].text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("es", "vence mañana, 3 may 2012"), ("en", "due tomorrow, May 3, 2012")],
)
def test_a_deadline_due_tomorrow_says_so(locale: str, expected: str) -> None:
    words = deadline_in_words(
        Tr(locale),
        text="3 de mayo 2012",
        kind="date",
        due=dt.date(2012, 5, 3),
        start=None,
        status="not_started",
        today=dt.date(2012, 5, 2),
    )
    assert words == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Elaborar un plan", "Elaborar un plan"),
        ("2 y 3. Definir alternativas", "Definir alternativas"),
        ("Nº 4: Ajustar el marco", "Ajustar el marco"),
        ("Elaborar 3 planes", "Elaborar 3 planes"),
    ],
)
def test_the_recommendation_number_is_not_repeated(text: str, expected: str) -> None:
    assert without_number(text) == expected
