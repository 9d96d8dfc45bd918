"""Helpers of the bureau tests (importable by name; conftest.py holds only fixtures)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import text

from api.bureau.intake import FIELDS
from api.bureau.service import BureauService
from scoring.data.synthetic import generate_pack

TODAY = dt.datetime.now(dt.timezone.utc).date()


def credit_frame(n: int, seed: int, as_of: dt.date | None = None, financier: str = "fin") -> pd.DataFrame:
    """Credit records of the ``n`` borrowers of a synthetic pack, dated up to 27 days before ``as_of``."""
    return generate_pack(n, seed, financier=financier, as_of=as_of or TODAY)[list(FIELDS)]


def records_json(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s").replace("T00:00:00", ""))


def bureau_rows(service: BureauService, sql: str, **params) -> list:
    with service.engine.begin() as connection:
        result = connection.execute(text(sql), params)
        return result.all() if result.returns_rows else []
