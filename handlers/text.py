"""Texts that fit Telegram: escaped, shortened at a word, split between lines."""

from __future__ import annotations

import html
import re

from telegram.constants import MessageLimit

MESSAGE_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096, after parsing the HTML
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024


def escape(text: str | None) -> str:
    return html.escape(text or "", quote=False)


def shorten(text: str, limit: int) -> str:
    """Cut plain text (before escaping) at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML text into messages within Telegram's limit, only between lines.

    Our templates open and close every tag within a line, so a cut between lines keeps each part
    valid HTML. A single line longer than the limit (only possible with a huge escaped text) is
    cut at the limit after removing its markup.
    """
    if len(text) <= limit:  # markup only adds characters: the visible text fits too
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        length = _visible_length(line)
        added = length + (1 if current else 0)
        if size + added <= limit:
            current.append(line)
            size += added
            continue
        if current:
            parts.append("\n".join(current))
        while length > limit:
            plain = html.unescape(_strip_tags(line))
            parts.append(escape(plain[:limit]))
            line = escape(plain[limit:])
            length = _visible_length(line)
        current, size = [line], length
    if current or not parts:
        parts.append("\n".join(current))
    return parts


_TAG = re.compile(r"<[^>]*>")


def _strip_tags(text: str) -> str:
    return _TAG.sub("", text)


def _visible_length(text: str) -> int:
    """Length as Telegram counts it: after parsing the HTML markup and entities."""
    return len(html.unescape(_strip_tags(text)))


def telegram_length(text: str) -> int:
    """Length of HTML text as Telegram counts it: after parsing, in UTF-16 code units (an emoji
    may count twice)."""
    plain = html.unescape(_strip_tags(text))
    return len(plain.encode("utf-16-le")) // 2
