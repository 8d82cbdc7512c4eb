"""Which flow modules exist, in the order their handlers are tried."""

from __future__ import annotations

import importlib

from telegram.ext import Application

FLOW_MODULES = (
    "handlers.onboarding",
    "handlers.administration",
    "handlers.summary",
    "handlers.export",
    "handlers.preferences",
    "handlers.browse",
    "handlers.conversation",
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    for name in FLOW_MODULES:
        importlib.import_module(name).register(application)
