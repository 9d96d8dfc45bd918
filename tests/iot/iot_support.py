"""Helpers of the IoT service tests: signed events, registration, unique codes (see conftest.py)."""

from __future__ import annotations

import time
import uuid

from web3 import Web3

from api.iot.schemas import CollateralSpec, DeviceSpec
from api.iot.service import IotService
from api.iot.signing import address_of, sign_event
from api.platform import Platform
from api.settings import Settings
from chain.keys import MemberKeys
from testbed import Consortium

SITE = {"lat_e7": 312_304_000, "lon_e7": 1_214_737_000}


def make_platform(consortium: Consortium, member_keys: MemberKeys) -> Platform:
    return Platform(Settings(), w3=consortium.w3, manifest=consortium.manifest, keys=member_keys)


def now_ms() -> int:
    return int(time.time() * 1000)


def signed(key: bytes, seq: int, type_: str, payload: dict, ts: int | None = None) -> dict:
    event = {"device": address_of(key), "seq": seq, "ts": now_ms() if ts is None else ts, "type": type_,
             "payload": payload}
    return sign_event(key, event)


def unique_code(prefix: str = "COL") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(service: IotService, key: bytes, *, code: str | None = None, loans: list[dict] | None = None,
             **spec) -> str:
    """A collateral (one loan unless ``loans``, a 500 m fence around SITE) with the device of ``key``."""
    code = code or unique_code()
    loans = loans or [{"loan_id": f"{code}-L1", "borrower_id": f"{code}-B1", "credit_line_minor": 2_000_000_00,
                       "drawn_minor": 500_000_00}]
    body = {"code": code, "kind": "equipment", "industry": "construction", "loans": loans,
            "fence": {"circle": {**SITE, "radius_m": 500}}, **spec}
    service.registry.register_collateral(CollateralSpec(**body))
    service.registry.register_device(code, DeviceSpec(address=address_of(key)))
    return code


def checksum(address: str) -> str:
    return Web3.to_checksum_address(address)
