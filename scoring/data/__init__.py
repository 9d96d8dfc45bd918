"""Credit data: the record schema, a synthetic population, and loaders for labelled files."""

from scoring.data.csv_loader import CreditDataError, LabelledData, frame_to_labelled, load_labelled_csv
from scoring.data.german import GERMAN_CREDIT_MAPPING, load_german_credit
from scoring.data.schema import ASSET, CREDIT_FEATURES, CREDIT_RECORD, LOAN, TARGET, FieldSpec, FieldViolation, RecordSchema
from scoring.data.synthetic import DriftShock, generate_history, generate_pack

__all__ = [
    "ASSET", "CREDIT_FEATURES", "CREDIT_RECORD", "LOAN", "TARGET",
    "CreditDataError", "DriftShock", "FieldSpec", "FieldViolation", "GERMAN_CREDIT_MAPPING",
    "LabelledData", "RecordSchema", "frame_to_labelled", "generate_history", "generate_pack",
    "load_german_credit", "load_labelled_csv",
]
