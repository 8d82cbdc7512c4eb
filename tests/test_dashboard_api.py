"""The dashboard's API against a real database: each role sees exactly what the chat shows it,
and a call that is not signed by Telegram for a registered, active person gets 401 and nothing
else."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.web.server import web_app
from storage.actions import ActionFilter, list_actions
from storage.db import Sessions, transaction
from storage.models import Person
from storage.people import get_person
from storage.summary import summarise
from tests.dashboard_support import (
    ADMIN,
    COORDINATOR,
    FOCAL,
    GONE,
    SECRETARIAT,
    STRANGER,
    UC_FOCAL,
    dashboard,
    header,
    init_data,
    make_world,
)
from tests.storage_support import NOW, TODAY, make_plan

ALL_REFS = {"1.1", "2 y 3.1", "2 y 3.2", "2 y 3.3"}
PNUD_REFS = {"1.1", "2 y 3.2", "2 y 3.3"}


@pytest.fixture
async def world(sessions: Sessions) -> dict[str, int]:
    return await make_world(sessions)


@pytest.fixture
async def client(sessions: Sessions) -> AsyncIterator[httpx.AsyncClient]:
    app = web_app(dashboard(sessions))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
        yield client


async def get(client: httpx.AsyncClient, path: str, user: int, **params: str) -> httpx.Response:
    return await client.get(path, headers=header(init_data(user)), params=params)


async def visible_refs(sessions: Sessions, telegram_id: int) -> set[str]:
    """What the chat's /acciones shows the person (every filter off)."""
    async with sessions() as session:
        person = await get_person(session, telegram_id)
        assert isinstance(person, Person)
        page = await list_actions(session, person, today=TODAY, flt=ActionFilter.ALL, page_size=50)
        return {row.ref for row in page.rows}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (FOCAL, PNUD_REFS),
        (UC_FOCAL, {"2 y 3.1", "2 y 3.2"}),
        (COORDINATOR, ALL_REFS),
        (SECRETARIAT, ALL_REFS),
        (ADMIN, ALL_REFS),
    ],
)
async def test_each_role_gets_what_the_chat_shows_it(world, client, sessions, user, expected):
    plans = await get(client, "/api/plans", user)
    assert plans.status_code == 200
    body = plans.json()
    assert [p["id"] for p in body["plans"]] == [world["plan"]]
    assert body["i18n"]["matrix"] == "Acciones clave"
    matrix = await get(client, f"/api/plans/{world['plan']}/matrix", user)
    assert matrix.status_code == 200
    refs = {row["ref"] for row in matrix.json()["rows"]}
    assert refs == expected == await visible_refs(sessions, user)


async def test_the_matrix_row_carries_what_the_table_shows(world, client):
    rows = (await get(client, f"/api/plans/{world['plan']}/matrix", ADMIN)).json()["rows"]
    by_ref = {row["ref"]: row for row in rows}
    first = by_ref["1.1"]
    assert first["block"] == "1" and first["units"] == ["PNUD"]
    assert first["overdue"] is True and first["status_label"] == "No iniciada"
    assert first["latest_comment"]["text"] == "POA aprobado"
    assert first["evidence"] == 0 and first["last_change"] is not None
    assert first["link"] == f"https://t.me/plan_de_mejora_bot?start=a{world['1.1']}"
    done = by_ref["2 y 3.3"]
    assert done["status"] == "completed" and done["review_label"] == "Validado"
    assert by_ref["2 y 3.2"]["units"] == ["PNUD", "Unidad de Coordinación"]
    assert [row["ref"] for row in rows] == ["1.1", "2 y 3.1", "2 y 3.2", "2 y 3.3"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, ["2 y 3.3"]),
        ({"status": "not_started,in_progress"}, ["1.1", "2 y 3.1", "2 y 3.2"]),
        ({"review": "validated"}, ["2 y 3.3"]),
        ({"overdue": "1"}, ["1.1"]),
        ({"block": "2 y 3"}, ["2 y 3.1", "2 y 3.2", "2 y 3.3"]),
        ({"since": "2012-05-01"}, ["1.1", "2 y 3.3"]),
        ({"since": "2012-05-03"}, []),
        ({"sort": "deadline"}, ["1.1", "2 y 3.3", "2 y 3.2", "2 y 3.1"]),
        ({"sort": "ref", "order": "desc"}, ["2 y 3.3", "2 y 3.2", "2 y 3.1", "1.1"]),
    ],
)
async def test_filters_and_sorting(world, client, params, expected):
    response = await get(client, f"/api/plans/{world['plan']}/matrix", COORDINATOR, **params)
    assert [row["ref"] for row in response.json()["rows"]] == expected


async def test_the_unit_filter_and_the_choices(world, client):
    path = f"/api/plans/{world['plan']}/matrix"
    body = (await get(client, path, ADMIN)).json()
    units = {u["name"]: u["id"] for u in body["choices"]["units"]}
    assert list(units) == ["PNUD", "Unidad de Coordinación"]
    assert body["choices"]["blocks"] == ["1", "2 y 3"]
    rows = (await get(client, path, ADMIN, unit=str(units["Unidad de Coordinación"]))).json()
    assert [row["ref"] for row in rows["rows"]] == ["2 y 3.1", "2 y 3.2"]
    # A focal point filtering on another unit still sees only their own actions.
    rows = (await get(client, path, FOCAL, unit=str(units["Unidad de Coordinación"]))).json()
    assert [row["ref"] for row in rows["rows"]] == ["2 y 3.2"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"since": "ayer"}, "no es una fecha"),
        ({"status": "done"}, "Valor de filtro desconocido"),
        ({"sort": "colour"}, "Valor de filtro desconocido"),
        ({"unit": "PNUD"}, "Valor de filtro desconocido"),
    ],
)
async def test_a_filter_that_makes_no_sense_is_said_so(world, client, params, words):
    response = await get(client, f"/api/plans/{world['plan']}/matrix", COORDINATOR, **params)
    assert response.status_code == 400
    assert words in response.json()["error"]


async def test_the_summary_is_resumen_s(world, client, sessions):
    body = (await get(client, f"/api/plans/{world['plan']}/summary", COORDINATOR)).json()
    async with sessions() as session:
        expected = await summarise(session, today=TODAY, now=NOW, plan_ids=[world["plan"]])
    assert body["total"] == expected.total == 4
    assert body["progress"] == expected.progress == 1 / 4
    assert body["overdue"] == expected.overdue == 1
    assert {s["status"]: s["count"] for s in body["statuses"]} == expected.by_status
    assert sum(s["percent"] for s in body["statuses"]) == 100
    assert [b["name"] for b in body["by_block"]] == ["1", "2 y 3"]
    focal = (await get(client, f"/api/plans/{world['plan']}/summary", FOCAL)).json()
    assert focal["total"] == 3  # their units only, as /resumen says it
    assert focal["scope"] == ["Sus unidades: PNUD"]


async def test_the_chart_is_a_png(world, client):
    response = await get(client, f"/api/plans/{world['plan']}/chart.png", SECRETARIAT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


async def test_an_action_with_its_history(world, client):
    response = await get(client, f"/api/actions/{world['2 y 3.3']}", FOCAL)
    assert response.status_code == 200
    body = response.json()
    assert body["ref"] == "2 y 3.3" and body["status_label"] == "Completada"
    kinds = [entry["kind"] for entry in body["history"]]
    assert "comment" in kinds and "status" in kinds and "review_status" in kinds
    change = next(e for e in body["history"] if e["kind"] == "status")
    assert (change["from"], change["to"]) == ("No iniciada", "Completada")
    assert any(e["text"] == "Roster listo" for e in body["history"])


async def test_a_focal_point_asking_for_another_unit_s_action_gets_403(world, client):
    response = await get(client, f"/api/actions/{world['2 y 3.1']}", FOCAL)
    assert response.status_code == 403
    assert "Contratar" not in response.text
    assert set(response.json()) == {"error"}


async def test_a_plan_nobody_may_see_is_404(world, client):
    response = await get(client, f"/api/plans/{world['plan'] + 99}/matrix", ADMIN)
    assert response.status_code == 404
    assert response.json() == {"error": "Ese plan ya no existe."}
    response = await get(client, f"/api/actions/{world['1.1'] + 99}", ADMIN)
    assert response.json() == {"error": "Esa acción ya no existe."}


def _forged(user: int) -> str:
    """Data signed for one user, then edited to name another."""
    data = init_data(STRANGER)
    return data.replace(f"%22id%22%3A{STRANGER}", f"%22id%22%3A{user}")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer x",
        "tma ",
        f"tma {_forged(ADMIN)}",
        f"tma {init_data(ADMIN, token='7000000005:another-bot')}",
        f"tma {init_data(ADMIN, signed_at=NOW - dt.timedelta(hours=2))}",
        f"tma {init_data(ADMIN).replace('hash=', 'hash=0')}",
        f"tma {init_data(ADMIN)}&auth_date=1",
        f"tma {init_data(GONE)}",
        f"tma {init_data(STRANGER)}",
    ],
    ids=[
        "missing",
        "empty",
        "other scheme",
        "no data",
        "forged",
        "wrong token",
        "expired",
        "bad hash",
        "field twice",
        "deactivated",
        "unknown user",
    ],
)
async def test_not_signed_for_an_active_person_is_401_and_nothing_else(
    world, client, authorization
):
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in (
        "/api/plans",
        f"/api/plans/{world['plan']}/matrix",
        f"/api/plans/{world['plan']}/summary",
        f"/api/plans/{world['plan']}/chart.png",
        f"/api/actions/{world['1.1']}",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.json() == {"error": ""}


async def test_the_page_and_its_files_are_served(client):
    page = await client.get("/app/")
    assert page.status_code == 200 and "app.js" in page.text
    assert "frame-ancestors" in page.headers["content-security-policy"]
    script = await client.get("/app/app.js")
    assert script.status_code == 200 and "Authorization" in script.text
    assert (await client.get("/app/app.css")).status_code == 200
    assert (await client.get("/app", follow_redirects=False)).headers["location"] == "/app/"


async def test_every_plan_together_is_resumen_todos(world, client, sessions):
    async with transaction(sessions) as session:
        second = await make_plan(session, "Segundo plan")
    body = (await get(client, "/api/summary", COORDINATOR)).json()
    async with sessions() as session:
        expected = await summarise(session, today=TODAY, now=NOW, plan_ids=None)
    assert body["total"] == expected.total == 8
    assert body["plans_total"] == 2
    assert {p["name"]: p["total"] for p in body["by_plan"]} == {
        "Plan de prueba": 4,
        "Segundo plan": 4,
    }
    assert body["progress"] == expected.progress
    focal = (await get(client, "/api/summary", FOCAL)).json()
    assert focal["total"] == 6  # PNUD's actions of both plans, as /resumen todos says it
    chart = await get(client, "/api/chart.png", SECRETARIAT)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    for path in ("/api/summary", "/api/chart.png"):
        forged = await client.get(path, headers=header(_forged(COORDINATOR)))
        assert forged.status_code == 401 and forged.json() == {"error": ""}
    assert second.id != world["plan"]
