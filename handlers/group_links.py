"""Groups linked from inside, and chats coming back.

* `/vincular secretariado`, sent by an administrator inside a group, makes the group a
  notification chat (stored: storage.chats); `/desvincular` undoes it. With the group privacy
  mode on (BotFather's default) the bot receives commands addressed to it, which is all this
  needs.
* A chat marked unreachable (storage.chats) is retried when the bot is added to it again
  (`my_chat_member`: the bot became a member or an administrator; for a private chat, the
  person unblocked it) and when an administrator presses "Reintentar" on the notice that told
  them; the person writing to the bot again is handled by the flow skeleton.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from handlers.buttons import pressed
from handlers.context import FlowContext, Strangers, flow
from handlers.people_buttons import RetryChat
from handlers.replies import Reply, View, stale_button
from storage.chats import (
    SECRETARIAT,
    adopt_move,
    delivers_to,
    link_chat,
    mark_unreachable,
    retry_chat,
    unlink_chat,
)
from storage.models import Role

log = logging.getLogger(__name__)

#: The words `/vincular` takes for the secretariat (Spanish first, English too).
SECRETARIAT_WORDS = ("secretariado", "secretaria", "secretaría", "secretariat")
#: The bot's statuses in a chat that mean it can write there again.
PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
#: ... and that it cannot: removed from a group, or blocked by the person.
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


@flow(strangers=Strangers.REFUSE, roles=(Role.ADMIN,))
async def link_command(update: Update, context: FlowContext) -> View:
    """/vincular secretariado: this group receives the secretariat's notices."""
    tr, chat = context.tr, update.effective_chat
    if context.in_private or chat is None:
        return View(
            tr._(
                "Send this command inside the group that should receive the notices: add me to "
                "the group, then write <code>/vincular secretariado</code> there."
            )
        )
    words = " ".join(context.args or []).casefold()
    if words not in SECRETARIAT_WORDS:
        return View(
            tr._(
                "Write <code>/vincular secretariado</code> to make this group receive the "
                "secretariat's notices."
            )
        )
    linked = await link_chat(
        context.session,
        chat.id,
        kind=SECRETARIAT,
        title=chat.title or "",
        person=context.person,
        now=context.deps.now(),
    )
    log.info("chat %s linked as %s by %s", chat.id, SECRETARIAT, context.person.id)
    head = (
        tr._("✅ This group is now linked to the improvement plan as the secretariat's chat.")
        if linked
        else tr._("This group was already linked as the secretariat's chat.")
    )
    return View(
        head
        + "\n\n"
        + tr._(
            "It will receive a notice of every new comment and every status change of the key "
            "actions. Buttons pressed on those notices are answered in a private chat with me. "
            "To stop, an administrator writes <code>/desvincular</code> here."
        )
    )


@flow(strangers=Strangers.REFUSE, roles=(Role.ADMIN,))
async def unlink_command(update: Update, context: FlowContext) -> View:
    """/desvincular: this group no longer receives notices."""
    tr, chat = context.tr, update.effective_chat
    if context.in_private or chat is None:
        return View(
            tr._(
                "Send <code>/desvincular</code> inside the group that should stop receiving the "
                "notices."
            )
        )
    if not await unlink_chat(context.session, chat.id):
        return View(tr._("This group is not linked: it receives no notices from me."))
    log.info("chat %s unlinked by %s", chat.id, context.person.id)
    return View(
        tr._(
            "This group is no longer linked: it will not receive notices any more. "
            "<code>/vincular secretariado</code> links it again."
        )
    )


#: What Telegram would answer a delivery to a chat the bot was removed from (the words
#: `mark_unreachable`'s notice explains).
REMOVED: dict[str, str] = {
    ChatType.PRIVATE: "Forbidden: bot was blocked by the user",
    ChatType.GROUP: "Forbidden: bot was kicked from the group chat",
}


@flow(strangers=None)
async def membership_changed(update: Update, context: FlowContext) -> None:
    """The bot was added to a chat again (or unblocked): deliver what waits for it. Removed
    from a chat it delivers to (or blocked): marked unreachable at once, before a notice fails,
    and the administrators told."""
    change, deps = update.my_chat_member, context.deps
    if change is None:
        return None
    chat_id = change.chat.id
    if change.new_chat_member.status in PRESENT:
        released = await retry_chat(context.session, chat_id, now=deps.now())
        if released is not None:
            log.info("chat %s reachable again: %s notices released", chat_id, released)
    elif change.new_chat_member.status in GONE and await delivers_to(
        context.session, chat_id, deps.notify_chat_ids
    ):
        reason = REMOVED.get(change.chat.type, REMOVED[ChatType.GROUP])
        if await mark_unreachable(context.session, chat_id, reason, now=deps.now()):
            log.warning("chat %s unreachable: the bot was removed from it", chat_id)
    return None


@flow(strangers=None)
async def group_migrated(update: Update, context: FlowContext) -> None:
    """Telegram's service message in a group upgraded to a supergroup: the new id is adopted
    before any notice fails on the old one."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return None
    old_id, new_id = message.chat_id, int(message.migrate_to_chat_id)
    if await adopt_move(context.session, old_id, new_id):
        log.warning(
            "chat %s moved to %s (a supergroup): its notices go there from now on; if %s is in "
            "SECRETARIAT_CHAT_IDS, replace it with %s there",
            old_id,
            new_id,
            old_id,
            new_id,
        )
    return None


@flow(roles=(Role.ADMIN,))
async def retry_pressed(update: Update, context: FlowContext) -> Reply:
    """ "Reintentar" on the notice of an unreachable chat: its notices are tried again."""
    button, tr = pressed(update, RetryChat), context.tr
    if button is None:
        return stale_button(tr)
    released = await retry_chat(context.session, button.chat_id, now=context.deps.now())
    if released is None:
        return Reply(notice=tr._("That chat is not waiting: its notices are being delivered."))
    log.info(
        "chat %s retried by %s: %s notices released", button.chat_id, context.person.id, released
    )
    return Reply(
        notice=tr.n_(
            "{n} notice will be tried again in a moment.",
            "{n} notices will be tried again in a moment.",
            released,
        )
    )
