"""How well a model ranks and how well its PDs match outcomes.

Stratified K-fold cross-validation (seed 001: K-fold and ROC) refits a clone of the
estimator on each training fold, binning included, and scores the held-out fold:
no held-out row ever informs the model that scores it. Reported per fold and as a
mean: AUC, KS, Gini (= 2 AUC - 1) and Brier score, plus a decile calibration table
over the pooled out-of-fold predictions (mean predicted PD against observed rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

from scoring.errors import ScoringValueError


def ks_statistic(y: np.ndarray, pd_: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the bad and good cumulative distributions."""
    false_positive, true_positive, _ = roc_curve(y, pd_)
    return float(np.max(true_positive - false_positive))


def evaluate_predictions(y: np.ndarray, pd_: np.ndarray) -> dict[str, float]:
    y = np.asarray(y)
    if np.unique(y).size < 2:
        raise ScoringValueError("evaluation needs both defaulted and good loans")
    auc = float(roc_auc_score(y, pd_))
    return {"auc": auc, "ks": ks_statistic(y, pd_), "gini": 2 * auc - 1, "brier": float(brier_score_loss(y, pd_)),
            "n": int(y.size), "bad_rate": float(y.mean())}


def calibration_table(y: np.ndarray, pd_: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-count bins of predicted PD (deciles by default): predicted mean against observed rate.

    Ties in predicted PD (integer scores make many) stay in one bin, so a table may
    have fewer than `bins` rows.
    """
    frame = pd.DataFrame({"predicted": np.asarray(pd_, dtype=float), "observed": np.asarray(y, dtype=float)})
    ranks = frame["predicted"].rank(method="min") - 1
    frame["bin"] = np.floor(ranks / len(frame) * bins).astype(int)
    table = frame.groupby("bin").agg(count=("observed", "size"), predicted=("predicted", "mean"),
                                     observed=("observed", "mean"))
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class CrossValidation:
    folds: tuple[dict[str, float], ...]
    out_of_fold: np.ndarray  # predicted PD of every row, from the fold that held it out
    calibration: pd.DataFrame

    def mean(self, metric: str) -> float:
        return float(np.mean([fold[metric] for fold in self.folds]))

    def std(self, metric: str) -> float:
        return float(np.std([fold[metric] for fold in self.folds]))

    def summary(self) -> dict[str, float]:
        return {f"cv_{m}": self.mean(m) for m in ("auc", "ks", "gini", "brier")} | {"cv_auc_std": self.std("auc")}


def cross_validate(estimator: object, X: pd.DataFrame, y: np.ndarray, folds: int = 5, seed: int = 0) -> CrossValidation:
    """Stratified K-fold with shuffling by `seed`; every fold refits a fresh clone."""
    y = np.asarray(y)
    if folds < 2:
        raise ScoringValueError("cross-validation needs at least 2 folds")
    if np.bincount(y.astype(int), minlength=2).min() < folds:
        raise ScoringValueError(f"each class needs at least {folds} rows for {folds}-fold cross-validation")
    out_of_fold = np.empty(len(y), dtype=float)
    results = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = clone(estimator).fit(X.iloc[train], y[train])
        predicted = model.predict_proba(X.iloc[test])[:, 1]
        out_of_fold[test] = predicted
        results.append(evaluate_predictions(y[test], predicted))
    return CrossValidation(tuple(results), out_of_fold, calibration_table(y, out_of_fold))
