"""What a comment's attachment is, and how it is named wherever people read about it (the card,
the history, notices, exports): a file by its name, a voice note by its length, a field visit by
its place. One description for every view, so a voice note reads the same in the chat and in
the spreadsheet."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from locales import N_


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    LOCATION = "location"


#: Kinds that are recordings: they speak for themselves, so one sent alone is a comment.
SPOKEN = frozenset({AttachmentKind.VOICE, AttachmentKind.VIDEO_NOTE})

KIND_LABELS: dict[str, str] = {
    AttachmentKind.PHOTO: N_("🖼 photo"),
    AttachmentKind.DOCUMENT: N_("📄 document"),
    AttachmentKind.VOICE: N_("🎤 voice note"),
    AttachmentKind.AUDIO: N_("🎵 audio"),
    AttachmentKind.VIDEO: N_("🎬 video"),
    AttachmentKind.VIDEO_NOTE: N_("📹 video note"),
    AttachmentKind.LOCATION: N_("📍 field visit"),
}


def duration_text(seconds: int) -> str:
    """0:42, 12:05, 1:02:03: how players show a length."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def coordinates_text(latitude: float, longitude: float) -> str:
    return f"{latitude:.5f}, {longitude:.5f}"


def map_link(latitude: float, longitude: float) -> str:
    """An OpenStreetMap page centred on the place (opens on any phone, no account needed)."""
    lat, lon = f"{latitude:.5f}", f"{longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def kind_words(gettext: Callable[[str], str]) -> Callable[[str], str]:
    """The word for each kind of attachment, through a translation function."""
    return lambda kind: gettext(KIND_LABELS.get(kind, KIND_LABELS[AttachmentKind.DOCUMENT]))


def describe_attachment(
    kind: str,
    file_name: str,
    *,
    duration: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    words: Callable[[str], str],
) -> str:
    """Plain text naming an attachment: "acta.pdf", "🎤 voice note, 0:42", "🎵 informe.mp3,
    3:10", "📍 field visit: -12.04640, -77.04280". `words` gives the word for a kind (see
    `kind_words`)."""
    if kind == AttachmentKind.LOCATION:
        if latitude is None or longitude is None:
            return words(kind)
        return f"{words(kind)}: {coordinates_text(latitude, longitude)}"
    if kind in (AttachmentKind.PHOTO, AttachmentKind.DOCUMENT):
        return file_name or words(kind)
    label = file_name if kind == AttachmentKind.AUDIO and file_name else words(kind)
    return f"{label}, {duration_text(duration)}" if duration else label
