"""Post-issuance trigger rules (claim 7): declarative, checked once per monitoring cycle.

A rule is data (`TriggerRule`), so a product can carry its own set as JSON; `DEFAULT_RULES`
are the patent's. `evaluate(rules, facts)` is pure: it returns the rules that fire with
their evidence and the loans they concern; the shell records them, anchors
`evidence_json(firing)` (hashed with keccak there) and starts the remediation.

Kinds:

- ``level_share_above``: the share of the listed levels (by count or balance) is strictly
  above `threshold_ppm`, decided exactly as level_weight x 1e6 > threshold x total.
  Affected: the loans in the listed levels.
- ``bad_rate_above_expected``: the current weighted bad rate (ppm) is strictly above the
  pack's expected rate plus threshold_ppm, a materiality margin (0 by default: the patent's
  rule; a pack filtered to just under its target otherwise trips on ordinary drift). Affected: the loans in levels 1-3 (the riskiest), the ones a
  remediation would look at first.
- ``psi_above``: the score PSI is strictly above threshold_ppm / 1e6 (the float PSI is
  compared exactly, as a Fraction). Affected: the loans in levels 1-3, as above.
- ``iot_warning``: an IoT warning at or above `min_iot_level` on a collateral of a live
  asset of the pack. Affected: the warned loans.

Each rule fires at most once per call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from scoring.bad_rate import WeightBy
from scoring.errors import ScoringValueError
from scoring.grading import PPM
from scoring.iot.telemetry import Level

KINDS = ("level_share_above", "bad_rate_above_expected", "psi_above", "iot_warning")
RISKY_LEVELS = (1, 2, 3)
MAX_LEVEL = 10


class TriggerConfigError(ScoringValueError):
    """A trigger rule configuration that cannot be used; the message names the rule and field."""


def _check(rule_id: object, kind: object, threshold_ppm: object, levels: object, weight_by: object,
           min_iot_level: object) -> str | None:
    """The first problem of a rule as "field: message", or None."""
    if not isinstance(rule_id, str) or not rule_id.strip():
        return f"id: must be a non-empty string, got {rule_id!r}"
    if kind not in KINDS:
        return f"kind: {kind!r} is not one of {', '.join(KINDS)}"
    if isinstance(threshold_ppm, bool) or not isinstance(threshold_ppm, int) or not 0 <= threshold_ppm <= PPM:
        return f"threshold_ppm: must be an integer in 0..{PPM}, got {threshold_ppm!r}"
    if not isinstance(levels, (list, tuple)):
        return f"levels: must be a list of levels, got {levels!r}"
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
            return f"levels: {level!r} is not a level in 1..{MAX_LEVEL}"
    if len(set(levels)) != len(levels):
        return f"levels: {list(levels)} repeats a level"
    if kind == "level_share_above" and not levels:
        return "levels: a level_share_above rule needs at least one level"
    if weight_by not in ("count", "balance"):  # WeightBy members are str, so they pass too
        return f"weight_by: {weight_by!r} is not one of count, balance"
    if not isinstance(min_iot_level, str) or min_iot_level.strip().upper() not in Level.__members__:
        return f"min_iot_level: {min_iot_level!r} is not one of blue, yellow, red"
    return None


@dataclass(frozen=True)
class TriggerRule:
    """One declarative trigger; which fields matter depends on `kind` (see the module doc)."""

    id: str
    kind: str
    threshold_ppm: int = 0
    levels: tuple[int, ...] = ()
    weight_by: WeightBy = WeightBy.COUNT
    min_iot_level: str = "red"
    description: str = ""

    def __post_init__(self) -> None:
        levels = tuple(self.levels) if isinstance(self.levels, (list, tuple)) else self.levels
        problem = _check(self.id, self.kind, self.threshold_ppm, levels, self.weight_by, self.min_iot_level)
        if problem:
            raise TriggerConfigError(f"rule {self.id!r}: {problem}")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "weight_by", WeightBy(self.weight_by))
        object.__setattr__(self, "min_iot_level", self.min_iot_level.strip().lower())


DEFAULT_RULES: tuple[TriggerRule, ...] = (
    TriggerRule("risky_levels", "level_share_above", threshold_ppm=100_000, levels=RISKY_LEVELS,
                description="levels 1-3 hold more than 10% of the pack's assets"),
    TriggerRule("bad_rate", "bad_rate_above_expected", description="bad rate above the pack's expected bad rate"),
    TriggerRule("psi", "psi_above", threshold_ppm=250_000, description="score PSI above 0.25 (significant shift)"),
    TriggerRule("iot_red", "iot_warning", min_iot_level="red", description="a red IoT warning on a pledged collateral"),
)

_FIELDS = tuple(f.name for f in fields(TriggerRule))


def rules_from_config(data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> tuple[TriggerRule, ...]:
    """Rules from JSON-like data: a list of rule objects, or {"rules": [...]}."""
    items = data.get("rules") if isinstance(data, Mapping) else data
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TriggerConfigError("trigger configuration must be a list of rules or {\"rules\": [...]}")
    rules: list[TriggerRule] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"rule {index}" + (f" ({item.get('id')!r})" if isinstance(item, Mapping) and "id" in item else "")
        if not isinstance(item, Mapping):
            raise TriggerConfigError(f"{where}: must be an object, got {item!r}")
        unknown = sorted(set(item) - set(_FIELDS))
        if unknown:
            raise TriggerConfigError(f"{where}: {unknown[0]}: unknown field")
        if "id" not in item:
            raise TriggerConfigError(f"{where}: id: missing")
        if "kind" not in item:
            raise TriggerConfigError(f"{where}: kind: missing")
        values = {name: item[name] for name in _FIELDS if name in item}
        defaults = {f.name: f.default for f in fields(TriggerRule) if f.name not in ("id", "kind")}
        merged = {**defaults, **values}
        problem = _check(merged["id"], merged["kind"], merged["threshold_ppm"], merged["levels"],
                         merged["weight_by"], merged["min_iot_level"])
        if problem:
            raise TriggerConfigError(f"{where}: {problem}")
        if merged["id"] in seen:
            raise TriggerConfigError(f"{where}: id: duplicate of an earlier rule")
        seen.add(merged["id"])
        rules.append(TriggerRule(**{**merged, "levels": tuple(merged["levels"]), "description": str(merged["description"])}))
    return tuple(rules)


def rules_to_config(rules: Sequence[TriggerRule]) -> list[dict[str, Any]]:
    """JSON-ready rule objects; `rules_from_config` reads them back to equal rules."""
    return [
        {"id": r.id, "kind": r.kind, "threshold_ppm": r.threshold_ppm, "levels": list(r.levels),
         "weight_by": r.weight_by.value, "min_iot_level": r.min_iot_level, "description": r.description}
        for r in rules
    ]


@dataclass(frozen=True)
class AssetState:
    """A live asset of the product at its latest cycle."""

    loan_id: str
    borrower_id: str
    level: int
    balance_minor: int


@dataclass(frozen=True)
class CycleFacts:
    """What one monitoring cycle observed about one product."""

    product_id: int
    cycle: int
    assets: Sequence[AssetState]
    bad_rate_ppm: int
    expected_bad_rate_ppm: int
    psi: float
    iot_warnings: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Firing:
    """A rule that fired: JSON-serialisable evidence and the loans and borrowers it concerns (sorted)."""

    rule_id: str
    kind: str
    evidence: dict[str, Any]
    affected_loan_ids: tuple[str, ...]
    affected_borrower_ids: tuple[str, ...]


def _firing(rule: TriggerRule, evidence: dict[str, Any], affected: Sequence[AssetState]) -> Firing:
    return Firing(rule.id, rule.kind, evidence, tuple(sorted({a.loan_id for a in affected})),
                  tuple(sorted({a.borrower_id for a in affected})))


def _per_level(assets: Sequence[AssetState]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for asset in assets:
        row = table.setdefault(str(asset.level), {"count": 0, "balance_minor": 0})
        row["count"] += 1
        row["balance_minor"] += int(asset.balance_minor)
    return dict(sorted(table.items(), key=lambda item: int(item[0])))


def _level_share(rule: TriggerRule, facts: CycleFacts) -> Firing | None:
    def weight(asset: AssetState) -> int:
        return 1 if rule.weight_by is WeightBy.COUNT else int(asset.balance_minor)

    in_levels = [a for a in facts.assets if a.level in rule.levels]
    level_weight = sum(weight(a) for a in in_levels)
    total = sum(weight(a) for a in facts.assets)
    if not level_weight * PPM > rule.threshold_ppm * total:
        return None
    observed = (2 * level_weight * PPM + total) // (2 * total)  # ppm, rounded half up (display only)
    evidence = {"levels": list(rule.levels), "weight_by": rule.weight_by.value, "level_weight": level_weight,
                "total_weight": total, "observed_ppm": observed, "threshold_ppm": rule.threshold_ppm,
                "per_level": _per_level(facts.assets)}
    return _firing(rule, evidence, in_levels)


def _risky(facts: CycleFacts) -> list[AssetState]:
    return [a for a in facts.assets if a.level in RISKY_LEVELS]


def _bad_rate(rule: TriggerRule, facts: CycleFacts) -> Firing | None:
    # threshold_ppm is a materiality margin above the expected rate (0, the patent's rule, by default).
    if not facts.bad_rate_ppm > facts.expected_bad_rate_ppm + rule.threshold_ppm:
        return None
    evidence = {"bad_rate_ppm": int(facts.bad_rate_ppm), "expected_bad_rate_ppm": int(facts.expected_bad_rate_ppm),
                "margin_ppm": int(rule.threshold_ppm), "per_level": _per_level(facts.assets)}
    return _firing(rule, evidence, _risky(facts))


def _psi(rule: TriggerRule, facts: CycleFacts) -> Firing | None:
    if math.isnan(facts.psi) or facts.psi < 0:
        raise ScoringValueError(f"a PSI is a non-negative number, got {facts.psi!r}")
    if math.isfinite(facts.psi) and not Fraction(facts.psi) * PPM > rule.threshold_ppm:
        return None
    evidence = {"psi": float(facts.psi) if math.isfinite(facts.psi) else None, "threshold_ppm": rule.threshold_ppm, "per_level": _per_level(facts.assets)}
    return _firing(rule, evidence, _risky(facts))


def _level_of(warning: Mapping[str, Any]) -> Level:
    level = warning.get("level")
    if isinstance(level, str):
        return Level.from_name(level)
    try:
        return Level(level)
    except ValueError:
        raise ScoringValueError(f"warning {warning.get('warning_id')!r} has no valid level: {level!r}") from None


def _iot(rule: TriggerRule, facts: CycleFacts) -> Firing | None:
    live = {a.loan_id: a for a in facts.assets}
    minimum = Level.from_name(rule.min_iot_level)
    hits = [w for w in facts.iot_warnings if w.get("loan_id") in live and _level_of(w) >= minimum]
    if not hits:
        return None
    warnings = sorted(
        ({"warning_id": w.get("warning_id"), "loan_id": str(w["loan_id"]), "level": _level_of(w).name.lower(),
          "rule": str(w.get("rule", ""))} for w in hits),
        key=lambda w: (str(w["warning_id"]), w["loan_id"]),
    )
    evidence = {"min_iot_level": rule.min_iot_level, "warnings": warnings}
    return _firing(rule, evidence, [live[w["loan_id"]] for w in hits])


_EVALUATORS = {"level_share_above": _level_share, "bad_rate_above_expected": _bad_rate, "psi_above": _psi,
               "iot_warning": _iot}


def evaluate(rules: Sequence[TriggerRule], facts: CycleFacts) -> list[Firing]:
    """The rules that fire on this cycle's facts, in rule order, each at most once."""
    firings = []
    for rule in rules:
        firing = _EVALUATORS[rule.kind](rule, facts)
        if firing is not None:
            firings.append(firing)
    return firings


def evidence_json(firing: Firing) -> bytes:
    """Canonical JSON of a firing (sorted keys, no whitespace, no NaN), the bytes the shell hashes."""
    document = {"rule_id": firing.rule_id, "kind": firing.kind, "evidence": firing.evidence,
                "affected_loan_ids": list(firing.affected_loan_ids),
                "affected_borrower_ids": list(firing.affected_borrower_ids)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
