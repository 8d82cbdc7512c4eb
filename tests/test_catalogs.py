"""Every text a person reads is in both catalogs, with the same placeholders and markup."""

import re

import pytest

from handlers.catalogs import extract, missing, read_catalog, source_files
from handlers.i18n import LOCALES_DIR, SUPPORTED, Tr

PLACEHOLDER = re.compile(r"{(\w*)}")
TAG = re.compile(r"</?(\w+)")


def _entries(locale):
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        for message in read_catalog(path, locale):
            if message.id:
                yield path.name, message


def test_no_message_id_is_missing_from_a_catalog():
    assert missing() == {locale: [] for locale in SUPPORTED}


def test_the_code_has_messages_to_translate():
    assert len(extract(source_files())) > 100


@pytest.mark.parametrize("locale", SUPPORTED)
def test_translations_keep_placeholders_and_markup(locale):
    problems = []
    for domain, message in _entries(locale):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"n"}
        for text in texts:
            if not text:
                continue  # reported by the test of missing ids
            if set(PLACEHOLDER.findall(text)) - {"n"} != wanted:
                problems.append((domain, ids[0], text))
            if sorted(TAG.findall(text)) != sorted(TAG.findall(ids[0])):
                problems.append((domain, ids[0], text))
    assert problems == []


def test_a_message_id_in_several_domains_reads_the_same_everywhere():
    """Domains are merged into one catalog, so one id must not get two Spanish texts."""
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for domain, message in _entries("es"):
        key = message.id if isinstance(message.id, str) else message.id[0]
        if not message.string:
            continue
        if key in seen and seen[key][1] != message.string:
            clashes.append((key, seen[key][0], domain))
        seen.setdefault(key, (domain, message.string))
    assert clashes == []


def test_spanish_is_the_default_and_formats_follow_the_locale():
    import datetime as dt

    assert Tr("es")._("Completed") == "Completada"
    assert Tr("en")._("Completed") == "Completed"
    assert Tr("es").short_date(dt.date(2012, 1, 31)) == "31 ene 2012"
    assert Tr("es").number(1234.5) == "1234,5" or Tr("es").number(1234.5) == "1.234,5"
