"""The admin's flows: `/invitar`, `/usuarios` (the people; deactivate, reactivate; each
person's entry is in `handlers.person_entry`) and `/plan` (import a plan spreadsheet sent as a
document: the report, or every problem found and nothing imported)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from telegram import Bot, Document, Message, Update

from handlers.buttons import CancelStep, State, parse_any
from handlers.context import Deps, FlowContext, flow
from handlers.i18n import N_, Safe, Tr
from handlers.labels import role_label
from handlers.open_steps import StepKey
from handlers.people_buttons import (
    PEOPLE_BUTTONS,
    AskDeactivate,
    Deactivate,
    InvitationsPage,
    PeoplePage,
    Reactivate,
    ShowPerson,
)
from handlers.person_entry import menu_setter, person_view
from handlers.replies import (
    ButtonRow,
    Reply,
    View,
    error_text,
    in_rows,
    send_view,
    stale_button,
)
from handlers.text import shorten
from handlers.views import person_line
from storage.db import transaction
from storage.errors import InvalidInput, PlanError
from storage.models import Person, Role, action_ref
from storage.people import (
    create_invitation,
    get_person_by_id,
    list_people,
    parse_role,
    set_person_active,
)
from storage.plan_files import (
    MAX_FILE_BYTES,
    ImportReport,
    PlanFileError,
    PlanFileIssue,
    PlanRow,
    import_plan,
    read_plan_metadata,
    read_plan_rows,
)
from storage.plan_files.names import title_from_file_name
from storage.plan_files.worker import parse_in_worker

PEOPLE_PAGE = 15
ADMINS = (Role.ADMIN,)
PLAN_EXTENSIONS = (".xlsx", ".csv", ".docx")
ISSUES_SHOWN = 15
ALREADY_ACTIVE = N_("This person is active already.")
ALREADY_DEACTIVATED = N_("This person is deactivated already.")
UNITS_LISTED = 20

ISSUE_TEXTS = {
    "empty_file": N_("the file is empty"),
    "not_a_spreadsheet": N_("this is not a readable {expected} file"),
    "unsupported_format": N_(
        "files of type {extension} are not plans: send .xlsx, .csv or a Word document (.docx)"
    ),
    "not_a_document": N_("this is not a readable Word document (.docx)"),
    "no_plan_table": N_(
        "no table of key actions was found (a table with the headers Acciones clave, Plazo, "
        "Responsable...)"
    ),
    "no_rows": N_("no key action rows were found under the headers"),
    "missing_column": N_("the column “{column}” is missing"),
    "duplicate_column": N_("the column “{column}” appears twice"),
    "too_long": N_("the text is too long ({length} characters; at most {limit})"),
    "missing_value": N_("this cell must not be empty"),
    "bad_number": N_("“{value}” is not an action number"),
    "duplicate_action": N_("action {ref} appears twice (first in row {first_row})"),
    "bad_status": N_("“{value}” is not a status"),
    "formula_without_value": N_(
        "cell {cell} holds a formula without a value: save the file in Excel first"
    ),
    "file_too_large": N_("the file is larger than {limit_mb} MB"),
    "uncompressed_too_large": N_("unpacked, the workbook would take more than {limit_mb} MB"),
    "part_too_large": N_("the part {part} of the workbook takes more than {limit_mb} MB unpacked"),
    "too_many_entries": N_("the workbook holds more than {limit} internal parts"),
    "compression_ratio": N_(
        "the workbook is compressed more than {limit} to 1, which no plan needs"
    ),
    "too_many_rows": N_("the file has more than {limit} rows"),
    "too_many_columns": N_(
        "a row has values beyond column {limit}; a plan has at most {limit} columns"
    ),
    "line_too_long": N_("a line is longer than {limit} characters"),
    "parse_time_limit": N_("reading the file took longer than the limit of {seconds} seconds"),
    "parse_failed": N_("the file could not be read: the reader stopped before finishing"),
}


def split_invitation_args(text: str) -> tuple[str, list[str]]:
    """`/invitar focal PNUD, Unidad de Coordinación` -> ("focal", ["PNUD", "Unidad de ..."])."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "", []
    rest = words[1] if len(words) > 1 else ""
    units = [u.strip() for u in re.split(r"[,;\n]", rest) if u.strip()]
    return words[0], units


@flow(roles=ADMINS)
async def invite_command(update: Update, context: FlowContext) -> View:
    """/invitar ROLE [UNIT, UNIT...]: a single-use invitation link."""
    tr, deps = context.tr, context.deps
    role_text, units = split_invitation_args(" ".join(context.args or []))
    if not role_text:
        return View(
            tr._(
                "Usage: <code>/invitar ROLE [UNIT, UNIT...]</code>\nRoles: focal, coordinador, "
                "secretariado, admin. Example: <code>/invitar focal PNUD, Unidad de "
                "Coordinación</code>"
            )
        )
    role = parse_role(role_text)
    try:
        code = await create_invitation(
            context.session,
            role,
            units,
            created_by=context.person,
            now=deps.now(),
            known_units_only=True,
        )
    except InvalidInput as error:
        if error.code != "unknown_unit":
            raise
        return View(unknown_units_text(tr, role_text, units, error.detail))
    username = deps.bot_username or context.bot.username
    link = f"https://t.me/{username}?start={code}"
    who = role_label(tr, role) + (f" · {', '.join(units)}" if units else "")
    return View(
        tr._(
            "Invitation for <b>{who}</b> (single use, valid 14 days). Send this link to the "
            "person:\n{link}\n\nOr they can write to me: <code>/start {code}</code>",
            who=who,
            link=link,
            code=code,
        )
    )


def unknown_units_text(tr: Tr, role_text: str, units: list[str], detail: dict[str, Any]) -> str:
    """No such unit: the closest ones (and the command with them), or the units there are."""
    unknown: dict[str, list[str]] = detail["unknown"]
    known: list[str] = detail["known"]
    lines = []
    for name, closest in unknown.items():
        if closest:
            lines.append(
                tr._(
                    "There is no unit “{unit}”. Closest: {closest}.",
                    unit=name,
                    closest=", ".join(closest),
                )
            )
        else:
            lines.append(tr._("There is no unit “{unit}”.", unit=name))
    if all(unknown.values()):
        fixed = [unknown[name][0] if name in unknown else name for name in units]
        command = f"/invitar {role_text} {', '.join(fixed)}"
        lines.append(tr._("Did you mean <code>{command}</code>?", command=command))
    elif known:
        listed = ", ".join(known[:UNITS_LISTED]) + (" …" if len(known) > UNITS_LISTED else "")
        lines.append(tr._("Units in the plans: {units}", units=listed))
    else:
        lines.append(tr._("There are no units yet: import a plan first with /plan."))
    lines.append(tr._("No invitation was created."))
    return "\n".join(lines)


def people_view(tr: Tr, people: list[Person], page: int, me: Person) -> View:
    """A page of the people: a line each, and a button each to open their entry (role, units,
    access); the pending invitations one button away."""
    pages = max(1, -(-len(people) // PEOPLE_PAGE))
    page = max(0, min(page, pages - 1))
    shown = people[page * PEOPLE_PAGE : (page + 1) * PEOPLE_PAGE]
    lines = [tr.n_("<b>{n} person registered</b>", "<b>{n} people registered</b>", len(people))]
    lines += [person_line(tr, p) for p in shown]
    lines.append(tr._("Open a person to change their role or units, or their access."))
    entries = [
        (
            ("✏ " if p.active else "🚫 ") + shorten(p.name or str(p.telegram_id), 30),
            ShowPerson(p.id),
        )
        for p in shown
    ]
    buttons: list[ButtonRow] = in_rows(entries, 2)
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹ " + tr.raw("Previous"), PeoplePage(page - 1)))
    if page + 1 < pages:
        nav.append((tr.raw("Next") + " ›", PeoplePage(page + 1)))
    if nav:
        buttons.append(nav)
    buttons.append([(tr.raw("✉ Pending invitations"), InvitationsPage())])
    return View("\n".join(lines), buttons)


@flow(roles=ADMINS)
async def people_command(update: Update, context: FlowContext) -> View:
    """/usuarios: people, their roles and units, each with a button to their entry."""
    people = list(await list_people(context.session))
    return people_view(context.tr, people, 0, context.person)


@flow(roles=ADMINS)
async def people_pressed(update: Update, context: FlowContext) -> Reply:
    """A page of people, or deactivating (asked first) and reactivating someone."""
    tr, session, admin = context.tr, context.session, context.person
    button = parse_any(update, *PEOPLE_BUTTONS)
    if isinstance(button, AskDeactivate):
        target = await get_person_by_id(session, button.person_id)
        if not target.active:
            return Reply([person_view(tr, target, admin)], notice=tr.raw(ALREADY_DEACTIVATED))
        question = tr._(
            "Deactivate <b>{name}</b>? They will no longer be able to use the bot; "
            "their comments stay in the history.",
            name=target.name,
        )
        answers = [
            (tr.raw("Yes, deactivate"), Deactivate(target.id)),
            (tr.raw("No"), ShowPerson(target.id)),
        ]
        return Reply([View(question, [answers])])
    if isinstance(button, Deactivate | Reactivate):
        active = isinstance(button, Reactivate)
        target = await get_person_by_id(session, button.person_id)
        if target.active == active:  # an old button: nothing to do
            notice = tr.raw(ALREADY_ACTIVE if active else ALREADY_DEACTIVATED)
            return Reply([person_view(tr, target, admin)], notice=notice)
        target = await set_person_active(
            session, admin, button.person_id, active, now=context.deps.now()
        )
        notice = (
            tr.raw("{name} was reactivated; they were told.", name=target.name)
            if active
            else tr.raw("{name} was deactivated.", name=target.name)
        )
        after = menu_setter(context, target) if active else None
        return Reply([person_view(tr, target, admin)], notice=notice, after=after)
    if not isinstance(button, PeoplePage):
        return stale_button(tr)
    people = list(await list_people(session))
    return Reply([people_view(tr, people, button.page, admin)])


@flow(roles=ADMINS)
async def plan_command(update: Update, context: FlowContext) -> View:
    """/plan: wait for a plan spreadsheet."""
    tr = context.tr
    await context.step.open(State.PLAN_UPLOAD, {})
    return View(
        tr._(
            "Send me the plan as a document: a spreadsheet (.xlsx or .csv) with one row per "
            "key action and the columns of the plan table (Recomendación Nº, Acción clave, "
            "Plazo, Responsable...), or the Word document of the plan (.docx: a heading "
            "“Recomendación de la Evaluación Nº …” and a table of key actions per "
            "recommendation). A plan with the same title is updated in place, keeping its "
            "comments. If anything is wrong, I will tell you where and import nothing."
        ),
        [[(tr.raw("✖ Cancel"), CancelStep())]],
    )


def issue_line(tr: Tr, issue: PlanFileIssue) -> str:
    """A problem of a plan file, in the person's language (HTML)."""
    return describe_issue(tr._, issue)


def plain_issue_line(issue: PlanFileIssue) -> str:
    """The same in plain English text, for the command line."""
    return describe_issue(lambda message, /, **values: message.format(**values), issue)


def describe_issue(_: Callable[..., str], issue: PlanFileIssue) -> str:
    """A problem of a plan file, where it is and what: `_` gives the texts (`Tr._`, or plain
    formatting of the English ones)."""
    values = {
        k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in issue.detail.items()
    }
    values.setdefault("column", issue.column or "")
    if "label" in values and "number" in values:
        values["ref"] = action_ref(str(values["label"]), int(values["number"]))
    template = ISSUE_TEXTS.get(issue.code)
    what = Safe(  # escaped already, when `_` escapes
        _(template, **values) if template else _("unexpected content ({code})", code=issue.code)
    )
    if issue.table and issue.row and issue.column:
        return _(
            "• Table {table}, row {row}, column “{column}”: {what}",
            table=issue.table,
            row=issue.row,
            column=issue.column,
            what=what,
        )
    if issue.table and issue.row:
        return _("• Table {table}, row {row}: {what}", table=issue.table, row=issue.row, what=what)
    if issue.row and issue.column:
        return _(
            "• Row {row}, column “{column}”: {what}", row=issue.row, column=issue.column, what=what
        )
    if issue.row:
        return _("• Row {row}: {what}", row=issue.row, what=what)
    return _("• {what}", what=what)


def report_text(tr: Tr, report: ImportReport, title: str) -> str:
    head = (
        tr._("Plan <b>{title}</b> imported.", title=title)
        if report.created
        else tr._("Plan <b>{title}</b> updated.", title=title)
    )
    lines = [
        head,
        tr._("Recommendations: {n}", n=report.recommendations),
        tr._(
            "Key actions: {added} new, {updated} updated, {unchanged} unchanged",
            added=report.actions_added,
            updated=report.actions_updated,
            unchanged=report.actions_unchanged,
        ),
        tr._(
            "Comments added: {comments} · statuses changed: {statuses}",
            comments=report.comments_added,
            statuses=report.statuses_changed,
        ),
        tr._("Responsible units: {units}", units=", ".join(report.units) or "—"),
    ]
    if report.actions_removed or report.kept_missing:
        lines.append(
            tr._(
                "Not in the file: {removed} removed, {kept} kept for their history",
                removed=report.actions_removed,
                kept=len(report.kept_missing),
            )
        )
    for label, number, text in report.unparsed_deadlines[:10]:
        lines.append(
            tr._(
                "⚠️ {ref}: deadline “{text}” kept as text (not a date)",
                ref=action_ref(label, number),
                text=text,
            )
        )
    return "\n".join(lines)


def is_plan_caption(message: Message) -> bool:
    """A document sent with `/plan` as its caption is a plan, with or without `/plan` first."""
    return message.document is not None and (message.caption or "").strip().lower().startswith(
        "/plan"
    )


async def plan_step(message: Message, context: FlowContext, data: dict[str, Any]) -> Reply:
    """A plan spreadsheet from an admin: imported, or every problem listed and nothing changed.

    The file is downloaded, checked and parsed once this step's transaction is over (`after`),
    the parsing in a worker process with a time limit (`storage.plan_files.worker`): a big or
    hostile file holds neither the event loop nor a database lock, and everyone else is
    answered meanwhile. The import then has a transaction
    of its own, which also ends the step."""
    tr = context.tr
    document = message.document
    if document is None:
        return Reply(
            [View(tr._("Please send the plan as a document (.xlsx, .csv or .docx), or /cancelar."))]
        )
    name = document.file_name or "plan"
    if PurePath(name.lower()).suffix not in PLAN_EXTENSIONS:
        return Reply(
            [
                View(
                    tr._(
                        "Please send the plan as .xlsx, .csv or .docx (this is “{name}”).",
                        name=name,
                    )
                )
            ]
        )
    if (document.file_size or 0) > MAX_FILE_BYTES:
        issue = PlanFileIssue(None, None, "file_too_large", {"limit_mb": MAX_FILE_BYTES >> 20})
        return Reply([View(problems_text(tr, name, PlanFileError([issue])))])
    upload = PlanUpload(
        document, name, tr, context.deps, context.bot, context.chat_id, context.person.telegram_id
    )
    return Reply(after=upload.run)


@dataclass(frozen=True, slots=True)
class PlanUpload:
    """A plan file taken in after its step's transaction: read off the loop, then imported."""

    document: Document
    name: str
    tr: Tr
    deps: Deps
    bot: Bot
    chat_id: int
    user_id: int | None

    async def run(self) -> None:
        await send_view(self.bot, self.chat_id, await self.read_and_import())

    async def read_and_import(self) -> View:
        tr, deps, name = self.tr, self.deps, self.name
        try:
            content = bytes(await (await self.document.get_file()).download_as_bytearray())
            # parsed in a worker process, stopped at the time limit: everyone else is
            # answered meanwhile
            rows, meta = await parse_in_worker(
                read_plan_file, content, name, seconds=deps.plan_parse_seconds
            )
            title = meta.get("title") or title_from_file_name(name)
            async with transaction(deps.sessions) as session:
                report = await import_plan(
                    session,
                    rows,
                    title=title,
                    source_file=name,
                    programme=meta.get("programme", ""),
                    evaluation=meta.get("evaluation", ""),
                )
                step = StepKey(session, self.chat_id, self.user_id or 0, deps.now(), deps.step_ttl)
                await step.close()
        except PlanFileError as error:
            return View(problems_text(tr, name, error))
        except PlanError as error:
            return View(error_text(tr, error))
        return View(report_text(tr, report, title))


def read_plan_file(content: bytes, name: str) -> tuple[list[PlanRow], dict[str, str]]:
    """A plan file's rows and (for a workbook or a Word document) its details; `PlanFileError`
    when it cannot be read. Blocking: the caller runs it in a worker process (so: a top-level
    function)."""
    rows = read_plan_rows(content, name)
    meta = read_plan_metadata(content, name)
    return rows, meta


def problems_text(tr: Tr, name: str, error: PlanFileError) -> str:
    lines = [tr._("I could not import “{name}”; nothing was changed. Problems found:", name=name)]
    lines += [issue_line(tr, issue) for issue in error.issues[:ISSUES_SHOWN]]
    if len(error.issues) > ISSUES_SHOWN:
        lines.append(tr._("…and {n} more.", n=len(error.issues) - ISSUES_SHOWN))
    lines.append(tr._("Fix the file and send it again."))
    return "\n".join(lines)
