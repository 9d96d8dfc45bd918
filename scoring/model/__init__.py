"""Credit risk models: the integer-points scorecard (champion), the boosted challenger,
their evaluation, score scaling, reason codes, saved artifacts and the training report."""

from scoring.model.artifact import (
    ArtifactError, ModelIdentity, load_challenger, load_scorecard, read_identity, read_level_table, read_registration,
    save_challenger, save_scorecard,
)
from scoring.model.batch import ScoredBatch, score_assets
from scoring.model.challenger import Challenger
from scoring.model.evaluation import CrossValidation, calibration_table, cross_validate, evaluate_predictions, ks_statistic
from scoring.model.points import FeaturePoints, PointsTable
from scoring.model.reasons import NO_REASON, reason_codes, reason_names
from scoring.model.scale import MAX_SCORE, MIN_SCORE, ScoreScale
from scoring.model.scorecard import Scorecard
from scoring.model.train import TrainingResult, train_and_report

__all__ = [
    "MAX_SCORE", "MIN_SCORE", "NO_REASON",
    "ArtifactError", "Challenger", "CrossValidation", "FeaturePoints", "ModelIdentity", "PointsTable",
    "ScoreScale", "ScoredBatch", "Scorecard", "TrainingResult",
    "calibration_table", "cross_validate", "evaluate_predictions", "ks_statistic", "load_challenger",
    "load_scorecard", "read_identity", "read_level_table", "read_registration", "reason_codes", "reason_names",
    "save_challenger", "save_scorecard", "score_assets", "train_and_report",
]
