"""The whole story against the real `python -m bot` process and the Bot API simulator, on
SQLite and PostgreSQL, with long polling and with a webhook on loopback."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.simulator.server import BotApiSimulator
from tests.e2e_support import (
    TOKEN,
    BotProcess,
    ask,
    bot_env,
    button,
    free_port,
    invite,
    invite_in_chat,
    press,
    register,
    texts,
)

ADMIN, FOCAL, SECRETARIAT, COORDINATOR, STRANGER = 1, 2, 3, 4, 9


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_whole_story(engine, database_url, tmp_path, mode):
    """`engine` empties the tables: the simulator numbers updates from 1 in every test."""
    async with BotApiSimulator(token=TOKEN) as sim:
        for user, name in [
            (ADMIN, "Admin"),
            (FOCAL, "Ana"),
            (SECRETARIAT, "Sofía"),
            (COORDINATOR, "Carmen"),
            (STRANGER, "Extraño"),
        ]:
            sim.add_private_user(user, name)
        extra = {"SECRETARIAT_CHAT_IDS": str(SECRETARIAT)}
        if mode == "webhook":
            port = free_port()
            extra |= {
                "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
                "PORT": str(port),
                "WEBHOOK_LISTEN": "127.0.0.1",
            }
        env = bot_env(sim, database_url, **extra)
        admin_code = invite(env, "admin")
        bot = BotProcess(env, tmp_path / "bot.log").start()
        try:
            if mode == "webhook":
                await sim.wait_for(lambda: sim.webhook_url, 30)
            else:
                await sim.wait_for(lambda: sim.stats["getUpdates"], 30)
            await register(sim, ADMIN, admin_code)
            code = await invite_in_chat(sim, ADMIN, "/invitar focal PNUD")
            await register(sim, FOCAL, code)
            code = await invite_in_chat(sim, ADMIN, "/invitar secretariado")
            await register(sim, SECRETARIAT, code)
            code = await invite_in_chat(sim, ADMIN, "/invitar coordinador")
            await register(sim, COORDINATOR, code)

            # The focal point: list, open, comment with a photo.
            listing = await ask(sim, FOCAL, "/acciones", "Sus acciones pendientes")
            first = listing.buttons[0][1]
            card = await press(sim, FOCAL, listing, first, "Acción clave 1.1")
            prompt = await press(sim, FOCAL, card, button(card, "c:"), "Escriba su comentario")
            before = len(sim.messages(FOCAL))
            sent_photo = await sim.user_sends_photo(FOCAL, caption="Acta de la reunión del CDN")
            saved = await sim.wait_for_message(
                FOCAL, lambda m: "Comentario guardado" in m.plain_text, 20, before
            )
            assert prompt is not None and "Acta de la reunión del CDN" in saved.plain_text

            # ...and completes another action with a justification.
            listing = await ask(sim, FOCAL, "/acciones", "Sus acciones pendientes")
            second = listing.buttons[1][1]
            card = await press(sim, FOCAL, listing, second, "Acción clave 2 y 3.2")
            menu = await press(sim, FOCAL, card, button(card, "s:"), "Elija el nuevo estado")
            ask_why = await press(
                sim, FOCAL, menu, button(menu, "ss:")[:-1] + "c", "breve justificación"
            )
            assert ask_why is not None
            await ask(
                sim,
                FOCAL,
                "El POA 2012 incluye las dos líneas de financiamiento.",
                "Estado cambiado a Completada",
            )

            # The secretariat receives both notifications and validates one.
            await sim.wait_for(
                lambda: (
                    sum("comentó en 1.1" in t for t in texts(sim, SECRETARIAT)) == 1
                    and any("Completada" in t for t in texts(sim, SECRETARIAT))
                ),
                20,
            )
            note = next(m for m in sim.messages(SECRETARIAT) if "comentó en 1.1" in m.plain_text)
            card = await press(sim, SECRETARIAT, note, button(note, "an:"), "Acción clave 1.1")
            assert card.message_id != note.message_id  # the notice stays as it was
            menu = await press(
                sim, SECRETARIAT, card, button(card, "v:"), "Elija el estado de revisión"
            )
            await sim.user_presses_button(
                SECRETARIAT, menu.message_id, button(menu, "vs:")[:-1] + "v"
            )
            await sim.wait_for(
                lambda: any(
                    "Revisión registrada: Validado" in (a.get("text") or "")
                    for a in sim.callback_answers
                ),
                20,
            )

            # The secretariat sees the very photo Ana sent, from the notice.
            photo_id = sent_photo["message"]["photo"][-1]["file_id"]
            before = len(sim.messages(SECRETARIAT))
            await sim.user_presses_button(SECRETARIAT, note.message_id, button(note, "ev:"))
            shown = await sim.wait_for_message(
                SECRETARIAT, lambda m: m.photo is not None, 20, before
            )
            assert shown.photo is not None and shown.photo[-1]["file_id"] == photo_id

            # The loop: an observation on 2 y 3.2 reaches Ana, she answers, Sofía validates.
            done = next(m for m in sim.messages(SECRETARIAT) if "cambió el estado" in m.plain_text)
            card = await press(sim, SECRETARIAT, done, button(done, "an:"), "Acción clave 2 y 3")
            menu = await press(
                sim, SECRETARIAT, card, button(card, "v:"), "Elija el estado de revisión"
            )
            await press(
                sim, SECRETARIAT, menu, button(menu, "vs:")[:-1] + "o", "Escriba las observaciones"
            )
            await ask(sim, SECRETARIAT, "Falta el acta de aprobación del POA.", "Con observaciones")
            verdict = await sim.wait_for_message(
                FOCAL, lambda m: "Observaciones del secretariado" in m.plain_text, 20
            )
            await press(sim, FOCAL, verdict, button(verdict, "ra:"), "Escriba su respuesta")
            await ask(sim, FOCAL, "Adjunto el acta firmada el 15/02.", "Comentario guardado")
            answered = await sim.wait_for_message(
                SECRETARIAT, lambda m: "respondió a las observaciones" in m.plain_text, 20
            )
            card = await press(
                sim, SECRETARIAT, answered, button(answered, "an:"), "Adjunto el acta firmada"
            )
            menu = await press(
                sim, SECRETARIAT, card, button(card, "v:"), "Elija el estado de revisión"
            )
            await press(sim, SECRETARIAT, menu, button(menu, "vs:")[:-1] + "v", "Validado")
            await sim.wait_for_message(
                FOCAL, lambda m: "El secretariado validó 2 y 3.2" in m.plain_text, 20
            )

            # The coordinator: /resumen and /exportar.
            summary = await ask(
                sim, COORDINATOR, "/resumen", "Plan de Mejora del Programa Conjunto"
            )
            assert "13" in summary.plain_text
            before = len(sim.messages(COORDINATOR))
            await sim.user_sends_text(COORDINATOR, "/exportar")
            sent = await sim.wait_for_message(
                COORDINATOR, lambda m: m.document is not None, 30, before
            )
            workbook = openpyxl.load_workbook(io.BytesIO(sim.file_bytes(sent.document["file_id"])))
            sheet = workbook.worksheets[0]
            values = [
                " ".join(str(c) for c in row if c is not None)
                for row in sheet.iter_rows(values_only=True)
            ]
            assert sum("Completada" in v for v in values) == 1
            assert any("Acta de la reunión del CDN" in v for v in values)

            # A crash in the middle of a comment; after the restart the comment is finished.
            listing = await ask(sim, FOCAL, "/acciones", "Sus acciones pendientes")
            conditional = next(d for t, d in listing.buttons if "6.1" in t)
            card = await press(sim, FOCAL, listing, conditional, "Acción clave 6.1")
            await press(sim, FOCAL, card, button(card, "c:"), "Escriba su comentario sobre 6.1")
            bot.kill()
            bot.start()
            await ask(
                sim, FOCAL, "Se contrataron dos asistentes regionales.", "Comentario guardado", 40
            )

            # A stranger gets nothing but how to be invited.
            await ask(sim, STRANGER, "/acciones", "invitación")
            await ask(sim, STRANGER, "hola", "invitación")
            assert all("invitación" in t for t in texts(sim, STRANGER))
        except Exception:
            print(bot.output()[-5000:])
            raise
        finally:
            bot.stop()
