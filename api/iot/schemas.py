"""Request bodies of the IoT service's registry and review endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.iot.telemetry import BPS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoanSpec(_Body):
    loan_id: str = Field(min_length=1, max_length=128)
    borrower_id: str = Field(min_length=1, max_length=128)
    credit_line_minor: int = Field(ge=0)
    drawn_minor: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _drawn_within_line(self) -> LoanSpec:
        if self.drawn_minor > self.credit_line_minor:
            raise ValueError("drawn_minor cannot exceed credit_line_minor")
        return self


class TemperatureRange(_Body):
    min_milli_c: int
    max_milli_c: int

    @model_validator(mode="after")
    def _ordered(self) -> TemperatureRange:
        if self.min_milli_c >= self.max_milli_c:
            raise ValueError("min_milli_c must be below max_milli_c")
        return self


class Position(_Body):
    lat_e7: int = Field(ge=-900_000_000, le=900_000_000)
    lon_e7: int = Field(ge=-1_800_000_000, le=1_800_000_000)


class Valuation(_Body):
    """What residual value starts from (seed 000 §3.1): cost, acquisition, meter at registration."""

    cost_minor: int = Field(ge=0)
    acquired_on: date
    meter_hours: int = Field(default=0, ge=0)
    failures: int = Field(default=0, ge=0)
    annual_decline_bps: int = Field(default=1_200, ge=0, le=BPS)
    rated_hours: int = Field(default=20_000, gt=0)
    failure_penalty_bps: int = Field(default=300, ge=0, le=BPS)
    max_failure_penalty_bps: int = Field(default=3_000, ge=0, le=BPS)
    salvage_bps: int = Field(default=1_000, ge=0, le=BPS)


class CollateralSpec(_Body):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: Literal["equipment", "vehicle", "cold_chain"]
    industry: str = Field(min_length=1, max_length=32, description="an industry or a profile (industrial, retail)")
    description: str = Field(default="", max_length=200)
    financier: str | None = Field(default=None, description="the FINANCIER member pledging it; default the manifest's")
    fence: dict[str, Any] | None = Field(default=None, description="{'circle': {...}} or {'polygon': [[lat_e7, lon_e7], ...]}")
    temperature_range: TemperatureRange | None = None
    stationary: bool = False
    home: Position | None = None
    valuation: Valuation | None = None
    loans: list[LoanSpec] = Field(min_length=1, max_length=32)

    @field_validator("loans")
    @classmethod
    def _unique_loans(cls, loans: list[LoanSpec]) -> list[LoanSpec]:
        if len({loan.loan_id for loan in loans}) != len(loans):
            raise ValueError("loan ids must be unique")
        return loans


class DeviceSpec(_Body):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="the address of the device's own key")
    gateway: str | None = Field(default=None, description="the IOT_GATEWAY member; default the service's")
    label: str = Field(default="", max_length=100)


class LoanDrawn(_Body):
    drawn_minor: int = Field(ge=0)


class ReviewDecision(_Body):
    outcome: Literal["keep", "restore", "adjust"]
    notes: str = Field(min_length=1, max_length=10_000)
    reviewer: str = Field(min_length=1, max_length=100, description="who reviewed (a person, for the record)")
    level: Literal["blue", "yellow", "red"] | None = Field(default=None, description="adjust: the new level")
    frozen_bps: int | None = Field(default=None, ge=0, le=BPS, description="adjust: default the level's policy share")

    @model_validator(mode="after")
    def _adjust_needs_level(self) -> ReviewDecision:
        if self.outcome == "adjust" and self.level is None:
            raise ValueError("an adjust outcome needs the new level")
        return self


class Acknowledgement(_Body):
    notes: str = Field(min_length=1, max_length=10_000)
    by: str = Field(min_length=1, max_length=100)
