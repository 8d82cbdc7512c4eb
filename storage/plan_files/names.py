"""A plan's title taken from the name of the file it came in.

The name is someone else's text: `<i>plan</i> & co.csv` must become the title
`<i>plan</i> & co`, whole (it is escaped where it is shown, never parsed as a path: a slash in
a name is a character, so `PurePath` would keep only `i> & co`), with no bidirectional or
invisible characters, no folders in front (`C:\\Users\\ana\\plan.xlsx`, `../../plan.csv`), and
of a bounded length.
"""

from __future__ import annotations

import re
import unicodedata

from storage.text import BIDI_CONTROLS, INVISIBLE

#: A title from a file name is at most this long (the title column allows more).
MAX_NAME_TITLE = 120
#: What is left when nothing of the name is: the plan still needs a title.
FALLBACK_TITLE = "Plan"

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
#: A name that starts like a path: a root, ./, ../, ~/, a drive letter or a network share.
_PATH_START = re.compile(r"^(?:[/\\]|\.{1,2}[/\\]|~[/\\]|[A-Za-z]:[/\\])")


def _shown(character: str) -> bool:
    if character in BIDI_CONTROLS or character in INVISIBLE:
        return False
    return unicodedata.category(character) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def title_from_file_name(name: str) -> str:
    """The title a plan gets from its file's name (see the module's docstring)."""
    text = unicodedata.normalize("NFC", name)
    if _PATH_START.match(text) or "\\" in text:  # a path: its last part is the name
        text = re.split(r"[/\\]", text)[-1]
    text = _EXTENSION.sub("", text.strip())
    text = "".join(c if _shown(c) else " " for c in text.replace("_", " "))
    text = " ".join(text.split())
    if len(text) > MAX_NAME_TITLE:
        text = text[: MAX_NAME_TITLE - 1].rstrip() + "…"
    return text or FALLBACK_TITLE
