"""Keep the translation catalogs in step with the code.

`python -m handlers.catalogs update DOMAIN FILE...` extracts the messages of the given source
files and updates `locales/{es,en}/LC_MESSAGES/DOMAIN.po`: new ids are added (English gets the id
itself as its text; Spanish is left to translate), existing translations are kept, ids no longer
in the code are dropped. `python -m handlers.catalogs check` lists what is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from handlers.i18n import LOCALES_DIR, SUPPORTED

KEYWORDS = {"_": None, "raw": None, "N_": None, "n_": (1, 2)}
ROOT = LOCALES_DIR.parent
SOURCE_DIRS = ("bot", "handlers", "storage")


def extract(files: Iterable[Path]) -> Catalog:
    catalog = Catalog(locale=None)
    for path in files:
        for lineno, message, comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            location = (str(path.relative_to(ROOT)), lineno)
            catalog.add(message, locations=[location], auto_comments=comments)
    return catalog


def source_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def po_path(locale: str, domain: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path, locale: str) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=locale)
    return Catalog(locale=locale, project="plan-de-mejora-bot")


def update(domain: str, files: list[Path]) -> None:
    template = extract(files)
    for locale in SUPPORTED:
        path = po_path(locale, domain)
        catalog = read_catalog(path, locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        if locale == "en":
            fill_english(catalog)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False)


def fill_english(catalog: Catalog) -> None:
    """English texts are the message ids themselves (singular and plural)."""
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not all(message.string or ()):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id


def missing() -> dict[str, list[str]]:
    """Message ids used in the code without a translation, per language."""
    used = extract(source_files())
    report: dict[str, list[str]] = {}
    for locale in SUPPORTED:
        known: dict[object, object] = {}
        for path in (LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po"):
            for message in read_catalog(path, locale):
                if (
                    message.id
                    and message.string
                    and (not isinstance(message.string, tuple) or all(message.string))
                ):
                    known[message.id] = message.string
        report[locale] = [str(m.id) for m in used if m.id and m.id not in known]
    return report


def translate(domain: str, locale: str, texts: dict[str, str | tuple[str, ...]]) -> None:
    """Fill translations of a domain from a mapping of message id (the singular one, for
    plurals, mapped to a tuple of forms) to text."""
    path = po_path(locale, domain)
    catalog = read_catalog(path, locale)
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if key in texts:
            message.string = texts[key]  # type: ignore[index]
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=False)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "update":
        update(argv[1], [Path(f).resolve() for f in argv[2:]])
        return 0
    if argv[:1] == ["check"]:
        report = missing()
        for locale, ids in report.items():
            for message_id in ids:
                print(f"{locale}: {message_id!r}")
        return 1 if any(report.values()) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
