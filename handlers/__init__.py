"""The chat flows. `register` adds every handler to an `Application`, in the one place where the
order in which they are tried can be read."""

from __future__ import annotations

from typing import Any

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import (
    administration,
    browse,
    conversation,
    evidence,
    export,
    group_links,
    invitations,
    onboarding,
    person_entry,
    preferences,
    review,
    round_guide,
    rounds,
    steps,
    summary,
)
from handlers.action_buttons import (
    FOLLOW_UP_BUTTONS,
    REVIEW_QUEUE_BUTTONS,
    ActionList,
    OpenCard,
    OpenCardAnew,
    ShowEvidence,
    ShowHistory,
)
from handlers.buttons import any_of
from handlers.errors import on_error, unknown_button, unknown_command
from handlers.people_buttons import (
    INVITATION_BUTTONS,
    PEOPLE_BUTTONS,
    PERSON_BUTTONS,
    ROLE_BUTTONS,
    ChooseLanguage,
    ChooseNotifyMode,
    RetryChat,
)
from handlers.round_buttons import ROUND_BUTTONS, ROUND_GUIDE_BUTTONS
from handlers.summary_buttons import SUMMARY_BUTTONS, ExportPlan

#: Text, photos, documents, recordings and places that are not commands: the next step of a
#: conversation.
STEP_MESSAGES = (
    (filters.TEXT & ~filters.COMMAND)
    | filters.PHOTO
    | filters.Document.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.LOCATION
)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Every handler, in the order they are tried (the first that matches an update takes it)."""
    return [
        # Registration, help, language
        CommandHandler("start", onboarding.start),
        CommandHandler(["ayuda", "help"], onboarding.help_command),
        CommandHandler(["idioma", "language"], onboarding.language_command),
        CallbackQueryHandler(onboarding.language_chosen, pattern=ChooseLanguage.matches),
        CallbackQueryHandler(onboarding.role_pressed, pattern=any_of(*ROLE_BUTTONS)),
        # Administration
        CommandHandler(["invitar", "invite"], administration.invite_command),
        CommandHandler(["usuarios", "users"], administration.people_command),
        CommandHandler("plan", administration.plan_command),
        CallbackQueryHandler(administration.people_pressed, pattern=any_of(*PEOPLE_BUTTONS)),
        CallbackQueryHandler(person_entry.person_pressed, pattern=any_of(*PERSON_BUTTONS)),
        CommandHandler(["invitaciones", "invitations"], invitations.invitations_command),
        CallbackQueryHandler(invitations.invitations_pressed, pattern=any_of(*INVITATION_BUTTONS)),
        # Summary and export
        CommandHandler(["resumen", "summary"], summary.summary_command),
        CallbackQueryHandler(summary.summary_pressed, pattern=any_of(*SUMMARY_BUTTONS)),
        CommandHandler(["exportar", "export"], export.export_command),
        CallbackQueryHandler(export.export_pressed, pattern=ExportPlan.matches),
        # Notification preferences
        CommandHandler(["avisos", "notices"], preferences.notices_command),
        CallbackQueryHandler(preferences.notices_chosen, pattern=ChooseNotifyMode.matches),
        # Browsing actions
        CommandHandler(["acciones", "actions"], browse.actions_command),
        CommandHandler(["buscar", "search"], browse.search_command),
        CallbackQueryHandler(browse.list_pressed, pattern=ActionList.matches),
        CallbackQueryHandler(browse.card_pressed, pattern=any_of(OpenCard, OpenCardAnew)),
        CallbackQueryHandler(browse.history_pressed, pattern=ShowHistory.matches),
        CallbackQueryHandler(evidence.evidence_pressed, pattern=ShowEvidence.matches),
        # The secretariat's review queue
        CommandHandler(["revisar", "review"], review.review_command),
        CallbackQueryHandler(review.review_pressed, pattern=any_of(*REVIEW_QUEUE_BUTTONS)),
        # Reporting rounds
        CommandHandler(["ronda", "round"], rounds.round_command),
        CallbackQueryHandler(rounds.round_pressed, pattern=any_of(*ROUND_BUTTONS)),
        CallbackQueryHandler(round_guide.guide_pressed, pattern=any_of(*ROUND_GUIDE_BUTTONS)),
        # Follow-up and review
        CommandHandler(["cancelar", "cancel"], conversation.cancel_command),
        CallbackQueryHandler(conversation.button_pressed, pattern=any_of(*FOLLOW_UP_BUTTONS)),
        MessageHandler(STEP_MESSAGES, steps.message_received),
        # Groups linked from inside, chats coming back
        CommandHandler(["vincular", "link"], group_links.link_command),
        CommandHandler(["desvincular", "unlink"], group_links.unlink_command),
        CallbackQueryHandler(group_links.retry_pressed, pattern=RetryChat.matches),
        ChatMemberHandler(group_links.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, group_links.group_migrated),
        # A command no flow knows, in a private chat (in groups it may be another bot's)
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
        # A button no flow knows (forged, or from an old version of the bot)
        CallbackQueryHandler(unknown_button),
    ]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handlers(handlers())
    application.add_error_handler(on_error)
