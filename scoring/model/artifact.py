"""Saving fitted models, and the content hash that is a model's identity on chain.

A scorecard is saved as one JSON document (`scorecard.json`): its points table,
score scale, score-to-PD table, level table and feature list. Everything needed to
score is in it, so a loaded scorecard scores exactly as the fitted one did, without
optbinning. The challenger's trees are pickled by joblib (`challenger.joblib`) next
to a JSON document that records the pickle's sha256, its features and its scale.

Identity: `model_hash` = sha256 over the canonical bytes of the model's JSON
document (keys sorted, no whitespace, UTF-8, no NaN); for the challenger that
document includes the pickle's digest, so changing either changes the hash.
`feature_schema_hash` = sha256 over the canonical bytes of the ordered list of
input features and their kinds: two models with the same schema hash read the
same inputs. Both are 0x-prefixed hex, ready to be bytes32 on chain.

Metrics are not part of the identity (they describe an evaluation, not the model);
`registration.json` carries identity, level table and metrics together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from scoring.errors import ScoringError
from scoring.grading import LevelEdges, LevelTable
from scoring.model.challenger import Challenger
from scoring.model.points import PointsTable
from scoring.model.scale import ScoreScale
from scoring.model.scorecard import Scorecard

SCORECARD_FORMAT = "abs-scorecard/1"
CHALLENGER_FORMAT = "abs-challenger/1"


class ArtifactError(ScoringError):
    """A saved model that is missing, unreadable or does not match its recorded digest."""


def canonical_bytes(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256_hex(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    model_hash: str
    feature_schema_hash: str

    def to_dict(self) -> dict:
        return {"name": self.name, "model_hash": self.model_hash, "feature_schema_hash": self.feature_schema_hash}


def _schema_hash(features: list[dict]) -> str:
    return sha256_hex(canonical_bytes([{"name": f["name"], "kind": f["kind"]} for f in features]))


def scorecard_document(model: Scorecard, level_table: list[dict] | None = None) -> dict:
    table = model.points_table_
    return {
        "format": SCORECARD_FORMAT,
        "features": [{"name": f.feature, "kind": f.kind} for f in table.features],
        "points_table": table.to_dict(),
        "scale": model.scale_.to_dict(),
        "pd_by_score": [float(p) for p in model.pd_by_score_],
        "level_table": level_table or [],
        "params": {k: v for k, v in model.get_params().items() if k != "scale"},
        "information_value": model.information_value_,
        "dropped_features": model.dropped_features_,
    }


def challenger_document(model: Challenger, pickle_digest: str, level_table: list[dict] | None = None) -> dict:
    features = [{"name": str(n), "kind": "categorical" if n in model.categories_ else "numeric"}
                for n in model.features_]
    return {
        "format": CHALLENGER_FORMAT,
        "features": features,
        "categories": model.categories_,
        "monotonic_cst": model.monotonic_cst_,
        "scale": model.scale_.to_dict(),
        "estimator_sha256": pickle_digest,
        "level_table": level_table or [],
    }


def _write(directory: Path, name: str, document: dict, metrics: dict | None) -> ModelIdentity:
    identity = ModelIdentity(name, sha256_hex(canonical_bytes(document)), _schema_hash(document["features"]))
    (directory / f"{name}.json").write_text(json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n")
    registration = identity.to_dict() | {"level_table": document["level_table"], "metrics": metrics or {}}
    (directory / "registration.json").write_text(json.dumps(registration, indent=1, sort_keys=True) + "\n")
    return identity


def save_scorecard(model: Scorecard, directory: str | Path, level_table: list[dict] | None = None,
                   metrics: dict | None = None) -> ModelIdentity:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return _write(directory, "scorecard", scorecard_document(model, level_table), metrics)


def save_challenger(model: Challenger, directory: str | Path, level_table: list[dict] | None = None,
                    metrics: dict | None = None) -> ModelIdentity:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pickle_path = directory / "challenger.joblib"
    joblib.dump(model, pickle_path)
    digest = sha256_hex(pickle_path.read_bytes())
    return _write(directory, "challenger", challenger_document(model, digest, level_table), metrics)


def _read_document(path: Path, expected_format: str) -> dict:
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"cannot read model document {path}: {exc}") from exc
    if document.get("format") != expected_format:
        raise ArtifactError(f"{path} is not a {expected_format} document")
    return document


def load_scorecard(directory: str | Path) -> Scorecard:
    """A scorecard that scores exactly as the saved one (it has no optbinning objects)."""
    document = _read_document(Path(directory) / "scorecard.json", SCORECARD_FORMAT)
    model = Scorecard(**document["params"], scale=ScoreScale.from_dict(document["scale"]))
    model.points_table_ = PointsTable.from_dict(document["points_table"])
    model.scale_ = model.scale
    model.pd_by_score_ = np.asarray(document["pd_by_score"], dtype=float)
    model.selected_features_ = model.points_table_.feature_names
    model.feature_names_in_ = np.asarray(model.selected_features_, dtype=object)
    model.n_features_in_ = len(model.selected_features_)
    model.classes_ = np.array([0, 1])
    model.information_value_ = document["information_value"]
    model.dropped_features_ = document["dropped_features"]
    return model


def load_challenger(directory: str | Path) -> Challenger:
    directory = Path(directory)
    document = _read_document(directory / "challenger.json", CHALLENGER_FORMAT)
    pickle_path = directory / "challenger.joblib"
    if not pickle_path.exists() or sha256_hex(pickle_path.read_bytes()) != document["estimator_sha256"]:
        raise ArtifactError(f"{pickle_path} is missing or does not match the digest in challenger.json")
    model = joblib.load(pickle_path)
    if not isinstance(model, Challenger):
        raise ArtifactError(f"{pickle_path} does not hold a Challenger")
    return model


def read_identity(directory: str | Path) -> ModelIdentity:
    """Recompute a saved model's identity from its files (what an auditor would do)."""
    directory = Path(directory)
    for name, fmt in (("scorecard", SCORECARD_FORMAT), ("challenger", CHALLENGER_FORMAT)):
        path = directory / f"{name}.json"
        if path.exists():
            document = _read_document(path, fmt)
            return ModelIdentity(name, sha256_hex(canonical_bytes(document)), _schema_hash(document["features"]))
    raise ArtifactError(f"{directory} holds no saved model")


def read_registration(directory: str | Path) -> dict:
    """Identity, level table (score edges, bad rates in ppm) and metrics, for the on-chain registry."""
    path = Path(directory) / "registration.json"
    try:
        registration = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"cannot read {path}: {exc}") from exc
    recomputed = read_identity(directory)
    if registration.get("model_hash") != recomputed.model_hash:
        raise ArtifactError(f"{path} names model {registration.get('model_hash')} but the files hash to "
                            f"{recomputed.model_hash}")
    return registration



def read_level_table(directory: str | Path) -> LevelTable:
    """The registered level table of a saved model, as `scoring.grading` uses it for packs."""
    rows = read_registration(directory)["level_table"]
    if not rows:
        raise ArtifactError(f"{directory} was saved without a level table")
    return LevelTable(
        edges=LevelEdges(tuple(int(r["max_score"]) for r in rows)),
        bad_rate_ppm=tuple(r["bad_rate_ppm"] for r in rows),
        historical_total=tuple(int(r["count"]) for r in rows),
        historical_defaults=tuple(int(r["defaults"]) for r in rows),
    )
