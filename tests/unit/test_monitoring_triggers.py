"""Trigger rules: the patent's defaults, strict thresholds in exact arithmetic, evidence, config checks."""

from __future__ import annotations

import json

import pytest

from scoring.bad_rate import WeightBy
from scoring.errors import ScoringError
from scoring.monitoring.triggers import (
    DEFAULT_RULES,
    AssetState,
    CycleFacts,
    TriggerConfigError,
    TriggerRule,
    evaluate,
    evidence_json,
    rules_from_config,
    rules_to_config,
)

RISKY, BAD_RATE, PSI, IOT_RED = DEFAULT_RULES


def pack(risky: int, safe: int, *, risky_balance: int = 100, safe_balance: int = 100) -> list[AssetState]:
    """`risky` loans in levels 1-3 (cycling), `safe` loans in level 7; loans 0 and 1 share a borrower."""
    assets = [AssetState(f"L{i:03}", f"B{max(i, 1):03}", 1 + i % 3, risky_balance) for i in range(risky)]
    assets += [AssetState(f"L{risky + i:03}", f"B{risky + i:03}", 7, safe_balance) for i in range(safe)]
    return assets


def facts(assets, *, bad_rate_ppm=50_000, expected=60_000, psi=0.05, warnings=()) -> CycleFacts:
    return CycleFacts(product_id=7, cycle=3, assets=assets, bad_rate_ppm=bad_rate_ppm, expected_bad_rate_ppm=expected,
                      psi=psi, iot_warnings=warnings)


def test_default_rules_are_the_patents() -> None:
    assert [r.id for r in DEFAULT_RULES] == ["risky_levels", "bad_rate", "psi", "iot_red"]
    assert (RISKY.levels, RISKY.threshold_ppm, RISKY.weight_by) == ((1, 2, 3), 100_000, WeightBy.COUNT)
    assert PSI.threshold_ppm == 250_000 and IOT_RED.min_iot_level == "red"


def test_risky_share_fires_only_strictly_above_ten_percent() -> None:
    assert evaluate([RISKY], facts(pack(10, 90))) == []  # exactly 10%: not above
    (firing,) = evaluate([RISKY], facts(pack(11, 89)))
    assert firing.rule_id == "risky_levels" and firing.kind == "level_share_above"
    assert firing.evidence["observed_ppm"] == 110_000 and firing.evidence["threshold_ppm"] == 100_000
    assert firing.evidence["per_level"]["1"] == {"count": 4, "balance_minor": 400}
    assert firing.affected_loan_ids == tuple(f"L{i:03}" for i in range(11))
    assert firing.affected_borrower_ids == tuple(f"B{i:03}" for i in range(1, 11))  # B001 holds two loans


def test_by_balance_a_few_large_risky_loans_fire_where_the_count_does_not() -> None:
    assets = pack(5, 95, risky_balance=1_000, safe_balance=100)  # 5% of loans, 5000/14500 = 34% of balance
    by_balance = TriggerRule("risky_balance", "level_share_above", 100_000, (1, 2, 3), WeightBy.BALANCE)
    assert evaluate([RISKY], facts(assets)) == []
    (firing,) = evaluate([by_balance], facts(assets))
    assert firing.evidence["level_weight"] == 5_000 and firing.evidence["total_weight"] == 14_500


def test_bad_rate_fires_only_above_the_expected_rate_and_names_the_risky_loans() -> None:
    assets = pack(3, 7)
    assert evaluate([BAD_RATE], facts(assets, bad_rate_ppm=60_000, expected=60_000)) == []
    (firing,) = evaluate([BAD_RATE], facts(assets, bad_rate_ppm=60_001, expected=60_000))
    assert firing.affected_loan_ids == ("L000", "L001", "L002")
    assert firing.evidence["bad_rate_ppm"] == 60_001


def test_a_bad_rate_margin_fires_only_beyond_expected_plus_margin() -> None:
    margin = TriggerRule("bad_rate_material", "bad_rate_above_expected", threshold_ppm=2_000)
    assets = pack(3, 7)
    assert evaluate([margin], facts(assets, bad_rate_ppm=62_000, expected=60_000)) == []
    (firing,) = evaluate([margin], facts(assets, bad_rate_ppm=62_001, expected=60_000))
    assert firing.evidence["margin_ppm"] == 2_000


def test_psi_fires_strictly_above_a_quarter() -> None:
    assert evaluate([PSI], facts(pack(1, 9), psi=0.25)) == []
    (firing,) = evaluate([PSI], facts(pack(1, 9), psi=0.2500001))
    assert firing.evidence["psi"] == 0.2500001 and firing.affected_loan_ids == ("L000",)


def test_iot_warnings_fire_once_for_red_warnings_on_live_assets_only() -> None:
    assets = pack(1, 20)  # 1 of 21 in levels 1-3: only the IoT rule can fire
    warnings = [
        {"warning_id": 2, "loan_id": "L004", "level": "red", "rule": "geofence"},
        {"warning_id": 1, "loan_id": "L003", "level": "red", "rule": "downtime"},
        {"warning_id": 3, "loan_id": "L002", "level": "yellow", "rule": "temperature"},
        {"warning_id": 4, "loan_id": "GONE", "level": "red", "rule": "geofence"},
    ]
    (firing,) = evaluate(DEFAULT_RULES, facts(assets, warnings=warnings))
    assert firing.rule_id == "iot_red"
    assert [w["warning_id"] for w in firing.evidence["warnings"]] == [1, 2]
    assert firing.affected_loan_ids == ("L003", "L004")
    yellow = TriggerRule("iot_yellow", "iot_warning", min_iot_level="yellow")
    assert evaluate([yellow], facts(assets, warnings=warnings))[0].affected_loan_ids == ("L002", "L003", "L004")


def test_all_rules_firing_together_keep_rule_order() -> None:
    firings = evaluate(DEFAULT_RULES, facts(pack(50, 50), bad_rate_ppm=90_000, psi=0.4,
                                            warnings=[{"warning_id": 1, "loan_id": "L000", "level": "red", "rule": "x"}]))
    assert [f.rule_id for f in firings] == ["risky_levels", "bad_rate", "psi", "iot_red"]


def test_evidence_json_is_canonical() -> None:
    (firing,) = evaluate([RISKY], facts(pack(11, 89)))
    encoded = evidence_json(firing)
    assert encoded == evidence_json(firing) and b" " not in encoded
    document = json.loads(encoded)
    assert list(document) == sorted(document) and document["affected_loan_ids"][0] == "L000"
    assert json.dumps(document, sort_keys=True, separators=(",", ":")).encode() == encoded


def test_config_round_trip() -> None:
    config = rules_to_config(DEFAULT_RULES)
    assert json.loads(json.dumps(config)) == config
    assert rules_from_config(config) == DEFAULT_RULES
    assert rules_from_config({"rules": config}) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "moon_phase"}, r"rule 1 \('bad_rate'\): kind"),
        ({"id": None}, r"rule 1 \(None\): id"),
        ({"id": "risky_levels"}, r"rule 1 \('risky_levels'\): id: duplicate"),
        ({"threshold_ppm": 1_000_001}, r"rule 1 \('bad_rate'\): threshold_ppm"),
        ({"levels": [2, 11]}, r"rule 1 \('bad_rate'\): levels: 11"),
        ({"weight_by": "value"}, r"rule 1 \('bad_rate'\): weight_by"),
        ({"min_iot_level": "purple"}, r"rule 1 \('bad_rate'\): min_iot_level"),
        ({"treshold": 5}, r"rule 1 \('bad_rate'\): treshold: unknown field"),
    ],
)
def test_config_errors_name_the_rule_and_the_field(change, message) -> None:
    config = rules_to_config(DEFAULT_RULES)
    config[1].update(change)
    with pytest.raises(TriggerConfigError, match=message) as raised:
        rules_from_config(config)
    assert isinstance(raised.value, ScoringError) and isinstance(raised.value, ValueError)


def test_a_missing_id_and_a_level_share_rule_without_levels_are_refused() -> None:
    with pytest.raises(TriggerConfigError, match=r"rule 0: id: missing"):
        rules_from_config([{"kind": "psi_above"}])
    with pytest.raises(TriggerConfigError, match=r"rule 0 \('x'\): levels"):
        rules_from_config([{"id": "x", "kind": "level_share_above", "threshold_ppm": 5}])
