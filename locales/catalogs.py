"""What pybabel does not do for our catalogs (see the README, "Translations").

`pybabel extract` / `pybabel update` keep `locales/messages.pot` and the catalogs in step with the
code. Two things remain, here:

* `python -m locales.catalogs fill-english`: message ids are English, so the English catalog's
  texts are the ids themselves (pybabel leaves new entries empty);
* `python -m locales.catalogs check`: lists every message used in the code that a catalog does
  not translate yet (a test runs the same check).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from locales import LOCALES_DIR, SUPPORTED

ROOT = LOCALES_DIR.parent
#: The keywords given to `pybabel extract -k` besides its defaults (`_`, `N_`, `ngettext`...).
KEYWORDS = {"_": None, "N_": None, "raw": None, "n_": (1, 2)}


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str) -> Catalog:
    with catalog_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def extract() -> Catalog:
    """The messages of the code, found as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    catalog = Catalog(locale=None)
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments)
    return catalog


def translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(strings)


def missing() -> dict[str, list[str]]:
    """Message ids used in the code without a translation, per language."""
    used = extract()
    report: dict[str, list[str]] = {}
    for locale in SUPPORTED:
        catalog = read_catalog(locale)
        report[locale] = [
            str(m.id)
            for m in used
            if m.id and ((known := catalog.get(m.id)) is None or not translated(known))
        ]
    return report


def fill_english() -> None:
    """English texts are the message ids themselves (singular and plural)."""
    catalog = read_catalog("en")
    for message in catalog:
        if message.id and not translated(message):
            message.string = tuple(message.id) if isinstance(message.id, tuple) else message.id
    with catalog_path("en").open("wb") as fh:
        write_po(fh, catalog, width=100)


def main(argv: list[str]) -> int:
    if argv == ["fill-english"]:
        fill_english()
        return 0
    if argv == ["check"]:
        report = missing()
        for locale, ids in report.items():
            for message_id in ids:
                print(f"{locale}: {message_id!r}")
        return 1 if any(report.values()) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
