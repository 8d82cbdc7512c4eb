"""The command line: `python -m bot [run|demo|db upgrade|db backup|plan import|plan export|
plan list|plan archive|plan delete|plan report|invite|invitations|evidence export|doctor|
round open|list|status|close]`.

Messages here are for whoever runs the bot on a server (operators), not chat users.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from pathlib import Path

from bot.settings import Settings, get_settings
from locales import SUPPORTED
from storage.clock import end_of_day
from storage.db import create_engine, create_sessions, transaction, upgrade_sync
from storage.models import action_ref
from storage.plans import PlanInfo


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


#: The formats `plan export` writes, by the file's extension.
EXPORT_FORMATS = (".xlsx", ".csv", ".docx")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Plan de Mejora bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (polling, or webhook when WEBHOOK_URL is set)")
    demo = sub.add_parser("demo", help="console chat against a local Telegram simulator")
    demo.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "backup"])
    db.add_argument("file", type=Path, nargs="?", help="backup: the copy to write")
    db.add_argument("--force", action="store_true", help="backup: overwrite FILE")
    plan = sub.add_parser("plan", help="import, export, list, archive or delete plans")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    imp = plan_sub.add_parser(
        "import", help="import a plan from .xlsx, .csv or .docx (or the demo)"
    )
    imp.add_argument("file", type=Path, nargs="?")
    imp.add_argument("--demo", action="store_true", help="load the bundled demo plan instead")
    imp.add_argument("--title", default=None)
    imp.add_argument("--plan", type=int, default=None, help="update this plan id in place")
    exp = plan_sub.add_parser("export", help="export a plan to .xlsx, .csv or .docx")
    exp.add_argument("file", type=Path)
    exp.add_argument("--plan", type=int, default=None, help="plan id (default: the first)")
    exp.add_argument(
        "--as-of",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="the plan as it stood at the end of that day (BOT_TIMEZONE); default: now",
    )
    plan_sub.add_parser("list", help="every plan: id, title, actions, comments, archived")
    archive = plan_sub.add_parser("archive", help="hide a plan from every view (kept)")
    archive.add_argument("plan_id", type=int, metavar="ID")
    remove = plan_sub.add_parser("delete", help="delete a plan with its actions and comments")
    remove.add_argument("plan_id", type=int, metavar="ID")
    remove.add_argument("--yes", action="store_true", help="delete (else: say what would go)")
    remove.add_argument("--force", action="store_true", help="even if people commented on it")
    report = plan_sub.add_parser("report", help="the committee's PDF report of a plan")
    report.add_argument("file", type=Path, metavar="FILE.pdf")
    report.add_argument("--plan", type=int, default=None, help="plan id (default: the first)")
    report.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the plan as it stood at the end of that day (default: now)",
    )
    report.add_argument("--language", default=None, help="es or en (default: BOT_LOCALE)")
    invite = sub.add_parser("invite", help="create an invitation code and its deep link")
    invite.add_argument("--role", required=True, help="focal, coordinator, secretariat, admin")
    invite.add_argument("--unit", action="append", default=[], help="a responsible unit")
    invite.add_argument("--days", type=int, default=14, help="days the code stays valid")
    invitations = sub.add_parser("invitations", help="the pending invitations: list, revoke")
    inv_sub = invitations.add_subparsers(dest="invitations_command")
    inv_sub.add_parser("list", help="every pending invitation (the default)")
    inv_revoke = inv_sub.add_parser("revoke", help="revoke one: its code registers nobody")
    inv_revoke.add_argument("invitation_id", type=int, metavar="ID")
    evidence = sub.add_parser("evidence", help="keep the attached evidence outside Telegram")
    evidence_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    ev_exp = evidence_sub.add_parser(
        "export",
        help="download every attached file into DIR/<block>.<number>/ with DIR/manifest.csv",
    )
    ev_exp.add_argument("directory", type=Path, metavar="DIR")
    ev_exp.add_argument("--plan", type=int, default=None, help="plan id (default: every plan)")
    sub.add_parser("doctor", help="check the token, database, webhook and notification chats")
    rounds = sub.add_parser("round", help="reporting rounds: open, list, status, close")
    round_sub = rounds.add_subparsers(dest="round_command", required=True)
    round_open = round_sub.add_parser("open", help="open a round and ask every focal point")
    round_open.add_argument("--closes", required=True, help="closing date, YYYY-MM-DD (included)")
    round_open.add_argument("--plan", type=int, default=None, help="plan id (default: the only)")
    round_open.add_argument("--title", default="", help="e.g. 'Informe semestral'")
    round_sub.add_parser("list", help="every round: id, plan, title, dates, people asked")
    round_status = round_sub.add_parser("status", help="who has answered (default: latest)")
    round_status.add_argument("round_id", type=int, nargs="?", metavar="ID")
    round_close = round_sub.add_parser("close", help="close a round now and send its report")
    round_close.add_argument("round_id", type=int, nargs="?", metavar="ID")
    return parser


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from storage.plan_files import PlanFileError, import_plan, read_plan_metadata, read_plan_rows
    from storage.plan_files.names import title_from_file_name

    if args.demo:
        await _load_demo(settings)
        return 0
    if args.file is None:
        print("error: give a plan file, or --demo for the demo plan", file=sys.stderr)
        return 2

    try:  # the file's size is checked before it is read, its contents before they are parsed
        rows = read_plan_rows(args.file)
    except PlanFileError as exc:
        from handlers.administration import plain_issue_line

        print(f"could not import {args.file.name}; problems found:", file=sys.stderr)
        for issue in exc.issues:
            print(plain_issue_line(issue), file=sys.stderr)
        print("nothing was imported", file=sys.stderr)
        return 1
    meta = read_plan_metadata(args.file)
    title = args.title or meta.get("title") or title_from_file_name(args.file.name)
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            report = await import_plan(
                session,
                rows,
                title=title,
                source_file=args.file.name,
                programme=meta.get("programme", ""),
                evaluation=meta.get("evaluation", ""),
                plan_id=args.plan,
            )
    finally:
        await engine.dispose()
    print(f"plan {report.plan_id} {'created' if report.created else 'updated'}: {title}")
    print(
        f"  {report.recommendations} recommendations; actions: {report.actions_added} added, "
        f"{report.actions_updated} updated, {report.actions_unchanged} unchanged; "
        f"{report.comments_added} comments added; {report.statuses_changed} statuses changed"
    )
    for label, number, text in report.unparsed_deadlines:
        print(f"  deadline kept as text (not a date): {action_ref(label, number)}: {text!r}")
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    if args.file.suffix.lower() == ".pdf":  # the committee's report, as `plan report` makes it
        return await _report(
            settings, argparse.Namespace(**{"as_of": None, "language": None, **vars(args)})
        )
    from storage.actions import list_plans
    from storage.plan_files import export_plan, export_plan_csv, export_plan_docx

    extension = args.file.suffix.lower()
    if extension not in EXPORT_FORMATS:
        print(f"error: export to {', '.join(EXPORT_FORMATS)} (not {extension!r})", file=sys.stderr)
        return 2
    tz, locale = settings.tz, settings.bot_locale
    as_of = end_of_day(args.as_of, tz) if args.as_of is not None else None
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            plans = await list_plans(session)
            if not plans:
                print("there is no plan to export", file=sys.stderr)
                return 1
            plan_id = args.plan or plans[0].id
            if extension == ".csv":
                await export_plan_csv(session, plan_id, args.file, locale=locale, as_of=as_of)
            elif extension == ".docx":
                await export_plan_docx(
                    session, plan_id, args.file, tz=tz, locale=locale, as_of=as_of
                )
            else:
                await export_plan(session, plan_id, args.file, tz=tz, locale=locale, as_of=as_of)
    finally:
        await engine.dispose()
    when = f" as of the end of {args.as_of.isoformat()}" if args.as_of is not None else ""
    print(f"plan {plan_id} written to {args.file}{when}")
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    from reports.pdf import plan_report_pdf
    from storage.actions import list_plans
    from storage.clock import today_in
    from storage.errors import NotFound

    language = args.language or settings.bot_locale
    if language not in SUPPORTED:
        print(f"unknown language {language!r}: {', '.join(SUPPORTED)}", file=sys.stderr)
        return 2
    if args.as_of is not None and args.as_of > today_in(settings.bot_timezone):
        print(f"{args.as_of} is in the future: give a day up to today", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            plans = await list_plans(session)
            if not plans:
                print("there is no plan to report on", file=sys.stderr)
                return 1
            plan_id = args.plan or plans[0].id
            data = await plan_report_pdf(
                session, plan_id, locale=language, tz=settings.bot_timezone, as_of=args.as_of
            )
    except NotFound:
        print(f"error: there is no plan {args.plan}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    await asyncio.to_thread(args.file.write_bytes, data)
    print(f"report of plan {plan_id} written to {args.file}")
    return 0


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if not settings.telegram_bot_token:
        return ""
    from telegram import Bot

    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
            return bot.username
    except Exception as exc:
        print(f"could not ask Telegram for the bot's username: {exc}", file=sys.stderr)
        return ""


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from storage.errors import InvalidInput
    from storage.people import create_invitation

    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            code = await create_invitation(
                session,
                args.role,
                args.unit,
                ttl=dt.timedelta(days=args.days),
                known_units_only=True,
            )
    except InvalidInput as exc:
        if exc.code != "unknown_unit":
            print(f"error: {exc.code} {exc.detail}", file=sys.stderr)
            return 2
        for name, closest in exc.detail["unknown"].items():
            hint = f" (closest: {', '.join(closest)})" if closest else ""
            print(f"error: there is no unit {name!r}{hint}", file=sys.stderr)
        known = exc.detail["known"]
        units = f"units: {', '.join(known)}" if known else "there are no units yet: import a plan"
        print(units, file=sys.stderr)
        print("no invitation was created", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    username = await _bot_username(settings)
    print(f"code: {code}")
    if username:
        print(f"link: https://t.me/{username}?start={code}")
    else:
        print(f"link: https://t.me/<bot>?start={code}  (set BOT_USERNAME to print the real link)")
    print(f"or send the bot: /start {code}")
    return 0


async def _invitations(settings: Settings, args: argparse.Namespace) -> int:
    """`invitations [list]`: the pending invitations; `invitations revoke ID`."""
    from storage.errors import InvitationError
    from storage.invitations import pending_invitations, revoke_invitation

    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            if args.invitations_command == "revoke":
                try:
                    await revoke_invitation(session, None, args.invitation_id)
                except InvitationError as exc:
                    print(f"error: invitation {args.invitation_id}: {exc.code}", file=sys.stderr)
                    return 1
                print(f"invitation {args.invitation_id} revoked: its code registers nobody")
                return 0
            pending = await pending_invitations(session)
    finally:
        await engine.dispose()
    if not pending:
        print("no pending invitations")
    for item in pending:
        units = f" [{', '.join(item.units)}]" if item.units else ""
        by = item.created_by or "command line"
        print(
            f"{item.id}: {item.role}{units}, by {by} on {item.created_at:%Y-%m-%d}, "
            f"valid until {item.expires_at:%Y-%m-%d}"
        )
    return 0


async def _evidence(settings: Settings, args: argparse.Namespace) -> int:
    from telegram import Bot

    from bot.evidence import PLACE, STATUSES, export_evidence

    if not settings.telegram_bot_token:
        print("error: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2

    def make_bot() -> Bot:
        return Bot(
            settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            base_file_url=settings.file_base_url,
        )

    engine = create_engine(settings.database_url)
    try:
        report = await export_evidence(
            create_sessions(engine), make_bot, args.directory, plan_id=args.plan, tz=settings.tz
        )
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the folder cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    counts = report.counts()
    places = f" (and {counts[PLACE]} field visit places, in the manifest)" if counts[PLACE] else ""
    print(
        f"{len(report.outcomes) - counts[PLACE]} files: "
        + ", ".join(f"{counts[status]} {status}" for status in STATUSES)
        + places
    )
    for outcome in report.outcomes:
        if outcome.detail and outcome.status != PLACE:
            print(f"  {outcome.status}: {outcome.path}: {outcome.detail}")
    print(f"manifest: {report.manifest}")
    if report.unreachable:
        print("error: Telegram could not be reached; nothing was downloaded", file=sys.stderr)
        return 1
    return 0


async def _load_demo(settings: Settings) -> None:
    from bot.runner import load_demo_if_empty

    engine = create_engine(settings.database_url)
    try:
        loaded = await load_demo_if_empty(create_sessions(engine))
    finally:
        await engine.dispose()
    print("demo plan loaded" if loaded else "there are plans already: the demo was not loaded")


def _plan_line(info: PlanInfo) -> str:
    archived = f"archived {info.archived_at:%Y-%m-%d}" if info.archived_at else "-"
    return (
        f"{info.id}\t{info.title}\t{info.actions} actions\t{info.comments} comments"
        f" (+{info.imported_comments} imported)\t{archived}"
    )


async def _plans(settings: Settings, args: argparse.Namespace) -> int:
    """`plan list`, `plan archive ID`, `plan delete ID [--yes] [--force]`."""
    from storage.errors import PlanError
    from storage.plans import archive_plan, delete_plan, plan_overview

    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_sessions(engine)) as session:
            if args.plan_command == "list":
                plans = await plan_overview(session)
                print("id\ttitle\tactions\tcomments\tarchived")
                for info in plans:
                    print(_plan_line(info))
                if not plans:
                    print("there are no plans: python -m bot plan import FILE (or --demo)")
                return 0
            if args.plan_command == "archive":
                info = await archive_plan(session, args.plan_id)
                print(f"plan {info.id} archived (hidden from every view, kept): {info.title}")
                return 0
            info = await delete_plan(session, args.plan_id, force=args.force, dry_run=not args.yes)
    except PlanError as exc:
        if exc.code == "plan_has_comments":
            print(
                f"error: people posted {exc.detail['comments']} comments on plan "
                f"{args.plan_id}: archive it instead, or add --force to delete them too",
                file=sys.stderr,
            )
        else:
            print(f"error: there is no plan {args.plan_id}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    what = (
        f"plan {info.id} ({info.title}): {info.actions} key actions, {info.comments} comments"
        f" by people, {info.imported_comments} imported comments, and their history"
    )
    if args.yes:
        print(f"deleted {what}")
    else:
        print(f"would delete {what}; run again with --yes to delete")
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    """`db backup FILE [--force]`: SQLite copied online; for PostgreSQL, the pg_dump to run."""
    from bot.backup import BackupRefused, backup, pg_dump_command, sqlite_path

    if args.file is None:
        print("error: give the file to write: python -m bot db backup FILE", file=sys.stderr)
        return 2
    if sqlite_path(settings.database_url) is None:
        print("PostgreSQL is backed up with its own tool; run (password from PGPASSWORD):")
        print(f"  {pg_dump_command(settings.database_url, args.file)}")
        print(f"restore with: pg_restore --clean --no-owner --dbname DATABASE '{args.file}'")
        return 0
    try:
        report = asyncio.run(backup(settings.database_url, args.file, force=args.force))
    except (BackupRefused, OSError) as exc:
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        return 1
    print(
        f"backup written to {report.path}: {report.size:,} bytes, "
        f"{report.plans} plans, {report.people} people"
    )
    return 0


def _not_a_busy_outbox(record: logging.LogRecord) -> bool:
    """An outbox pass that outlasts the interval is normal (sends are paced to Telegram's
    limits) and the next pass simply starts later; APScheduler warns of it every tick."""
    return "maximum number of running instances reached" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = get_settings()
    command = args.command or "run"
    logging.basicConfig(
        level="WARNING" if command == "demo" else settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_not_a_busy_outbox)
    if command == "run":
        from bot.runner import run

        run(settings)
        return 0
    if command == "demo":
        from bot.demo import main as demo_main

        return demo_main(args.database_url)
    if command == "db" and args.action == "backup":
        return _backup(settings, args)  # before any upgrade: a backup is what comes first
    if command == "doctor":
        from bot.doctor import doctor

        return asyncio.run(doctor(settings))
    upgrade_sync(settings.database_url)
    if command == "db":
        if settings.load_demo_plan:
            asyncio.run(_load_demo(settings))
        print("database is up to date")
        return 0
    if command == "plan":
        commands = {"import": _import, "export": _export, "report": _report}
        action = commands.get(args.plan_command, _plans)
        return asyncio.run(action(settings, args))
    if command == "invite":
        return asyncio.run(_invite(settings, args))
    if command == "invitations":
        return asyncio.run(_invitations(settings, args))
    if command == "evidence":
        return asyncio.run(_evidence(settings, args))
    if command == "round":
        from bot.round_cli import round_command

        return asyncio.run(round_command(settings, args))
    return 2
