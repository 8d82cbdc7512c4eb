"""`python -m bot evidence export`: the attached files fetched from the Bot API simulator into a
folder per action, with a manifest; what Telegram will not serve is listed, not fatal; a second
run fetches only what is missing."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.evidence import (
    ALREADY_THERE,
    DOWNLOADED,
    FAILED,
    MANIFEST_COLUMNS,
    NOT_SERVED,
    TOO_LARGE,
    export_evidence,
    layout,
    safe_name,
)
from bot.simulator.server import BotApiSimulator
from bot.telegram_limits import DOWNLOAD_MAX_BYTES
from storage.db import Sessions, transaction
from storage.evidence import EvidenceFile
from storage.followup import NewAttachment, post_comment
from storage.models import KeyAction, Recommendation
from storage.people import get_person
from storage.plan_files import load_demo_plan
from tests.e2e_support import TOKEN, bot_env
from tests.storage_support import make_person, make_plan

ANA = 10
WHEN = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
ACTA = b"%PDF-1.4 acta de la reunion"
OTRA_ACTA = b"%PDF-1.4 otra acta, otro dia"
LISTA = b"PK\x03\x04 lista de asistencia"
FOTO = b"\xff\xd8\xff foto del taller"
INFORME = b"%PDF-1.4 informe final"


@pytest.fixture
async def sim():
    async with BotApiSimulator(token=TOKEN) as simulator:
        simulator.add_private_user(ANA, "Ana")
        yield simulator


def _bot_maker(sim: BotApiSimulator, token: str = TOKEN):
    return lambda: Bot(token, base_url=sim.base_url, base_file_url=sim.base_file_url)


async def _document(sim: BotApiSimulator, name: str, content: bytes, mime: str) -> NewAttachment:
    """A file the simulator holds (as if Ana had sent it), described as the bot stores it."""
    doc = (await sim.user_sends_document(ANA, name, content, mime))["message"]["document"]
    return NewAttachment(
        "document",
        doc["file_id"],
        doc["file_unique_id"],
        doc["file_name"],
        doc["mime_type"],
        doc["file_size"],
    )


async def _photo(sim: BotApiSimulator, content: bytes) -> NewAttachment:
    update = await sim.user_sends_photo(ANA, content=content)
    size = update["message"]["photo"][-1]
    name = f"foto_{update['message']['message_id']}.jpg"
    return NewAttachment("photo", size["file_id"], size["file_unique_id"], name, "image/jpeg")


async def _action_ids(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Recommendation.label, KeyAction.number, KeyAction.id).join(
                KeyAction.recommendation
            )
        )
        return {f"{label}.{number}": action_id for label, number, action_id in rows}


async def _seed(sessions: Sessions, sim: BotApiSimulator) -> tuple[int, dict[str, NewAttachment]]:
    """The demo plan, and comments with files on 1.1 (two named acta.pdf), 2 y 3.1 (a name no
    file system takes as it is) and 4.3 (one file Telegram does not know, one too large)."""
    async with transaction(sessions) as session:
        plan = await load_demo_plan(session)
        await make_person(session, "coordinator", telegram_id=ANA)
    files = {
        "acta": await _document(sim, "acta.pdf", ACTA, "application/pdf"),
        "lista": await _document(sim, "lista_asistencia.xlsx", LISTA, "application/vnd.ms-excel"),
        "foto": await _photo(sim, FOTO),
        "otra_acta": await _document(sim, "Acta.PDF", OTRA_ACTA, "application/pdf"),
        "informe": await _document(sim, 'informe: "final"?.pdf', INFORME, "application/pdf"),
        "perdido": NewAttachment("document", "F-UNKNOWN", "", "perdido.pdf", "application/pdf", 9),
        "video": NewAttachment("document", "F-HUGE", "", "video.mp4", "video/mp4", 25_000_000),
    }
    ids = await _action_ids(sessions)
    comments = [
        ("1.1", "Acta y lista de la reunión", ["acta", "lista", "foto"]),
        ("1.1", "=Otra acta", ["otra_acta"]),
        ("2 y 3.1", "", ["informe"]),
        ("4.3", "Lo que no llega", ["perdido", "video"]),
    ]
    for minute, (ref, text, names) in enumerate(comments):
        async with transaction(sessions) as session:
            person = await get_person(session, ANA)
            assert person is not None
            await post_comment(
                session,
                person,
                ids[ref],
                text,
                attachments=[files[n] for n in names],
                notify_chat_ids=(),
                now=WHEN + dt.timedelta(minutes=minute),
            )
    return plan.plan_id, files


def _manifest(directory: Path) -> list[dict[str, str]]:
    text = (directory / "manifest.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(text[1:].splitlines()))
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != "manifest.csv"
    }


async def test_export_fetches_every_file_once(sessions, sim, tmp_path):
    plan_id, files = await _seed(sessions, sim)
    foto = files["foto"].file_name
    out = tmp_path / "evidencia"

    report = await export_evidence(sessions, _bot_maker(sim), out)

    assert _files(out) == {
        "1.1/acta.pdf": ACTA,
        "1.1/lista_asistencia.xlsx": LISTA,
        f"1.1/{foto}": FOTO,
        "1.1/Acta (2).PDF": OTRA_ACTA,  # the same name (but for case) does not overwrite
        "2 y 3.1/informe_ _final__.pdf": INFORME,
    }
    rows = _manifest(out)
    assert [(r["action"], r["file name"], r["status"]) for r in rows] == [
        ("1.1", "acta.pdf", DOWNLOADED),
        ("1.1", "lista_asistencia.xlsx", DOWNLOADED),
        ("1.1", foto, DOWNLOADED),
        ("1.1", "Acta.PDF", DOWNLOADED),
        ("2 y 3.1", 'informe: "final"?.pdf', DOWNLOADED),
        ("4.3", "perdido.pdf", NOT_SERVED),
        ("4.3", "video.mp4", TOO_LARGE),
    ]
    first = rows[0]
    assert first["plan"] == str(plan_id) and first["author"] == "coordinator 10"
    assert first["date"] == "2026-03-02 14:30+00:00"
    assert first["comment"] == "Acta y lista de la reunión"
    assert first["size"] == str(len(ACTA)) and first["saved as"] == "1.1/acta.pdf"
    assert rows[3]["comment"] == "'=Otra acta"  # a spreadsheet would run it as a formula
    assert rows[3]["saved as"] == "1.1/Acta (2).PDF"
    assert rows[5]["detail"] == "Invalid file_id" and rows[5]["saved as"] == ""
    assert "20 MB" in rows[6]["detail"]
    assert report.counts() == {DOWNLOADED: 5, NOT_SERVED: 1, TOO_LARGE: 1}
    assert not report.unreachable
    # A file larger than Telegram serves is never asked for: six getFile, not seven.
    assert sim.stats["getFile"] == 6

    # A run that was interrupted left a partial download, and a file was lost since.
    (out / "1.1" / "lista_asistencia.xlsx").unlink()
    (out / "1.1" / ".lista_asistencia.xlsx.part").write_bytes(LISTA[:5])
    again = await export_evidence(sessions, _bot_maker(sim), out)

    assert again.counts() == {ALREADY_THERE: 4, DOWNLOADED: 1, NOT_SERVED: 1, TOO_LARGE: 1}
    assert [r["status"] for r in _manifest(out)][:2] == [ALREADY_THERE, DOWNLOADED]
    assert (out / "1.1" / "lista_asistencia.xlsx").read_bytes() == LISTA
    assert not list(out.rglob("*.part"))
    # Only what was missing was asked for: the lost file and the one Telegram does not serve.
    assert sim.stats["getFile"] == 8

    third = await export_evidence(sessions, _bot_maker(sim), out)
    assert third.counts()[DOWNLOADED] == 0 and third.counts()[ALREADY_THERE] == 5


async def test_one_plan_of_several(sessions, sim, tmp_path):
    """With several plans every plan has a folder of its own, unless one is chosen."""
    plan_id, _files_sent = await _seed(sessions, sim)
    async with transaction(sessions) as session:
        other = await make_plan(session, "Otro plan")
        person = await make_person(session, "admin", telegram_id=11)
        action = await session.scalar(select(KeyAction.id).where(KeyAction.plan_id == other.id))
        assert action is not None
        ficha = await _document(sim, "ficha.docx", b"ficha", "application/msword")
        await post_comment(session, person, action, "", attachments=[ficha], notify_chat_ids=())

    every = await export_evidence(sessions, _bot_maker(sim), tmp_path / "all")
    assert f"plan-{other.id}/1.1/ficha.docx" in _files(tmp_path / "all")
    assert f"plan-{plan_id}/1.1/acta.pdf" in _files(tmp_path / "all")
    assert len(every.outcomes) == 8

    one = await export_evidence(sessions, _bot_maker(sim), tmp_path / "one", plan_id=other.id)
    assert _files(tmp_path / "one") == {"1.1/ficha.docx": b"ficha"}
    assert [r["plan"] for r in _manifest(tmp_path / "one")] == [str(other.id)]
    assert one.counts() == {DOWNLOADED: 1}


async def test_a_file_telegram_finds_too_big(sessions, sim, tmp_path):
    """Its size unknown to the bot: Telegram's refusal says so."""
    async with transaction(sessions) as session:
        await load_demo_plan(session)
        person = await make_person(session, "coordinator", telegram_id=ANA)
    big = await _document(sim, "grabacion.mp4", b"\0" * (DOWNLOAD_MAX_BYTES + 1), "video/mp4")
    ids = await _action_ids(sessions)
    async with transaction(sessions) as session:
        await post_comment(
            session,
            person,
            ids["5.1"],
            "La grabación",
            attachments=[NewAttachment("document", big.file_id, file_name="grabacion.mp4")],
            notify_chat_ids=(),
        )
    report = await export_evidence(sessions, _bot_maker(sim), tmp_path)
    assert [(o.status, o.detail) for o in report.outcomes] == [(TOO_LARGE, "File is too big")]
    assert _files(tmp_path) == {}


async def test_telegram_out_of_reach(sessions, sim, tmp_path):
    await _seed(sessions, sim)
    report = await export_evidence(sessions, _bot_maker(sim, token="1:wrong"), tmp_path)
    assert report.unreachable
    assert report.counts() == {FAILED: 6, TOO_LARGE: 1}
    assert _files(tmp_path) == {}
    assert len(_manifest(tmp_path)) == 7


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The real command, in a process of its own (the simulator answers on this loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "evidence",
        "export",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_command_line(sessions, sim, tmp_path, database_url):
    plan_id, _files_sent = await _seed(sessions, sim)
    env = bot_env(sim, database_url, LOAD_DEMO_PLAN="false", BOT_TIMEZONE="America/Guatemala")
    out = tmp_path / "evidencia"

    code, stdout, stderr = await _cli(env, str(out), "--plan", str(plan_id))
    assert code == 0, stderr
    assert stdout.splitlines()[0] == (
        "7 files: 5 downloaded, 0 already there, 1 not served by Telegram, 1 too large, 0 failed"
    )
    assert "not served by Telegram: 4.3/perdido.pdf: Invalid file_id" in stdout
    assert f"manifest: {out / 'manifest.csv'}" in stdout
    assert _files(out)["1.1/acta.pdf"] == ACTA
    assert _manifest(out)[0]["date"] == "2026-03-02 08:30-06:00"  # the bot's timezone

    code, stdout, _ = await _cli(env, str(out))
    assert code == 0
    assert stdout.startswith("7 files: 0 downloaded, 5 already there,")

    (out / "2 y 3.1" / "informe_ _final__.pdf").unlink()
    code, stdout, stderr = await _cli({**env, "TELEGRAM_BOT_TOKEN": "1:wrong"}, str(out))
    assert code == 1
    assert "Telegram could not be reached" in stderr
    assert stdout.startswith("7 files: 0 downloaded, 4 already there,")

    code, _, stderr = await _cli(env, str(out), "--plan", "999")
    assert (code, stderr.splitlines()[-1]) == (2, "error: there is no plan 999")
    (tmp_path / "a file").write_text("")
    code, _, stderr = await _cli(env, str(tmp_path / "a file"))
    assert code == 1 and stderr.splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("acta.pdf", "acta.pdf"),
        ("2 y 3.1", "2 y 3.1"),
        ('a/b\\c:d*e?f"g<h>i|j\x01.pdf', "a_b_c_d_e_f_g_h_i_j_.pdf"),
        ("..", "fallback.bin"),
        (".oculto", "oculto"),
        ("nombre. ", "nombre"),
        ("CON.txt", "_CON.txt"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_safe_names(name, safe):
    assert safe_name(name, "fallback.bin") == safe


def test_layout_numbers_names_in_the_order_files_were_stored():
    def item(attachment_id: int, name: str, label: str = "2 y 3") -> EvidenceFile:
        return EvidenceFile(
            attachment_id, 1, label, 1, "", WHEN, "", "document", "f", name, "", None
        )

    files = [item(7, "acta.pdf"), item(3, "ACTA.pdf"), item(5, ""), item(4, "acta.pdf", "1/2")]
    assert [str(p) for p in layout(files, per_plan=False)] == [
        "2 y 3.1/acta (2).pdf",
        "2 y 3.1/ACTA.pdf",
        "2 y 3.1/file_5",
        "1_2.1/acta.pdf",
    ]
    assert str(layout(files, per_plan=True)[0]) == "plan-1/2 y 3.1/acta (2).pdf"
