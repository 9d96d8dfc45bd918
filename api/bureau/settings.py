"""The bureau's own settings (prefix ``ABS_BUREAU_``); chain, manifest and keys come from the
platform's ``api.settings.Settings`` like every other service's."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.settings import VAR_DIR


class BureauSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABS_BUREAU_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'bureau.db'}",
        description="the bureau's own database (ABS_BUREAU_DATABASE_URL), never the orchestrator's",
    )
    member: str | None = Field(
        default=None, description="manifest member whose key commits batches; default: the first CREDIT_BUREAU member"
    )
    max_batch_records: int = Field(default=1_000_000, ge=1, le=2**32 - 1)  # commitBatch takes a uint32 count
    max_lookup_ids: int = Field(default=100_000, ge=1, description="borrower ids per bulk look-up call")
    max_error_rows: int = Field(default=100, ge=1, description="problems listed in a refusal report")
    cached_trees: int = Field(default=4, ge=1, description="batch trees kept in memory for proofs")
    resume_on_startup: bool = Field(default=True, description="finish pending batches when the service starts")


@lru_cache
def get_bureau_settings() -> BureauSettings:
    return BureauSettings()
