"""Comparing words the way people mean them: one folding rule for the whole project."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """`text` for comparison: case and accent insensitive, with single spaces.

    Compatibility forms are decomposed (NFKD: "º" is "o", "ﬁ" is "fi", a no-break space is a
    space), the combining marks that decomposition leaves (the accents) are dropped, the rest is
    case-folded ("ß" is "ss"), and runs of whitespace become one space, with none at the ends.
    Punctuation is kept: the callers that ignore some of it say which.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


#: Bidirectional controls (embeddings, overrides, isolates, marks): removed from names and
#: texts, so that nobody's text can reorder what is around it in someone else's chat.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))
#: Characters that show nothing: zero-width spaces and joiners, the word joiner, the BOM.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def without_bidi_controls(text: str) -> str:
    """`text` without bidirectional control characters."""
    return text.translate(_BIDI_TABLE)


def is_blank(text: str) -> bool:
    """True for text that shows nothing: only spaces, invisible or control characters."""
    return all(
        c.isspace() or c in INVISIBLE or c in BIDI_CONTROLS or unicodedata.category(c) == "Cc"
        for c in text
    )
