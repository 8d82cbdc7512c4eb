"""A small plan built directly with the models, for storage tests that need no plan file."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import KeyAction, Person, Plan, Recommendation
from storage.people import create_invitation, redeem_invitation
from storage.units import resolve_units

NOW = dt.datetime(2012, 5, 2, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2012, 5, 2)


async def make_plan(session: AsyncSession, title: str = "Plan de prueba") -> Plan:
    """Two blocks, four actions: two of PNUD (one overdue), one of the UC, one shared."""
    plan = Plan(title=title)
    session.add(plan)
    await session.flush()
    specs = [
        ("1", [(1, "Revisar el POA", "Enero 2012", dt.date(2012, 1, 31), "PNUD")]),
        (
            "2 y 3",
            [
                (
                    1,
                    "Contratar asistentes",
                    "A la recepción del tercer desembolso",
                    None,
                    "Unidad de Coordinación",
                ),
                (
                    2,
                    "Estrategia común",
                    "Diciembre 2012",
                    dt.date(2012, 12, 31),
                    "PNUD; Unidad de Coordinación",
                ),
                (3, "Roster de consultores", "28 mayo 2012", dt.date(2012, 5, 28), "PNUD"),
            ],
        ),
    ]
    for position, (label, actions) in enumerate(specs, start=1):
        rec = Recommendation(plan_id=plan.id, position=position, label=label, text=f"Rec {label}")
        session.add(rec)
        await session.flush()
        for number, text, deadline, due, units in actions:
            action = KeyAction(
                plan_id=plan.id,
                recommendation_id=rec.id,
                position=position,
                number=number,
                text=text,
                responsible_text=units,
                deadline_text=deadline,
                deadline_kind="event" if due is None else "month",
                deadline_due=due,
                units=await resolve_units(session, units.split("; ")),
            )
            session.add(action)
    await session.flush()
    return plan


async def make_person(
    session: AsyncSession, role: str, units: list[str] | None = None, telegram_id: int = 100
) -> Person:
    code = await create_invitation(session, role, units or [], now=NOW)
    return await redeem_invitation(
        session, code, telegram_id=telegram_id, name=f"{role} {telegram_id}", now=NOW
    )
