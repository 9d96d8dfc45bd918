"""Platform settings from the environment (prefix ``ABS_``), cached; tests override them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    """Where the platform's chain, database, keys and files are, and its policy defaults."""

    model_config = SettingsConfigDict(env_prefix="ABS_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'platform.db'}",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://... in production",
    )
    chain_url: str = Field(
        default="http://127.0.0.1:8545", description="a JSON-RPC URL, or 'embedded' for an in-process EVM"
    )
    var_dir: Path = Field(default=VAR_DIR, description="the local node's PID and log files")
    manifest_path: Path = Field(default=VAR_DIR / "deployment.json")
    keystore_dir: Path = Field(default=VAR_DIR / "keystore")
    reports_dir: Path = Field(default=VAR_DIR / "reports")
    models_dir: Path = Field(default=VAR_DIR / "models")
    default_expected_bad_rate_ppm: int = Field(default=50_000, ge=0, le=1_000_000)
    max_assets_per_pack: int = Field(default=1_000_000, ge=1)
    max_error_rows: int = Field(default=100, ge=1, description="errors listed in a refusal report")
    credit_max_age_days: int = Field(default=90, ge=1)
    stale_policy: str = Field(default="exclude", pattern="^(exclude|downweight)$")
    stale_weight_ppm: int = Field(default=500_000, ge=0, le=1_000_000)
    bureau_url: str = Field(
        default="http://127.0.0.1:8601",
        description="the credit bureau's API; 'inprocess': its service and database in this process",
    )
    bureau_api_key: str | None = Field(default=None, description="the orchestrator's read key at the bureau")
    model_id: int | None = Field(
        default=None, ge=1, description="the registered model that scores packs; None: the newest active one"
    )
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1, description="largest pack body accepted")
    pipeline_threads: int = Field(
        default=1, ge=0, description="pipeline jobs the API process runs itself; 0: an external worker runs them"
    )
    pipeline_lease_seconds: float = Field(
        default=60.0, gt=0, description="a running pipeline renews its claim on a pack this often; "
        "a claim older than this is taken over (the process that held it is presumed dead)"
    )
    pipeline_hold_at: str | None = Field(
        default=None, description="fault injection for crash tests: the pipeline stops at this checkpoint"
    )
    monitor_interval_seconds: float = Field(
        default=0.0, ge=0, description="the monitoring scheduler's tick; 0: cycles run only on demand"
    )
    monitor_rules_path: Path | None = Field(
        default=None, description="trigger rules (JSON list); default: the patent's levels 1-3 > 10%, bad rate "
        "above expected, PSI > 0.25 and a red IoT warning"
    )
    replacement_deadline_days: int = Field(default=14, ge=1, le=365)
    replacement_balance_tolerance_ppm: int = Field(default=20_000, ge=0, le=1_000_000)
    iot_database_url: str | None = Field(default=None, description="the IoT service's database, for warnings")
    iot_url: str | None = Field(default=None, description="the IoT service's API, for warnings (if no database)")


@lru_cache
def get_settings() -> Settings:
    return Settings()
