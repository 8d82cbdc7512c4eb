"""`python -m bot round open|list|status|close`: reporting rounds from the command line.

Messages here are for whoever runs the bot on a server (operators), not chat users; the
messages the round sends go through the outbox, delivered by the running bot."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.settings import Settings
from storage.clock import today_in
from storage.db import create_engine, create_sessions, transaction
from storage.errors import PlanError
from storage.models import utcnow
from storage.round_closing import close_round
from storage.round_progress import progress
from storage.rounds import RoundInfo, current_round, list_rounds, open_round

ERRORS = {
    "round_date_past": "the closing date must be after today",
    "round_date_far": "the closing date must be within a year",
    "round_plan_needed": "there are several plans: choose one with --plan ID (see plan list)",
    "plan_not_found": "there is no such plan (python -m bot plan list)",
    "round_not_found": "there is no such round (python -m bot round list)",
    "round_closed": "that round is closed already",
}


def _error(exc: PlanError) -> str:
    if exc.code == "round_already_open":
        title = f" ({exc.detail['title']})" if exc.detail.get("title") else ""
        return (
            f"round {exc.detail['round_id']}{title} is open on this plan until "
            f"{exc.detail['closes_on']}: close it first (python -m bot round close "
            f"{exc.detail['round_id']})"
        )
    return ERRORS.get(exc.code, f"{exc.code} {exc.detail}")


def _line(info: RoundInfo) -> str:
    state = f"closed {info.closed_at:%Y-%m-%d}" if info.closed_at else "open"
    return (
        f"{info.id}\t{info.plan_id} {info.plan_title}\t{info.title or '-'}\t"
        f"closes {info.closes_on.isoformat()}\t{state}\t{info.asked} asked"
    )


async def round_command(settings: Settings, args: argparse.Namespace) -> int:
    now = utcnow()
    today = today_in(settings.tz, now)
    if args.round_command == "open":
        try:
            closes = dt.date.fromisoformat(args.closes)
        except ValueError:
            print(f"error: {args.closes!r} is not a date: write YYYY-MM-DD", file=sys.stderr)
            return 2
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            if args.round_command == "open":
                info = await open_round(
                    session,
                    closes_on=closes,
                    today=today,
                    plan_id=args.plan,
                    title=args.title,
                    now=now,
                )
                print(f"round {info.id} opened on plan {info.plan_id} ({info.plan_title})")
                print(f"  closes {info.closes_on.isoformat()}; {info.asked} focal points asked")
                return 0
            if args.round_command == "list":
                rounds = await list_rounds(session)
                print("id\tplan\ttitle\tcloses\tstate\tasked")
                for info in rounds:
                    print(_line(info))
                if not rounds:
                    print("there are no rounds: python -m bot round open --closes YYYY-MM-DD")
                return 0
            rnd = await current_round(session, args.round_id)
            if args.round_command == "close":
                info = await close_round(
                    session,
                    rnd.id,
                    today=today,
                    now=now,
                    notify_chat_ids=settings.secretariat_chat_ids,
                )
                print(f"round {info.id} closed; its report is queued for the secretariat")
                return 0
            state = await progress(session, rnd)
    except PlanError as exc:
        print(f"error: {_error(exc)}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(_line(state.round))
    for unit in state.units:
        print(
            f"  {unit.name}: {unit.people} people, {unit.updated} updated and "
            f"{unit.unchanged} unchanged of {unit.total}, {unit.not_started} not started"
        )
    for person in state.people:
        flag = "" if person.active else " (deactivated)"
        print(
            f"  - {person.name}{flag}: {person.updated} updated, {person.unchanged} unchanged, "
            f"{person.skipped} skipped, of {person.total}"
            + ("" if person.started else " (not started)")
        )
    return 0
