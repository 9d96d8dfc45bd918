"""Collaterals and devices are registered on chain under the right members, and the API guards writes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.iot.app import create_app
from api.iot.signing import address_of
from chain.leaves import asset_id, collateral_id
from iot_support import SITE, checksum, unique_code


def spec(code: str, **extra) -> dict:
    return {"code": code, "kind": "cold_chain", "industry": "logistics",
            "fence": {"polygon": [[SITE["lat_e7"], SITE["lon_e7"]], [SITE["lat_e7"] + 50_000, SITE["lon_e7"]],
                                  [SITE["lat_e7"], SITE["lon_e7"] + 50_000]]},
            "temperature_range": {"min_milli_c": 2_000, "max_milli_c": 8_000},
            "loans": [{"loan_id": f"{code}-L1", "borrower_id": "B1", "credit_line_minor": 100, "drawn_minor": 10}],
            **extra}


def test_registration_lands_on_chain_under_financier_and_gateway(make_service, device_key, consortium):
    service = make_service(start=False, admin_token="s3cret")
    registry = consortium.contract("CollateralRegistry")
    code, key = unique_code("REEFER"), device_key()
    with TestClient(create_app(service=service)) as client:
        auth = {"Authorization": "Bearer s3cret"}
        assert client.post("/iot/collaterals", json=spec(code)).status_code == 401
        created = client.post("/iot/collaterals", json=spec(code), headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["profile"] == "retail"
        assert client.post("/iot/collaterals", json=spec(code), headers=auth).status_code == 409
        bad = spec(unique_code(), fence={"polygon": [[0, 0], [1, 1]]})
        assert client.post("/iot/collaterals", json=bad, headers=auth).status_code == 422

        on_chain = registry.functions.collateral(collateral_id(code)).call()
        assert on_chain[0] == consortium.address("financier") and on_chain[3] == 1
        assert registry.functions.isLinked(collateral_id(code), asset_id(f"{code}-L1")).call()

        device = client.post(f"/iot/collaterals/{code}/devices", json={"address": address_of(key), "label": "reefer 7"},
                             headers=auth)
        assert device.status_code == 201, device.text
        gateway, chain_code, _registered, revoked_at = registry.functions.device(checksum(address_of(key))).call()
        assert (gateway, chain_code, revoked_at) == (consortium.address("iot-gateway"), collateral_id(code), 0)

        shown = client.get(f"/iot/collaterals/{code}").json()
        assert shown["loans"][0]["undrawn_minor"] == 90 and shown["devices"][0]["label"] == "reefer 7"
        assert client.post(f"/iot/devices/{address_of(key)}/revoke", headers=auth).status_code == 200
        assert not registry.functions.isActiveDevice(checksum(address_of(key))).call()
        assert client.post(f"/iot/devices/{address_of(key)}/revoke", headers=auth).status_code == 409
        assert client.get(f"/iot/devices/{address_of(key)}").json()["active"] is False


def test_residual_value_is_shown_per_collateral(make_service, consortium):
    service = make_service(start=False)
    code = unique_code("EXC")
    valuation = {"cost_minor": 1_000_000_00, "acquired_on": "2020-01-01", "meter_hours": 10_000, "failures": 2}
    with TestClient(create_app(service=service)) as client:
        client.post("/iot/collaterals", json=spec(code, kind="equipment", industry="construction",
                                                  valuation=valuation)).raise_for_status()
        value = client.get(f"/iot/collaterals/{code}/value").json()
        assert value["usage_factor_ppm"] == 500_000 and value["failures"] == 2
        assert value["governed_by"] in ("age", "usage") and 0 < value["value_minor"] < 500_000_00
        assert client.get(f"/iot/collaterals/{code}").json()["residual_value"]["value_minor"] == value["value_minor"]
