"""A synthetic portfolio at the size one fund's secretariat follows: 130 plans, 20,000 key
actions, 200,000 comments, 5,000 people. Rows are bulk-inserted with Core `insert()`s, so building
it takes seconds, not the hours the chat would."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Sessions, transaction
from storage.models import (
    Comment,
    KeyAction,
    NotifyMode,
    Person,
    Plan,
    Recommendation,
    Role,
    Status,
    StatusChange,
    Unit,
    action_units,
    person_units,
)
from storage.units import unit_key

STATUSES = [Status.NOT_STARTED, Status.IN_PROGRESS, Status.COMPLETED, Status.NOT_APPLICABLE]
STATUS_WEIGHTS = [35, 40, 20, 5]
DEADLINES = [
    ("Enero 2026", "month", dt.date(2026, 1, 31)),
    ("Primer semestre 2026", "semester", dt.date(2026, 6, 30)),
    ("28 febrero 2027", "date", dt.date(2027, 2, 28)),
    ("2do trimestre 2027", "quarter", dt.date(2027, 6, 30)),
    ("Diciembre 2026 – enero 2027", "range", dt.date(2027, 1, 31)),
    ("A la recepción del tercer desembolso", "event", None),
    ("Permanente", "ongoing", None),
]
WORDS = [
    "fortalecer",
    "estrategia",
    "común",
    "asistencia",
    "técnica",
    "emprendimientos",
    "financiamiento",
    "POA",
    "capacitación",
    "alineamiento",
    "programas",
    "nacionales",
    "sistematización",
    "experiencias",
    "gobiernos",
    "regionales",
    "contrapartes",
    "agencias",
    "participantes",
    "monitoreo",
    "evaluación",
    "comunicación",
]


@dataclass
class Portfolio:
    plan_ids: list[int] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    focal_telegram_ids: list[int] = field(default_factory=list)
    coordinator_telegram_ids: list[int] = field(default_factory=list)
    secretariat_telegram_ids: list[int] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)
    actions_by_unit: dict[int, list[int]] = field(default_factory=dict)
    focal_units: dict[int, list[int]] = field(default_factory=dict)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


async def _insert(session: AsyncSession, table, rows: list[dict], chunk: int = 5000) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), chunk):
        await session.execute(insert(table), rows[start : start + chunk])


async def build_portfolio(
    sessions: Sessions,
    *,
    plans: int = 130,
    actions: int = 20_000,
    comments: int = 200_000,
    people: int = 5_000,
    units: int = 400,
    now: dt.datetime | None = None,
    seed: int = 1,
) -> Portfolio:
    rng = random.Random(seed)
    now = now or dt.datetime.now(dt.UTC)
    out = Portfolio()
    async with transaction(sessions) as session:
        unit_rows = [
            {"name": f"Unidad {i:03d}", "key": unit_key(f"Unidad {i:03d}")} for i in range(units)
        ]
        await _insert(session, Unit.__table__, unit_rows)
        out.unit_ids = [
            r[0] for r in (await session.execute(Unit.__table__.select().order_by(Unit.id))).all()
        ]
        await _insert(
            session,
            Plan.__table__,
            [
                {
                    "title": f"Plan de Mejora PC {i + 1:03d}",
                    "programme": f"Programa Conjunto {i + 1:03d}",
                    "evaluation": "Evaluación de medio término",
                    "source_file": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(plans)
            ],
        )
        out.plan_ids = [r[0] for r in (await session.execute(Plan.__table__.select())).all()]
        rec_rows = []
        blocks_per_plan = 8
        for plan_id in out.plan_ids:
            for position in range(1, blocks_per_plan + 1):
                rec_rows.append(
                    {
                        "plan_id": plan_id,
                        "position": position,
                        "label": str(position),
                        "text": _sentence(rng, 25),
                        "management_response": _sentence(rng, 15),
                    }
                )
        await _insert(session, Recommendation.__table__, rec_rows)
        recs = (
            await session.execute(Recommendation.__table__.select().order_by(Recommendation.id))
        ).all()
        action_rows = []
        per_rec = actions // len(recs)
        extra = actions - per_rec * len(recs)
        for index, rec in enumerate(recs):
            for number in range(1, per_rec + (1 if index < extra else 0) + 1):
                text, kind, due = rng.choice(DEADLINES)
                status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
                action_rows.append(
                    {
                        "plan_id": rec.plan_id,
                        "recommendation_id": rec.id,
                        "position": rec.position,
                        "number": number,
                        "text": _sentence(rng, 18),
                        "responsible_text": "",
                        "deadline_text": text,
                        "deadline_kind": kind,
                        "deadline_start": None,
                        "deadline_due": due,
                        "status": status,
                        "review_status": rng.choice(["pending", "validated", "observed"]),
                        "last_update_at": now - dt.timedelta(days=rng.randint(0, 120)),
                        "created_at": now,
                    }
                )
        await _insert(session, KeyAction.__table__, action_rows)
        action_ids = [r[0] for r in (await session.execute(KeyAction.__table__.select())).all()]
        out.action_ids = action_ids
        links = []
        for action_id in action_ids:
            for unit_id in rng.sample(out.unit_ids, rng.choice([1, 1, 2, 3])):
                links.append({"action_id": action_id, "unit_id": unit_id})
                out.actions_by_unit.setdefault(unit_id, []).append(action_id)
        await _insert(session, action_units, links)
        person_rows = []
        roles = [Role.COORDINATOR] * max(1, min(130, people // 38))
        roles += [Role.SECRETARIAT] * max(1, min(20, people // 250)) + [Role.ADMIN] * 2
        roles += [Role.FOCAL] * (people - len(roles))
        for i, role in enumerate(roles):
            telegram_id = 1_000_000 + i
            person_rows.append(
                {
                    "telegram_id": telegram_id,
                    "name": f"Persona {i}",
                    "username": None,
                    "role": role,
                    "language": "es",
                    "active": True,
                    "notify_mode": NotifyMode.OFF,
                    "created_at": now,
                }
            )
            bucket = {
                Role.FOCAL: out.focal_telegram_ids,
                Role.COORDINATOR: out.coordinator_telegram_ids,
                Role.SECRETARIAT: out.secretariat_telegram_ids,
            }.get(role)
            if bucket is not None:
                bucket.append(telegram_id)
        await _insert(session, Person.__table__, person_rows)
        person_ids = {
            r.telegram_id: r.id for r in (await session.execute(Person.__table__.select())).all()
        }
        memberships = []
        for telegram_id in out.focal_telegram_ids:
            chosen = rng.sample(out.unit_ids, rng.choice([1, 1, 2]))
            out.focal_units[telegram_id] = chosen
            memberships += [{"person_id": person_ids[telegram_id], "unit_id": u} for u in chosen]
        await _insert(session, person_units, memberships)
        focal_ids = [person_ids[t] for t in out.focal_telegram_ids]
        comment_rows = [
            {
                "action_id": rng.choice(action_ids),
                "author_id": rng.choice(focal_ids),
                "kind": "follow_up",
                "text": _sentence(rng, rng.randint(8, 40)),
                "source_key": None,
                "created_at": now - dt.timedelta(minutes=rng.randint(0, 500_000)),
            }
            for _ in range(comments)
        ]
        await _insert(session, Comment.__table__, comment_rows)
        change_rows = [
            {
                "action_id": rng.choice(action_ids),
                "author_id": rng.choice(focal_ids),
                "field": "status",
                "old_value": "not_started",
                "new_value": "in_progress",
                "comment_id": None,
                "created_at": now - dt.timedelta(minutes=rng.randint(0, 500_000)),
            }
            for _ in range(comments // 10)
        ]
        await _insert(session, StatusChange.__table__, change_rows)
    async with sessions() as session:
        # Planner statistics, as a live database has them (autovacuum on PostgreSQL).
        await session.execute(sql("ANALYZE"))
        await session.commit()
    return out


def save(portfolio: Portfolio, path: Path) -> None:
    data = asdict(portfolio)
    data["actions_by_unit"] = {str(k): v for k, v in portfolio.actions_by_unit.items()}
    data["focal_units"] = {str(k): v for k, v in portfolio.focal_units.items()}
    path.write_text(json.dumps(data))


def load(path: Path) -> Portfolio:
    data = json.loads(path.read_text())
    data["actions_by_unit"] = {int(k): v for k, v in data["actions_by_unit"].items()}
    data["focal_units"] = {int(k): v for k, v in data["focal_units"].items()}
    return Portfolio(**data)


async def _build_main(url: str, sizes: dict[str, int], out: Path) -> None:
    from storage.db import create_engine, create_sessions

    engine = create_engine(url)
    save(await build_portfolio(create_sessions(engine), **sizes), out)
    await engine.dispose()


if __name__ == "__main__":
    # `python -m bench.portfolio URL SIZES_JSON OUT`: built in a child process, so the memory
    # of bulk-building 200,000 rows is not counted as the bot's.
    asyncio.run(_build_main(sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])))
