"""Load any labelled credit CSV: one 0/1 default column, every other column a feature.

A feature's kind is inferred: columns pandas reads as numbers are numeric, the rest
categorical. An optional mapping (a JSON file or a dict) refines this:

    {
      "columns": {"age_in_years": "age_years", "credit_amount": "principal_minor"},
      "scale": {"credit_amount": 100},
      "target_values": {"bad": 1, "good": 0},
      "ignore": ["application_id"],
      "categorical": ["branch_code"]
    }

- `columns` renames a column to a schema field; the field's spec then decides its kind,
  bounds and risk direction (used for monotonic constraints). Identifier and date
  fields (`loan_id`, `record_date`, ...) are kept out of the features.
- `scale` multiplies a numeric column before checks (major to minor currency units).
- `target_values` maps labels of the target column to 0/1 (e.g. creditability good/bad).
- `ignore` drops columns; `categorical` forces numeric-looking codes to be categories.

Errors name the column and the row: `row` is the 0-based data row, `line` the line
in the file (the header is line 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.data.schema import ASSET, FieldSpec, column_violations
from scoring.errors import ScoringValueError

_MAPPING_KEYS = frozenset({"columns", "scale", "target_values", "ignore", "categorical"})


class CreditDataError(ScoringValueError):
    """A labelled credit file that cannot be used, located by column and row where possible."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None) -> None:
        self.column = column
        self.row = row
        self.line = None if row is None else row + 2
        where = []
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"line {self.line} (data row {row})")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class LabelledData:
    """Features and 0/1 outcomes (1 = defaulted/bad) ready for a model."""

    features: pd.DataFrame
    target: np.ndarray
    categorical: tuple[str, ...]
    #: +1 / -1 where a mapped schema field says how the feature moves risk, else absent.
    risk_directions: dict[str, int] = field(default_factory=dict)
    #: feature name -> column name in the source file.
    source_columns: dict[str, str] = field(default_factory=dict)

    @property
    def bad_rate(self) -> float:
        return float(self.target.mean())


def read_mapping(mapping: str | Path | dict | None) -> dict:
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        loaded = mapping
    else:
        try:
            loaded = json.loads(Path(mapping).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CreditDataError(f"cannot read mapping file {mapping}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise CreditDataError("a mapping must be a JSON object")
    unknown = set(loaded) - _MAPPING_KEYS
    if unknown:
        raise CreditDataError(f"unknown mapping keys {sorted(unknown)}; expected some of {sorted(_MAPPING_KEYS)}")
    return loaded


def encode_target(values: pd.Series, column: str, target_values: dict | None = None) -> np.ndarray:
    """0/1 outcomes from a target column, refusing anything else with its row."""
    missing = values.isna().to_numpy()
    if missing.any():
        raise CreditDataError("target value is missing", column=column, row=int(np.flatnonzero(missing)[0]))
    if target_values:
        labels = values.astype(str).str.strip()
        wanted = {str(k).strip(): int(v) for k, v in target_values.items()}
        if set(wanted.values()) - {0, 1}:
            raise CreditDataError(f"target_values must map labels to 0 or 1, got {target_values}", column=column)
        unknown = ~labels.isin(list(wanted)).to_numpy()
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise CreditDataError(f"target value {values.iloc[row]!r} is not one of {sorted(wanted)}", column=column, row=row)
        return labels.map(wanted).to_numpy(dtype=np.int8)
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CreditDataError(
            f"target value {values.iloc[row]!r} is not 0 or 1 (give target_values or a bad value to map labels)",
            column=column, row=row,
        )
    return numeric.astype(np.int8)


def _mapped_feature(column: pd.Series, spec: FieldSpec, source: str) -> pd.Series:
    if spec.is_numeric:
        converted = pd.to_numeric(column, errors="coerce")
    else:
        converted = column.astype("str").where(column.notna()).astype("category")
    # Training features may be missing; only type and bounds are checked here.
    loose = FieldSpec(spec.name, spec.kind, spec.unit, spec.description, False, spec.lower, spec.upper, spec.categories)
    problems = column_violations(loose, column if spec.is_numeric else converted, limit=1)
    if problems:
        raise CreditDataError(problems[0].message, column=source, row=problems[0].row)
    return converted


def frame_to_labelled(frame: pd.DataFrame, target: str, mapping: str | Path | dict | None = None,
                      target_bad_value: str | None = None) -> LabelledData:
    """The in-memory half of `load_labelled_csv`, for frames that did not come from a file."""
    spec = read_mapping(mapping)
    if frame.shape[0] == 0:
        raise CreditDataError("the file has a header but no data rows")
    if target not in frame.columns:
        raise CreditDataError(f"target column is missing; columns are {list(frame.columns)}", column=target)
    target_values = spec.get("target_values")
    if target_bad_value is not None:
        labels = frame[target].dropna().astype(str).str.strip().unique().tolist()
        if str(target_bad_value) not in labels or len(labels) != 2:
            raise CreditDataError(f"bad value {target_bad_value!r} needs exactly two labels, found {sorted(labels)}", column=target)
        target_values = {label: int(label == str(target_bad_value)) for label in labels}
    y = encode_target(frame[target], target, target_values)

    renames: dict[str, str] = spec.get("columns", {})
    for source, name in renames.items():
        if source not in frame.columns:
            raise CreditDataError("mapped column is not in the file", column=source)
        if name not in ASSET:
            raise CreditDataError(f"mapped to unknown schema field {name!r}", column=source)
    if len(set(renames.values())) != len(renames):
        raise CreditDataError("two columns are mapped to the same schema field")
    ignored = set(spec.get("ignore", []))
    forced_categorical = set(spec.get("categorical", []))
    scale: dict[str, float] = spec.get("scale", {})

    features: dict[str, pd.Series] = {}
    categorical: list[str] = []
    directions: dict[str, int] = {}
    sources: dict[str, str] = {}
    for source in frame.columns:
        if source == target or source in ignored:
            continue
        column = frame[source]
        if source in scale:
            column = pd.to_numeric(column, errors="coerce") * scale[source]
        name = renames.get(source, source)
        if source in renames:
            field_spec = ASSET.field(name)
            if field_spec.kind not in ("integer", "decimal", "category"):
                continue  # identifiers and dates describe the loan, they are not evidence of risk
            values = _mapped_feature(column, field_spec, source)
            is_categorical = not field_spec.is_numeric
            if field_spec.risk_direction:
                directions[name] = field_spec.risk_direction
        elif source in forced_categorical or not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            values = column.astype("str").where(column.notna()).astype("category")
            is_categorical = True
        else:
            values = column.astype(float) if pd.api.types.is_integer_dtype(column) and column.isna().any() else column
            is_categorical = False
        features[name] = values
        sources[name] = source
        if is_categorical:
            categorical.append(name)
    if not features:
        raise CreditDataError("no feature columns besides the target")
    return LabelledData(pd.DataFrame(features), y, tuple(categorical), directions, sources)


def load_labelled_csv(path: str | Path, target: str, mapping: str | Path | dict | None = None,
                      target_bad_value: str | None = None) -> LabelledData:
    """Read a labelled credit CSV. `target` names the default column (1 = bad).

    `target_bad_value` maps a two-label target (e.g. "bad"/"good") to 1 for that label
    and 0 for the other; a mapping's `target_values` does the same for any labels.
    """
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise CreditDataError(f"{path} is empty") from exc
    except FileNotFoundError as exc:
        raise CreditDataError(f"{path} does not exist") from exc
    except pd.errors.ParserError as exc:
        raise CreditDataError(f"{path} is not a readable CSV: {exc}") from exc
    return frame_to_labelled(frame, target, mapping, target_bad_value)
