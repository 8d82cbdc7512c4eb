"""📎 Ver evidencia: the files people attached to an action, sent again by the ids Telegram
keeps them under (no download, no size limit of ours), to whoever may see the action."""

from __future__ import annotations

from typing import Literal

from telegram import Update

from handlers.action_buttons import ShowEvidence
from handlers.buttons import pressed
from handlers.context import FlowContext, flow
from handlers.replies import OutgoingFile, Reply, View, stale_button
from handlers.views import evidence_line
from storage.attachments import AttachmentKind
from storage.evidence import action_evidence

#: How each kind of stored attachment is sent again (anything else: as a document).
SENT_AS: dict[str, Literal["photo", "audio", "voice", "video", "video_note", "location"]] = {
    AttachmentKind.PHOTO: "photo",
    AttachmentKind.AUDIO: "audio",
    AttachmentKind.VOICE: "voice",
    AttachmentKind.VIDEO: "video",
    AttachmentKind.VIDEO_NOTE: "video_note",
    AttachmentKind.LOCATION: "location",
}


@flow()
async def evidence_pressed(update: Update, context: FlowContext) -> Reply:
    """The action's evidence, as albums (photos together, documents together)."""
    button = pressed(update, ShowEvidence)
    tr = context.tr
    if button is None:
        return stale_button(tr)
    files = await action_evidence(context.session, context.person, button.action_id)
    if not files:
        return Reply(notice=tr._("This action has no evidence yet."))
    heading = tr.n_(
        "📎 Evidence of <b>{ref}</b>: {n} file",
        "📎 Evidence of <b>{ref}</b>: {n} files",
        len(files),
        ref=files[0].ref,
    )
    album = [
        OutgoingFile(
            SENT_AS.get(f.kind, "document"),
            f.file_name,
            file_id=f.file_id or None,
            caption=evidence_line(tr, f).removeprefix("• "),
            place=(f.latitude, f.longitude)
            if f.latitude is not None and f.longitude is not None
            else None,
        )
        for f in files
    ]
    return Reply([View(heading, album=album)], edit=False)
