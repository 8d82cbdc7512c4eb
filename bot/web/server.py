"""One web server in the bot's process (starlette + uvicorn, as python-telegram-bot's
`customwebhookbot` example does): Telegram's webhook, when the bot runs on one, and the
dashboard — its page under `/app/` and its API under `/api/`.

The webhook route checks `X-Telegram-Bot-Api-Secret-Token` against `WEBHOOK_SECRET` (403
otherwise) and puts the update on the `Application`'s queue; the `Application` itself runs as
usual (`async with application: await application.start()`), its handlers unchanged.
"""

from __future__ import annotations

import hmac
import json
import logging
from functools import cache
from importlib.resources import files
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from bot.web.api import Dashboard, api_routes

log = logging.getLogger(__name__)

#: The page's files, shipped as package data (no build step).
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
#: The page runs inside Telegram: its own script and style, Telegram's script, images drawn
#: here (the chart, as a blob), and calls to this server only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; connect-src 'self'; frame-ancestors https://web.telegram.org "
    "https://*.telegram.org 'self'; base-uri 'none'; form-action 'none'"
)
MAX_UPDATE_BYTES = 1_000_000

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@cache
def static_file(name: str) -> bytes:
    return files("bot.web").joinpath("static", name).read_bytes()


def _static_route(name: str) -> Route:
    async def serve(_request: Request) -> Response:
        return Response(
            static_file(name),
            media_type=STATIC[name],
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
            },
        )

    path = "/app/" if name == "index.html" else f"/app/{name}"
    return Route(path, serve, methods=["GET"])


def page_routes() -> list[BaseRoute]:
    async def to_page(_request: Request) -> Response:
        return RedirectResponse("/app/")

    return [Route("/app", to_page, methods=["GET"]), *(_static_route(name) for name in STATIC)]


def webhook_route(application: AnyApplication, path: str, secret: str) -> Route:
    """Telegram's updates, with the secret checked, onto the application's update queue."""

    async def telegram(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return Response(status_code=413)
        try:
            data = json.loads(body)
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook: not an update (%s)", exc)
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response()

    return Route("/" + path.strip("/"), telegram, methods=["POST"])


def web_app(
    dashboard: Dashboard,
    *,
    application: AnyApplication | None = None,
    webhook_path: str | None = None,
    webhook_secret: str = "",
) -> Starlette:
    """The starlette app: the webhook (when a path is given), the page and the API."""
    routes: list[BaseRoute] = []
    if application is not None and webhook_path is not None:
        routes.append(webhook_route(application, webhook_path, webhook_secret))
    routes += page_routes()
    routes += api_routes(dashboard)
    return Starlette(routes=routes)


def web_server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    """uvicorn for the app, logging through the bot's own logging setup."""
    return uvicorn.Server(
        uvicorn.Config(app=app, host=host, port=port, log_config=None, access_log=False)
    )
