"""The gettext catalogs and their loading, shared by the handlers and storage.

One catalog per language, `locales/<lang>/LC_MESSAGES/messages.po`, kept with pybabel (the
README's "Translations"), compiled in memory when first used (no build step). Message ids are
English; `es` and `en` are both complete (a test checks it). This module knows nothing of
Telegram, so storage can read labels (the plan spreadsheet's column headers) from the same
catalogs the handlers write messages with.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent
SUPPORTED = ("es", "en")
DEFAULT_LOCALE = "es"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (translated later)."""
    return message


def _compile(path: Path) -> Translations:
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@lru_cache(maxsize=8)
def translations(locale: str) -> Translations:
    """The language's catalog, compiled once per process."""
    return _compile(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po")
