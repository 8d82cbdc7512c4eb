"""Settings from the environment and `.env` (names as in the design's contracts)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from locales import DEFAULT_LOCALE, SUPPORTED
from storage.clock import DEFAULT_TIMEZONE
from storage.db import DEFAULT_DATABASE_URL, normalise_url

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = ""
    secretariat_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    bot_locale: str = DEFAULT_LOCALE
    bot_timezone: str = DEFAULT_TIMEZONE
    bot_username: str = ""
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    port: int = 8080
    webhook_secret: str = ""
    reminder_weekday: str = "mon"
    reminder_hour: int = Field(default=9, ge=0, le=23)
    digest_hour: int = Field(default=18, ge=0, le=23)
    reminder_due_days: int = 14
    stale_days: int = 30
    outbox_interval: float = 1.0
    outbox_lease_seconds: float = Field(default=15.0, gt=0)
    step_timeout_minutes: int = Field(default=60, ge=1)
    album_wait_seconds: float = Field(default=2.0, gt=0)
    max_concurrent_updates: int = Field(default=32, ge=1)
    #: PostgreSQL: wait for each commit to reach the disk (`storage.db.create_engine`).
    database_durable_commits: bool = False
    load_demo_plan: bool = False  # a production start is clean: the demo only when asked
    log_level: str = "INFO"
    #: The dashboard (Mini App): the public HTTPS address its button opens (no button without
    #: it), and how old the signed data it sends may be.
    web_app_url: str = ""
    web_app_auth_max_age: int = Field(default=3600, ge=1)
    plan_parse_seconds: float = Field(default=20.0, gt=0)  # an uploaded plan's parse, at most

    @field_validator("secretariat_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_url(value)

    @field_validator("bot_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        value = value.split("_")[0].split("-")[0].lower()
        if value not in SUPPORTED:
            raise ValueError(f"BOT_LOCALE must be one of {SUPPORTED}")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("reminder_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        value = value.strip().lower()[:3]
        if value not in WEEKDAYS:
            raise ValueError(f"REMINDER_WEEKDAY must be one of {WEEKDAYS}")
        return value

    @property
    def file_base_url(self) -> str:
        """Where files are downloaded: TELEGRAM_API_FILE_URL, else derived from the API URL."""
        if self.telegram_api_file_url:
            return self.telegram_api_file_url
        base = self.telegram_api_base_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot_timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
