"""Every text a person reads is in both catalogs, with the same placeholders and markup."""

import re

import pytest

from handlers.i18n import Tr
from locales import SUPPORTED
from locales.catalogs import extract, missing, read_catalog

PLACEHOLDER = re.compile(r"{(\w*)}")
TAG = re.compile(r"</?(\w+)")


def _entries(locale):
    for message in read_catalog(locale):
        if message.id:
            yield "messages", message


def test_no_message_id_is_missing_from_a_catalog():
    assert missing() == {locale: [] for locale in SUPPORTED}


def test_the_code_has_messages_to_translate():
    assert len(extract()) > 100


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


def test_spanish_is_the_default_and_formats_follow_the_locale():
    import datetime as dt

    assert Tr("es")._("Completed") == "Completada"
    assert Tr("en")._("Completed") == "Completed"
    assert Tr("es").short_date(dt.date(2012, 1, 31)) == "31 ene 2012"
    assert Tr("es").number(1234.5) == "1234,5" or Tr("es").number(1234.5) == "1.234,5"
