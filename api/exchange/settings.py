"""The exchange's own settings (prefix ``ABS_EXCHANGE_``); chain, manifest and keys come from the
platform's ``api.settings.Settings`` like every other service's."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.settings import VAR_DIR


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABS_EXCHANGE_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'exchange.db'}",
        description="the exchange's own database (ABS_EXCHANGE_DATABASE_URL), never another service's",
    )
    member: str | None = Field(
        default=None, description="manifest member whose key signs for the exchange; default: the first EXCHANGE member"
    )
    url: str = Field(default="http://127.0.0.1:8602", description="where the exchange's API is served")
    role_cache_seconds: float = Field(default=5.0, ge=0, description="how long a member's on-chain roles are cached")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="largest document stored per kind")


@lru_cache
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()
