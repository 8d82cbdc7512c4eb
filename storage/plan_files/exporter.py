"""Exporting a plan: .xlsx in the layout of the original table (plus the history and the
plan's details), or the main sheet as CSV. What is exported imports back unchanged."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from locales import DEFAULT_LOCALE
from storage.attachments import describe_attachment
from storage.errors import NotFound
from storage.models import (
    Comment,
    CommentKind,
    KeyAction,
    Plan,
    Recommendation,
    StatusChange,
    utcnow,
)
from storage.plan_files.cells import ILLEGAL_CHARACTERS_RE, column_letter, csv_safe
from storage.plan_files.vocabulary import (
    AS_OF_LABEL,
    EXPORTED_AT_LABEL,
    HISTORY_SHEET_LABEL,
    HISTORY_TITLES,
    MAIN_SHEET_TITLE,
    METADATA_LABELS,
    METADATA_SHEET_TITLE,
    VALUE_LABELS,
    Field,
    column_headers,
    match_key,
    translate,
)

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.worksheet import Worksheet

#: Where an export may be written: a path, or a binary or text buffer.
Destination = str | os.PathLike[str] | IO[bytes] | IO[str]

_COLUMN_WIDTHS: dict[Field, int] = {
    Field.LABEL: 11,
    Field.RECOMMENDATION: 50,
    Field.RESPONSE: 40,
    Field.NUMBER: 9,
    Field.ACTION: 50,
    Field.DEADLINE: 16,
    Field.RESPONSIBLE: 26,
    Field.FOLLOW_UP_COMMENT: 40,
    Field.FOLLOW_UP_STATUS: 15,
    Field.REVIEW_COMMENT: 36,
    Field.REVIEW_STATUS: 17,
}
_HISTORY_WIDTHS = (18, 11, 9, 26, 22, 60, 30)


@dataclass(frozen=True, slots=True)
class _HistoryEntry:
    at: dt.datetime
    order: int
    label: str
    number: int
    kind: str
    author: str
    text: str
    attachments: str


@dataclass(slots=True)
class _PlanContent:
    plan: Plan
    rows: list[dict[Field, Any]]
    history: list[_HistoryEntry]


def _labeller(labels: Callable[[str], str] | None, locale: str) -> Callable[[str], str]:
    """The given label function, falling back to the catalogs' word in `locale` for the values
    it does not know (and to the value itself when no catalog names it)."""

    def label(value: str) -> str:
        if labels is not None:
            try:
                text = labels(value)
            except (KeyError, ValueError):
                text = ""
            if text:
                return text
        message = VALUE_LABELS.get(value)
        return translate(message, locale) if message is not None else value

    return label


async def plan_content(
    session: AsyncSession,
    plan_id: int,
    label: Callable[[str], str],
    *,
    as_of: dt.datetime | None = None,
) -> _PlanContent:
    """The rows of the main sheet (recommendation cells on a block's first row only) and the
    history, with stored values already turned into words by `label`.

    With `as_of`, the plan as it stood at that moment, rebuilt from the append-only history
    (see `_stood_at`): the comments and status changes made until then, the statuses they
    left, and only the actions that existed. Texts, deadlines and units are today's (an import
    updates them in place, without history)."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan_not_found", plan_id=plan_id)
    recs = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.plan_id == plan_id)
            .order_by(Recommendation.position, Recommendation.id)
        )
    ).all()
    actions = (
        await session.scalars(
            select(KeyAction)
            .where(KeyAction.plan_id == plan_id)
            .order_by(KeyAction.position, KeyAction.number)
        )
    ).all()
    comments = (
        await session.scalars(
            select(Comment)
            .join(KeyAction, KeyAction.id == Comment.action_id)
            .where(KeyAction.plan_id == plan_id)
            .order_by(Comment.created_at, Comment.id)
        )
    ).all()
    changes = (
        await session.scalars(
            select(StatusChange)
            .join(KeyAction, KeyAction.id == StatusChange.action_id)
            .where(KeyAction.plan_id == plan_id)
            .options(selectinload(StatusChange.author))
            .order_by(StatusChange.created_at, StatusChange.id)
        )
    ).all()
    statuses = {a.id: (a.status, a.review_status) for a in actions}
    if as_of is not None:
        actions, comments, changes, statuses = _stood_at(actions, comments, changes, as_of)
    latest = {(c.action_id, c.kind): c.text for c in comments}
    rec_by_id = {rec.id: rec for rec in recs}
    rows: list[dict[Field, Any]] = []
    written: set[int] = set()
    for action in actions:
        rec = rec_by_id[action.recommendation_id]
        first = rec.id not in written
        written.add(rec.id)
        rows.append(
            {
                Field.LABEL: rec.label,
                Field.RECOMMENDATION: rec.text if first else "",
                Field.RESPONSE: rec.management_response if first else "",
                Field.NUMBER: action.number,
                Field.ACTION: action.text,
                Field.DEADLINE: action.deadline_text,
                Field.RESPONSIBLE: action.responsible_text,
                Field.FOLLOW_UP_COMMENT: latest.get((action.id, CommentKind.FOLLOW_UP.value), ""),
                Field.FOLLOW_UP_STATUS: label(statuses[action.id][0]),
                Field.REVIEW_COMMENT: latest.get((action.id, CommentKind.REVIEW.value), ""),
                Field.REVIEW_STATUS: label(statuses[action.id][1]),
            }
        )
    refs = {a.id: (rec_by_id[a.recommendation_id].label, a.number) for a in actions}
    history = _history(comments, changes, refs, label)
    return _PlanContent(plan, rows, history)


#: An import takes a moment: what it created within this time of the plan's first action is
#: the plan's first import.
_FIRST_IMPORT = dt.timedelta(minutes=5)


def _stood_at(
    actions: Sequence[KeyAction],
    comments: Sequence[Comment],
    changes: Sequence[StatusChange],
    as_of: dt.datetime,
) -> tuple[list[KeyAction], list[Comment], list[StatusChange], dict[int, tuple[str, str]]]:
    """The actions, comments and status changes that existed at `as_of`, and each action's
    (status, review status) then.

    What the plan's first import brought (its actions, and the comments and statuses of the
    file, which have no author) is the plan's starting point: it counts as known from the
    start, since the document it came from existed before the bot did, and a date before the
    import shows the plan as imported rather than nothing. Later imports and everything
    posted in chat count from their time. A status is the one the last change until `as_of`
    set, else the one the first later change started from, else the current one."""
    first_import = min((a.created_at for a in actions), default=as_of) + _FIRST_IMPORT

    def original(at: dt.datetime, author_id: int | None) -> bool:
        return author_id is None and at <= first_import

    def order(item: Comment | StatusChange) -> tuple[bool, dt.datetime, int]:
        return (not original(item.created_at, item.author_id), item.created_at, item.id)

    kept_actions = [a for a in actions if a.created_at <= max(as_of, first_import)]
    ids = {a.id for a in kept_actions}
    kept_comments = sorted(
        (
            c
            for c in comments
            if c.action_id in ids and (c.created_at <= as_of or original(c.created_at, c.author_id))
        ),
        key=order,
    )
    ordered_changes = sorted((c for c in changes if c.action_id in ids), key=order)
    kept_changes = [
        c for c in ordered_changes if c.created_at <= as_of or original(c.created_at, c.author_id)
    ]
    kept_ids = {c.id for c in kept_changes}
    last_kept: dict[tuple[int, str], str] = {}
    first_later: dict[tuple[int, str], str] = {}
    for change in ordered_changes:
        key = (change.action_id, change.field)
        if change.id in kept_ids:
            last_kept[key] = change.new_value
        else:
            first_later.setdefault(key, change.old_value)

    def status_then(action: KeyAction, name: str) -> str:
        key = (action.id, name)
        return last_kept.get(key) or first_later.get(key) or str(getattr(action, name))

    statuses = {
        a.id: (status_then(a, "status"), status_then(a, "review_status")) for a in kept_actions
    }
    return kept_actions, kept_comments, kept_changes, statuses


def _history(
    comments: Sequence[Comment],
    changes: Sequence[StatusChange],
    refs: Mapping[int, tuple[str, int]],
    label: Callable[[str], str],
) -> list[_HistoryEntry]:
    entries: list[_HistoryEntry] = []
    for comment in comments:
        ref = refs[comment.action_id]
        entries.append(
            _HistoryEntry(
                at=comment.created_at,
                order=0,
                label=ref[0],
                number=ref[1],
                kind=label(comment.kind),
                author=comment.author.name if comment.author else label("imported"),
                text=comment.text,
                attachments="\n".join(
                    describe_attachment(
                        a.kind,
                        a.file_name,
                        duration=a.duration,
                        latitude=a.latitude,
                        longitude=a.longitude,
                        words=label,
                    )
                    for a in comment.attachments
                ),
            )
        )
    for change in changes:
        ref = refs[change.action_id]
        entries.append(
            _HistoryEntry(
                at=change.created_at,
                order=1,
                label=ref[0],
                number=ref[1],
                kind=label(change.field),
                author=change.author.name if change.author else label("imported"),
                text=f"{label(change.old_value)} → {label(change.new_value)}",
                attachments="",
            )
        )
    entries.sort(key=lambda e: (e.at, e.order))
    return entries


def _write_cell(ws: Worksheet, row: int, column: int, value: Any) -> None:
    """Write a value; text that looks like a formula is stored as text, never as a formula."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"


class _Styles(NamedTuple):
    wrap: Alignment
    header_font: Font
    header_fill: PatternFill


@functools.cache
def _styles() -> _Styles:
    # Imported here, as `_workbook`: the Word export reads its rows through this module.
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", start_color="DDE5F0", end_color="DDE5F0")
    return _Styles(Alignment(wrap_text=True, vertical="top"), Font(bold=True), fill)


def _workbook() -> Workbook:
    """A new workbook. openpyxl (tens of MB) is imported here, not with the module: the Word
    export reads its rows through this module without writing a workbook."""
    from openpyxl import Workbook

    return Workbook()


def _header_row(ws: Worksheet, titles: Sequence[str], widths: Sequence[int]) -> None:
    for column, (title, width) in enumerate(zip(titles, widths, strict=True), start=1):
        _write_cell(ws, 1, column, title)
        cell = ws.cell(row=1, column=column)
        cell.font = _styles().header_font
        cell.fill = _styles().header_fill
        cell.alignment = _styles().wrap
        ws.column_dimensions[column_letter(column)].width = width
    ws.freeze_panes = "A2"


def _label_value(label: str) -> str | int:
    """A block label as a number when it is one, so a spreadsheet does not flag it as text."""
    if label.isascii() and label.isdigit() and str(int(label)) == label and len(label) < 10:
        return int(label)
    return label


def _main_sheet(ws: Worksheet, content: _PlanContent, headers: Mapping[Field, str]) -> None:
    fields = list(Field)
    _header_row(ws, [headers[f] for f in fields], [_COLUMN_WIDTHS[f] for f in fields])
    for index, values in enumerate(content.rows, start=2):
        for column, name in enumerate(fields, start=1):
            value = values[name]
            if name == Field.LABEL:
                value = _label_value(value)
            _write_cell(ws, index, column, value)
            ws.cell(row=index, column=column).alignment = _styles().wrap
    if content.rows:
        ws.auto_filter.ref = f"A1:{column_letter(len(fields))}{len(content.rows) + 1}"


def _history_sheet(ws: Worksheet, content: _PlanContent, tz: dt.tzinfo | None, locale: str) -> None:
    zone_name = str(tz) if tz is not None else "UTC"
    titles = [translate(message, locale) for message in HISTORY_TITLES]
    titles[0] = titles[0].format(zone=zone_name)
    _header_row(ws, titles, _HISTORY_WIDTHS)
    for index, entry in enumerate(content.history, start=2):
        at = entry.at.astimezone(tz or dt.UTC).replace(tzinfo=None)
        values = [
            at,
            _label_value(entry.label),
            entry.number,
            entry.kind,
            entry.author,
            entry.text,
            entry.attachments,
        ]
        for column, value in enumerate(values, start=1):
            _write_cell(ws, index, column, value)
            ws.cell(row=index, column=column).alignment = _styles().wrap
        ws.cell(row=index, column=1).number_format = "yyyy-mm-dd hh:mm"


def _metadata_sheet(ws: Worksheet, plan: Plan, locale: str, as_of: dt.date) -> None:
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    values: list[tuple[str, str | dt.date]] = [
        (translate(METADATA_LABELS[key], locale), getattr(plan, key)) for key in METADATA_LABELS
    ]
    values.append((translate(AS_OF_LABEL, locale), as_of))
    values.append(
        (translate(EXPORTED_AT_LABEL, locale), utcnow().replace(tzinfo=None, microsecond=0))
    )
    for index, (key, value) in enumerate(values, start=1):
        _write_cell(ws, index, 1, key)
        ws.cell(row=index, column=1).font = _styles().header_font
        _write_cell(ws, index, 2, value)
        ws.cell(row=index, column=2).alignment = _styles().wrap
    ws.cell(row=len(values) - 1, column=2).number_format = "yyyy-mm-dd"
    ws.cell(row=len(values), column=2).number_format = "yyyy-mm-dd hh:mm"


def _history_sheet_title(title: str | None, locale: str) -> str:
    """A valid sheet title that is not the title of the other two sheets."""
    fallback = translate(HISTORY_SHEET_LABEL, locale)
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title if title is not None else fallback)
    cleaned = cleaned.strip()[:31]
    taken = {match_key(MAIN_SHEET_TITLE), match_key(METADATA_SHEET_TITLE)}
    return cleaned if cleaned and match_key(cleaned) not in taken else fallback


async def export_plan(
    session: AsyncSession,
    plan_id: int,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    *,
    labels: Callable[[str], str] | None = None,
    headers: Mapping[Field, str] | None = None,
    history_sheet_title: str | None = None,
    tz: dt.tzinfo | None = None,
    locale: str = DEFAULT_LOCALE,
    as_of: dt.datetime | None = None,
) -> None:
    """Write the plan as .xlsx in the layout of the original table, as it stands now or as it
    stood at `as_of` (`plan_content`; the date, in `tz`, is written in the "Plan" sheet).

    Sheets: the plan (one row per key action, the latest comment of each kind and the current
    statuses), the full history (comments and status changes; times in `tz`, UTC by default),
    and "Plan" (title, programme, evaluation; read back by `read_plan_metadata`). `labels` maps
    stored values (statuses, comment kinds, "status"/"review_status") to the words written;
    the words, headers and titles it does not give are the catalogs' in `locale` (Spanish by
    default). `headers` replaces some or all column headers.
    """
    label = _labeller(labels, locale)
    content = await plan_content(session, plan_id, label, as_of=as_of)
    workbook = _workbook()
    main = workbook.active
    assert main is not None
    main.title = MAIN_SHEET_TITLE
    _main_sheet(main, content, {**column_headers(locale), **(headers or {})})
    history = workbook.create_sheet(_history_sheet_title(history_sheet_title, locale))
    _history_sheet(history, content, tz, locale)
    day = (as_of or utcnow()).astimezone(tz or dt.UTC).date()
    _metadata_sheet(workbook.create_sheet(METADATA_SHEET_TITLE), content.plan, locale, day)
    await asyncio.to_thread(workbook.save, path_or_buffer)


async def export_plan_csv(
    session: AsyncSession,
    plan_id: int,
    path_or_buffer: Destination,
    *,
    labels: Callable[[str], str] | None = None,
    headers: Mapping[Field, str] | None = None,
    locale: str = DEFAULT_LOCALE,
    as_of: dt.datetime | None = None,
) -> None:
    """Write the plan's main sheet as CSV (UTF-8 with BOM, for Excel). Text that a spreadsheet
    program would run as a formula gets an apostrophe in front, which reading removes again.
    `labels`, `headers`, `locale` and `as_of` as for `export_plan`."""
    label = _labeller(labels, locale)
    content = await plan_content(session, plan_id, label, as_of=as_of)
    names = {**column_headers(locale), **(headers or {})}
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([csv_safe(names[f]) for f in Field])
    for values in content.rows:
        writer.writerow([csv_safe(str(values[f])) for f in Field])
    text = "\ufeff" + out.getvalue()
    if isinstance(path_or_buffer, str | os.PathLike):
        await asyncio.to_thread(Path(path_or_buffer).write_bytes, text.encode("utf-8"))
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(text)
    else:
        cast(IO[bytes], path_or_buffer).write(text.encode("utf-8"))


def snapshot_rows(
    snapshot: Sequence[Mapping[str, Any]],
    *,
    locale: str = DEFAULT_LOCALE,
    labels: Callable[[str], str] | None = None,
) -> list[dict[Field, Any]]:
    """A plan kept as rows (a reporting round's snapshot: one mapping per action, keyed by the
    `Field` values) as the rows an export writes, statuses in words."""
    label = _labeller(labels, locale)
    statuses = (Field.FOLLOW_UP_STATUS, Field.REVIEW_STATUS)
    return [
        {f: label(str(row[f.value])) if f in statuses else row.get(f.value, "") for f in Field}
        for row in snapshot
    ]


def snapshot_workbook(
    snapshot: Sequence[Mapping[str, Any]],
    *,
    title: str,
    as_of: dt.date,
    locale: str = DEFAULT_LOCALE,
    labels: Callable[[str], str] | None = None,
) -> bytes:
    """A snapshot (see `snapshot_rows`) as .xlsx bytes, in the layout of the plan's table,
    with the plan sheet saying what day it shows. Plain CPU work: call it off the event loop."""
    rows = snapshot_rows(snapshot, locale=locale, labels=labels)
    plan = Plan(title=title, programme="", evaluation="", source_file="")
    content = _PlanContent(plan, rows, [])
    workbook = _workbook()
    main = workbook.active
    assert main is not None
    main.title = MAIN_SHEET_TITLE
    _main_sheet(main, content, column_headers(locale))
    _metadata_sheet(workbook.create_sheet(METADATA_SHEET_TITLE), plan, locale, as_of)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
