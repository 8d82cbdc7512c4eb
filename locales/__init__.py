"""The gettext catalogs and their loading, shared by the handlers and storage.

Catalogs live in `locales/<lang>/LC_MESSAGES/<domain>.po`, one domain per flow so that flows can
be worked on independently; all domains of a language are merged into one catalog, compiled in
memory when first used (no build step). Message ids are English; `es` and `en` are both complete
(a test checks it). This module knows nothing of Telegram, so storage can read labels (the plan
spreadsheet's column headers) from the same catalogs the handlers write messages with.
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
    """All domains of a language merged into one catalog (cached per process)."""
    merged = Translations()
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        merged.merge(_compile(path))
    return merged
