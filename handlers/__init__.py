"""The chat flows. `register` adds every flow's handlers to an `Application`."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from handlers.updates import drop_redelivered, on_error


def register(application: Application) -> None:  # type: ignore[type-arg]
    from handlers import flows

    application.add_handler(TypeHandler(Update, drop_redelivered), group=-10)
    flows.register(application)
    application.add_error_handler(on_error)
