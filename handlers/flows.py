"""Which flow modules exist, in the order their handlers are tried."""

from __future__ import annotations

import importlib

from telegram.ext import Application

FLOW_MODULES = (
    "handlers.registration",
    "handlers.admin",
    "handlers.summary",
    "handlers.export",
    "handlers.preferences",
    "handlers.actions",
    "handlers.comments",
    "handlers.fallback",
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    for name in FLOW_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(application)
