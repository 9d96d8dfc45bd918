"""The IoT service's settings (prefix ``ABS_IOT_``), apart from the platform's ``api.settings``.

The chain, manifest and member keys come from the platform settings (``ABS_CHAIN_URL``...);
everything the IoT service alone decides is here. Tests build ``IotSettings(...)`` directly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.settings import VAR_DIR


class IotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABS_IOT_", env_file=None, extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'iot.db'}", description="the IoT service's own database")
    host: str = "127.0.0.1"
    port: int = Field(default=8701, ge=0, le=65535)
    service_url: str = Field(default="http://127.0.0.1:8701", description="where absctl iot commands find the service")
    admin_token: str | None = Field(default=None, description="if set, registry and review writes need 'Bearer <token>'")
    # ingestion
    max_batch_events: int = Field(default=10_000, ge=1)
    max_future_skew_s: float = Field(default=120.0, ge=0, description="refuse events stamped further ahead than this")
    max_past_skew_s: float = Field(
        default=48 * 3600.0, ge=0, description="refuse events older than this (gateways store and forward while offline)"
    )
    # MQTT: one topic per gateway, {prefix}/{gateway member}/events, QoS 1, persistent session
    mqtt_enabled: bool = False
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_topic_prefix: str = "abs/iot"
    mqtt_client_id: str = "abs-iot-service"
    mqtt_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=1)
    mqtt_receive_maximum: int = Field(default=1_000, ge=1, le=65_535)
    mqtt_gateways: list[str] | None = Field(default=None, description="gateway members to subscribe for; default all")
    # anchoring: a window closes when its oldest event is this old, or at this many events
    window_seconds: float = Field(default=0.3, gt=0, le=1.0)
    window_max_events: int = Field(default=5_000, ge=1)
    # rules and disposal
    evaluation_interval_s: float = Field(default=5.0, gt=0, description="how often a collateral with new events is evaluated")
    urgent_gap_s: float = Field(default=0.05, ge=0, description="re-evaluation gap for collaterals with anomalous events")
    sweep_interval_s: float = Field(default=60.0, gt=0, description="clock-driven evaluation of every collateral")
    threshold_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict, description="{profile: {threshold: value}}")
    yellow_freeze_bps: int = Field(default=1_500, ge=1_000, le=2_000)
    gateway_member: str | None = Field(default=None, description="default gateway for new devices; default the manifest's")
    risk_member: str | None = Field(default=None, description="SCORER member that warns and freezes")
    reviewer_member: str | None = Field(default=None, description="AUDITOR member that records review outcomes")
    start_workers: bool = Field(default=True, description="run the anchoring, evaluation and MQTT threads")


@lru_cache
def get_iot_settings() -> IotSettings:
    return IotSettings()
