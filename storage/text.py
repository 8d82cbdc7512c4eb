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
