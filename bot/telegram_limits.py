"""Telegram's flood limits, defined once, and the margins the bot keeps below them.

Telegram's numbers (Bot FAQ, "My bot is hitting limits"; PTB's `telegram.constants.FloodLimit`)
are counted over sliding windows: at most 30 messages in any second across all chats, 20 in any
minute into one group, and about one a second into one private chat (short bursts pass). The
Bot API simulator (`bot.simulator.limits`) enforces these; the bot keeps the margins below.
Message sizes (4096 characters of text, 1024 of caption) and the 64 bytes of callback data are
PTB's `MessageLimit` and `InlineKeyboardButtonLimit`, used where messages are built.

Storage never imports this module (it never imports Telegram): the outbox is paced here, in
`bot.outbox_delivery`, and by the rate limiter (`bot.rate_limits`).
"""

from __future__ import annotations

import datetime as dt
import warnings

from telegram.constants import FileSizeLimit, FloodLimit
from telegram.error import RetryAfter

#: Telegram's: messages in any second, all chats together.
OVERALL_PER_SECOND = int(FloodLimit.MESSAGES_PER_SECOND)  # 30
#: Telegram's: messages in any minute into one group (or channel).
GROUP_PER_MINUTE = int(FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP)  # 20
#: Telegram's: about one message a second into one private chat...
PRIVATE_PER_SECOND = int(FloodLimit.MESSAGES_PER_SECOND_PER_CHAT)  # 1
#: ...with short bursts tolerated; the simulator refuses more than this in any second.
PRIVATE_BURST_PER_SECOND = 10

#: Our margins. The overall window is used whole, as PTB's own `AIORateLimiter` does by
#: default: its margin is in time, not in count (the rate limiter counts each send from the
#: latest moment it may have arrived, `bot.rate_limits.SlidingWindow`). A group's window of a
#: minute keeps one message in hand.
OVERALL_MARGIN = 0
GROUP_MARGIN = 1

#: What the bot sends at most (the rate limiter's windows, the outbox's per-group allowance).
SENDS_PER_SECOND = OVERALL_PER_SECOND - OVERALL_MARGIN  # 30
GROUP_SENDS_PER_MINUTE = GROUP_PER_MINUTE - GROUP_MARGIN  # 19
#: The outbox sends into one private chat at most once in this interval.
PRIVATE_INTERVAL = dt.timedelta(seconds=1 / PRIVATE_PER_SECOND)
#: Telegram's: paid broadcasts (`allow_paid_broadcast`), in any second.
PAID_PER_SECOND = int(FloodLimit.PAID_MESSAGES_PER_SECOND)  # 1000
#: Telegram's: the largest file the Bot API serves for download (`getFile`), in bytes (20 MB).
DOWNLOAD_MAX_BYTES = int(FileSizeLimit.FILESIZE_DOWNLOAD)


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds a 429 asks to wait (an int before PTB 23, a timedelta after; read without PTB's
    deprecation warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
