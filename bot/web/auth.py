"""Who is asking: the Mini App's `initData`, checked as Telegram documents it ("Validating data
received via the Mini App"), then matched to a registered, active person.

The page sends `Authorization: tma <initData>` with every call. `initData` is a query string
signed with a key derived from the bot's token: secret_key = HMAC-SHA256(key="WebAppData",
msg=token), hash = hex HMAC-SHA256(key=secret_key, msg=data_check_string), where the data check
string is every field but `hash`, as `key=value`, sorted by key, joined by newlines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person
from storage.people import get_person

SCHEME = "tma"
#: initData is a few hundred bytes; anything much larger is not Telegram's.
MAX_INIT_DATA = 8192


class Unauthorized(Exception):
    """The call is not signed by Telegram for a registered, active person (answered 401)."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """The Telegram user the signed data names."""

    id: int
    language_code: str | None


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The `hash` Telegram puts in initData for these fields (the tests sign with it too)."""
    message = data_check_string(fields).encode()
    return hmac.new(secret_key(bot_token), message, hashlib.sha256).hexdigest()


def init_data_from(authorization: str | None) -> str:
    """The initData of an `Authorization: tma <initData>` header."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != SCHEME or not value.strip():
        raise Unauthorized("no tma authorization")
    return value.strip()


def verify(init_data: str, bot_token: str, *, now: dt.datetime, max_age: int) -> WebAppUser:
    """The user of a genuine, fresh initData; `Unauthorized` for anything else."""
    if len(init_data) > MAX_INIT_DATA:
        raise Unauthorized("initData too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise Unauthorized("initData is not a query string") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Unauthorized("a field given twice")
    given = fields.get("hash", "")
    if not hmac.compare_digest(sign(fields, bot_token), given.lower()):
        raise Unauthorized("bad signature")
    try:
        signed_at = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise Unauthorized("no auth_date or user") from exc
    age = (now - signed_at).total_seconds()
    if age > max_age or age < -60:  # a minute of clock skew the other way
        raise Unauthorized("initData expired")
    language = user.get("language_code")
    return WebAppUser(user_id, language if isinstance(language, str) else None)


async def person_of(session: AsyncSession, user: WebAppUser) -> Person:
    """The registered, active person of a verified user."""
    person = await get_person(session, user.id, active_only=True)
    if person is None:
        raise Unauthorized("not a registered, active person")
    return person
