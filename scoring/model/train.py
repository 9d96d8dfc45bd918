"""Train both models on a labelled CSV, evaluate them, save them, and write the report.

This is what `absctl model train --data CSV --target COL [--mapping FILE]
[--target-bad-value LABEL] [--test-data CSV] [--edges E1,...,E10] --out DIR` runs. In `out_dir`:

    metrics.json              per model: cv_auc, cv_ks, cv_gini, cv_brier, cv_auc_std,
                              test_auc / test_ks / test_brier (with --test-data), model_hash
    scorecard/                scorecard.json, registration.json
    challenger/               challenger.json, challenger.joblib, registration.json
    calibration.png|svg       out-of-fold decile calibration of both models
    level_table.png|svg       each model's level table on the training history
    report.md                 the above in words

Labels like good/bad: `target_bad_value="bad"` (or a mapping's `target_values`).
The German credit CSV trains with `target="creditability", target_bad_value="bad"`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import clone

from scoring.data.csv_loader import CreditDataError, LabelledData, load_labelled_csv
from scoring.grading import DEFAULT_EDGES, LevelEdges, level_table_from_history
from scoring.model.artifact import ModelIdentity, save_challenger, save_scorecard
from scoring.model.challenger import Challenger
from scoring.model.evaluation import calibration_table, cross_validate, evaluate_predictions
from scoring.model.report import plot_calibration, plot_level_tables, write_markdown, write_metrics
from scoring.model.scorecard import Scorecard


@dataclass(frozen=True)
class TrainingResult:
    out_dir: Path
    metrics: dict
    identities: dict[str, ModelIdentity]
    scorecard: Scorecard
    challenger: Challenger
    level_tables: dict[str, list[dict]]


def _test_metrics(model: Scorecard | Challenger, test: LabelledData) -> dict[str, float]:
    measured = evaluate_predictions(test.target, model.predict_proba(test.features)[:, 1])
    return {f"test_{k}": v for k, v in measured.items() if k in ("auc", "ks", "gini", "brier")}


TRAINING_STEPS = ("load data", "cross-validate scorecard", "cross-validate challenger", "fit final models",
                  "save models", "write report")


def train_and_report(data_csv: str | Path, target: str, mapping: str | Path | dict | None = None,
                     test_data: str | Path | None = None, *, out_dir: str | Path, seed: int = 0, folds: int = 5,
                     target_bad_value: str | None = None, edges: LevelEdges = DEFAULT_EDGES,
                     progress: Callable[[str], None] | None = None) -> TrainingResult:
    """Cross-validate, fit on all of `data_csv`, optionally test on `test_data`, save and report.

    `edges` are the score segments of the level tables. `progress`, if given, is called with
    each name of `TRAINING_STEPS` as that step starts.
    """
    step = progress or (lambda _name: None)
    step(TRAINING_STEPS[0])
    data = load_labelled_csv(data_csv, target, mapping, target_bad_value)
    test = load_labelled_csv(test_data, target, mapping, target_bad_value) if test_data is not None else None
    if test is not None:
        missing = [c for c in data.features.columns if c not in test.features.columns]
        if missing:
            raise CreditDataError(f"test data lacks the training columns {missing}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = data.features, data.target

    scorecard_template = Scorecard(categorical_features=data.categorical)
    challenger_template = Challenger(categorical_features=data.categorical, random_state=seed)
    step(TRAINING_STEPS[1])
    scorecard_validation = cross_validate(scorecard_template, X, y, folds=folds, seed=seed)
    step(TRAINING_STEPS[2])
    validations = {
        "scorecard": scorecard_validation,
        "challenger": cross_validate(challenger_template, X, y, folds=folds, seed=seed),
    }

    step(TRAINING_STEPS[3])
    scorecard = clone(scorecard_template).fit(X, y)
    # The challenger scores on the scorecard's scale, so a score means the same odds in both.
    challenger = clone(challenger_template).set_params(scale=scorecard.scale_).fit(X, y)
    models = {"scorecard": scorecard, "challenger": challenger}
    level_tables = {name: level_table_from_history(model.predict_score(X), y, edges).rows()
                    for name, model in models.items()}

    metrics: dict = {"data": {"rows": int(len(y)), "bad_rate": float(np.mean(y)), "features": int(X.shape[1]),
                              "folds": folds, "seed": seed, "source": str(data_csv)}}
    step(TRAINING_STEPS[4])
    identities = {}
    for name, model in models.items():
        measured = validations[name].summary()
        if test is not None:
            measured |= _test_metrics(model, test)
        save = save_scorecard if name == "scorecard" else save_challenger
        identities[name] = save(model, out / name, level_tables[name], measured)
        metrics[name] = measured | identities[name].to_dict()
        if test is not None:
            metrics[name]["test_calibration"] = calibration_table(
                test.target, model.predict_proba(test.features)[:, 1]).to_dict(orient="records")
    metrics["scorecard"]["features_used"] = list(scorecard.selected_features_)

    step(TRAINING_STEPS[5])
    write_metrics(out, metrics)
    calibrations = {name: v.calibration for name, v in validations.items()}
    plot_calibration(out, calibrations, f"Out-of-fold calibration ({folds}-fold CV)")
    plot_level_tables(out, level_tables)
    write_markdown(out, metrics, level_tables)
    return TrainingResult(out, metrics, identities, scorecard, challenger, level_tables)
