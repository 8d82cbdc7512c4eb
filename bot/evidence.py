"""Evidence kept outside Telegram: `python -m bot evidence export DIR [--plan ID]`.

Every file attached to a comment is fetched through the Bot API (`getFile`, which serves files
up to 20 MB) into a folder per action, named by its reference:

    DIR/manifest.csv
    DIR/<block>.<number>/<file name>            one plan (or --plan ID)
    DIR/plan-<id>/<block>.<number>/<file name>  several plans and no --plan

Names are made safe for file systems (no `/ \\ : * ? " < > |`, no control characters, no
leading dots, no reserved Windows names, at most 120 characters); two files of one action with
the same name (compared without case) are kept as `acta.pdf`, `acta (2).pdf`..., in the order
they were posted, so a later run maps every file to the same path. A file already on disk is not
fetched again; a file is written under a temporary name (`.<name>.part`) and renamed when
complete, so an interrupted run never leaves a half file that the next run would take as done.

The manifest (UTF-8 CSV with a BOM, for spreadsheets) has one row per stored file: plan, action,
author, date (the bot's timezone), comment, file name, size (bytes), status, detail and the path
it was saved as (relative to DIR). The status is one of `STATUSES`; a file Telegram does not
serve, or a larger one, is listed and the export goes on.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import mimetypes
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.telegram_limits import DOWNLOAD_MAX_BYTES, retry_after_seconds
from storage.actions import list_plans
from storage.attachments import AttachmentKind, coordinates_text, map_link
from storage.db import Sessions, transaction
from storage.evidence import EvidenceFile, list_evidence
from storage.plan_files.cells import csv_safe

DOWNLOADED = "downloaded"
ALREADY_THERE = "already there"
NOT_SERVED = "not served by Telegram"
TOO_LARGE = "too large"
FAILED = "failed"
#: Every status a manifest row may have, in the order the summary counts them.
#: A shared location: nothing to download, the place is written in the manifest's detail.
PLACE = "place (no file)"

STATUSES = (DOWNLOADED, ALREADY_THERE, NOT_SERVED, TOO_LARGE, FAILED)

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = (
    "plan",
    "action",
    "author",
    "date",
    "comment",
    "file name",
    "size",
    "status",
    "detail",
    "saved as",
)
#: Files fetched at the same time.
CONCURRENCY = 4
#: Attempts at one file when Telegram asks to wait (429).
ATTEMPTS = 3
#: Seconds to wait for a file's bytes (Bot's default read timeout is meant for small answers).
DOWNLOAD_TIMEOUT = 120.0
NAME_MAX = 120

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}


def safe_name(name: str, fallback: str) -> str:
    """A name any common file system accepts, as close to `name` as possible."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip().lstrip(".").rstrip(". ")
    if not name:
        name = fallback
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 16:
        stem, suffix = name, ""
    if stem.upper() in _RESERVED:
        stem = "_" + stem
    suffix = "." + suffix if suffix else ""
    return stem[: NAME_MAX - len(suffix)].rstrip(". ") + suffix


_FALLBACK_NAMES = {
    AttachmentKind.PHOTO: "foto_{id}.jpg",
    AttachmentKind.VOICE: "nota_de_voz_{id}.ogg",
    AttachmentKind.VIDEO_NOTE: "video_nota_{id}.mp4",
    AttachmentKind.VIDEO: "video_{id}.mp4",
}


def _stored_name(item: EvidenceFile) -> str:
    if item.kind in _FALLBACK_NAMES:
        fallback = _FALLBACK_NAMES[AttachmentKind(item.kind)].format(id=item.attachment_id)
    else:
        fallback = f"file_{item.attachment_id}{mimetypes.guess_extension(item.mime_type) or ''}"
    return safe_name(item.file_name, fallback)


def _numbered(name: str, n: int) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem} ({n}).{suffix}" if dot and stem else f"{name} ({n})"


def layout(files: Sequence[EvidenceFile], *, per_plan: bool) -> list[PurePosixPath]:
    """Where each file goes, relative to the export's folder (same order as `files`). Names
    taken twice in one folder are numbered in the order the files were stored, so every run
    gives every file the same path."""
    taken: dict[PurePosixPath, set[str]] = {}
    paths: dict[int, PurePosixPath] = {}
    for item in sorted(files, key=lambda f: f.attachment_id):
        folder = PurePosixPath(safe_name(item.ref, f"action_{item.attachment_id}"))
        if per_plan:
            folder = PurePosixPath(f"plan-{item.plan_id}") / folder
        names = taken.setdefault(folder, set())
        name = base = _stored_name(item)
        n = 1
        while name.casefold() in names:
            n += 1
            name = _numbered(base, n)
        names.add(name.casefold())
        paths[item.attachment_id] = folder / name
    return [paths[item.attachment_id] for item in files]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one file."""

    evidence: EvidenceFile
    path: PurePosixPath
    status: str
    detail: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ExportReport:
    outcomes: list[Outcome]
    manifest: Path

    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    @property
    def unreachable(self) -> bool:
        """Files had to be fetched and not one of them got an answer from Telegram."""
        tried = [o for o in self.outcomes if o.status not in (ALREADY_THERE, TOO_LARGE)]
        return bool(tried) and all(o.status == FAILED for o in tried)


def _too_large(size: int) -> str:
    return f"{size} bytes; Telegram serves files up to {DOWNLOAD_MAX_BYTES // 1_000_000} MB"


def _install(partial: Path, target: Path) -> int:
    """Put a complete download in its place (one rename) and return its size."""
    os.replace(partial, target)
    return target.stat().st_size


async def _fetch(bot: Bot, item: EvidenceFile, target: Path, path: PurePosixPath) -> Outcome:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            file = await bot.get_file(item.file_id)
            if file.file_size is not None and file.file_size > DOWNLOAD_MAX_BYTES:
                return Outcome(item, path, TOO_LARGE, _too_large(file.file_size), file.file_size)
            partial = target.with_name(f".{target.name}.part")
            try:
                await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
                await file.download_to_drive(partial, read_timeout=DOWNLOAD_TIMEOUT)
                size = await asyncio.to_thread(_install, partial, target)
            finally:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
            return Outcome(item, path, DOWNLOADED, size=size)
        except RetryAfter as exc:
            if attempt == ATTEMPTS:
                return Outcome(item, path, FAILED, str(exc), item.file_size)
            await asyncio.sleep(retry_after_seconds(exc))
        except BadRequest as exc:
            status = TOO_LARGE if "too big" in exc.message.lower() else NOT_SERVED
            return Outcome(item, path, status, exc.message, item.file_size)
        except TelegramError as exc:  # the network, a timeout, a refused token
            return Outcome(item, path, FAILED, str(exc) or type(exc).__name__, item.file_size)
        except OSError as exc:  # the disk
            return Outcome(item, path, FAILED, str(exc), item.file_size)
    raise AssertionError("unreachable")  # pragma: no cover


async def _fetch_all(
    make_bot: Callable[[], Bot], wanted: list[tuple[EvidenceFile, Path, PurePosixPath]]
) -> list[Outcome]:
    try:
        async with make_bot() as bot:
            limit = asyncio.Semaphore(CONCURRENCY)

            async def one(item: EvidenceFile, target: Path, path: PurePosixPath) -> Outcome:
                async with limit:
                    return await _fetch(bot, item, target, path)

            return list(await asyncio.gather(*(one(*w) for w in wanted)))
    except TelegramError as exc:  # Telegram could not be reached at all
        reason = str(exc) or type(exc).__name__
        return [Outcome(item, path, FAILED, reason, item.file_size) for item, _t, path in wanted]


def _survey(
    directory: Path, files: Sequence[EvidenceFile], paths: Sequence[PurePosixPath]
) -> tuple[dict[int, Outcome], list[tuple[EvidenceFile, Path, PurePosixPath]]]:
    """What is already there or too large (by its stored size), and what to fetch."""
    directory.mkdir(parents=True, exist_ok=True)
    outcomes: dict[int, Outcome] = {}
    wanted = []
    for item, path in zip(files, paths, strict=True):
        target = directory.joinpath(*path.parts)
        if item.kind == AttachmentKind.LOCATION:
            place = _place(item)
            outcomes[item.attachment_id] = Outcome(item, PurePosixPath(), PLACE, place)
        elif target.is_file():
            size = target.stat().st_size
            outcomes[item.attachment_id] = Outcome(item, path, ALREADY_THERE, size=size)
        elif item.file_size is not None and item.file_size > DOWNLOAD_MAX_BYTES:
            too_large = _too_large(item.file_size)
            outcomes[item.attachment_id] = Outcome(item, path, TOO_LARGE, too_large, item.file_size)
        else:
            wanted.append((item, target, path))
    return outcomes, wanted


def _place(item: EvidenceFile) -> str:
    if item.latitude is None or item.longitude is None:
        return ""
    coordinates = coordinates_text(item.latitude, item.longitude)
    return f"{coordinates} {map_link(item.latitude, item.longitude)}"


def _write_manifest(outcomes: Sequence[Outcome], target: Path, tz: dt.tzinfo) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for o in outcomes:
        e = o.evidence
        date = e.created_at.astimezone(tz).isoformat(sep=" ", timespec="minutes")
        size = "" if o.size is None else str(o.size)
        saved = str(o.path) if o.status in (DOWNLOADED, ALREADY_THERE) else ""
        row = (e.plan_id, e.ref, e.author, date, e.comment, e.file_name, size, o.status)
        writer.writerow([*(csv_safe(str(v)) for v in row), csv_safe(o.detail), saved])
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    os.replace(partial, target)


async def export_evidence(
    sessions: Sessions,
    make_bot: Callable[[], Bot],
    directory: Path,
    *,
    plan_id: int | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> ExportReport:
    """Fetch every file not yet in `directory` and write the manifest. Telegram is asked only
    when something is missing; `make_bot` returns a Bot not yet initialised. A plan id that
    does not exist raises `LookupError`."""
    async with transaction(sessions) as session:
        plans = [plan.id for plan in await list_plans(session)]
        if plan_id is not None and plan_id not in plans:
            raise LookupError(f"there is no plan {plan_id}")
        files = await list_evidence(session, plan_id)
    per_plan = plan_id is None and len(plans) > 1
    paths = layout(files, per_plan=per_plan)
    outcomes, wanted = await asyncio.to_thread(_survey, directory, files, paths)
    if wanted:
        for outcome in await _fetch_all(make_bot, wanted):
            outcomes[outcome.evidence.attachment_id] = outcome
    ordered = [outcomes[item.attachment_id] for item in files]
    manifest = directory / MANIFEST
    await asyncio.to_thread(_write_manifest, ordered, manifest, tz)
    return ExportReport(ordered, manifest)
