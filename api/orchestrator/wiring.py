"""The one place that builds the orchestrator's real adapters: database, chain, bureau and model.

``bootstrap(settings)`` is what the API process and the pipeline worker call; tests call it
with a ready ``Platform`` (embedded chain) and fakes for the bureau or the model.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from api.db.engine import make_engine
from api.db.migrate import upgrade
from api.errors import NotFoundError, PlatformError
from api.orchestrator.ports import CreditSource, ModelSource, Scores, ScoringModel, Verdict
from api.platform import Platform
from api.settings import Settings, get_settings
from scoring.grading import LevelTable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
IN_PROCESS = "inprocess"  # ABS_BUREAU_URL=inprocess: the bureau's service on its own database, in this process


def migrate(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url)


class ColumnCache:
    """The last few packs' columns, handed from the submission to the pipeline in one process."""

    def __init__(self, capacity: int = 2) -> None:
        self._items: OrderedDict[int, Any] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def put(self, pack_id: int | str, value: Any) -> None:
        with self._lock:
            self._items[pack_id] = value
            self._items.move_to_end(pack_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def take(self, pack_id: int | str) -> Any | None:
        with self._lock:
            return self._items.pop(pack_id, None)


class EarlyCredit:
    """Credit checks started while a submitted pack is still being stored, for the pipeline of
    this process to take instead of asking the bureau again.

    A look-up is a pure read, so starting it before the pack is stored changes nothing but
    time: the bureau works (and this process verifies) while PostgreSQL takes in the assets.
    The pipeline takes a check only if it is for the same borrowers and the same day; any other
    case, or a check that failed, is simply done again by the pipeline.
    """

    def __init__(self, capacity: int = 2) -> None:
        self._started = ColumnCache(capacity)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="early-credit")

    def start(self, key: str, credit: CreditSource, borrower_ids: list[str], today: date) -> None:
        future = self._pool.submit(credit.check_columns, borrower_ids, today=today)
        self._started.put(key, (borrower_ids, today, future))

    def discard(self, key: str) -> None:
        self._started.take(key)

    def take(self, key: str, borrower_ids: list[str], today: date) -> Any | None:
        started = self._started.take(key)
        if started is None:
            return None
        asked, day, future = started
        if day != today or asked != borrower_ids:
            future.cancel()
            return None
        try:
            return future.result()
        except Exception:  # the pipeline asks again and reports what goes wrong then
            log.warning("the early credit check of %s failed; the pipeline checks again", key, exc_info=True)
            return None


@dataclass
class Orchestrator:
    """Everything the orchestrator's routes and pipeline use, built once per process."""

    settings: Settings
    engine: Engine
    platform: Platform
    credit: CreditSource
    models: ModelSource
    columns: ColumnCache = field(default_factory=ColumnCache)
    credit_early: EarlyCredit = field(default_factory=EarlyCredit)


# ---------------------------------------------------------------- real adapters


class BureauCreditSource:
    """Verdicts from the bureau's API, verified against the CreditRegistry (``check_credit``)."""

    def __init__(self, platform: Platform, settings: Settings, client: Any | None = None) -> None:
        self._platform = platform
        self._settings = settings
        self._client = client

    def bureau_client(self) -> Any:
        """The bureau client, made on first use: the credit check's, and the audit bundle's evidence."""
        from api.services.credit_check import HttpBureauClient, InProcessBureauClient

        if self._client is None and self._settings.bureau_url == IN_PROCESS:
            from api.bureau.bootstrap import build_service

            self._client = InProcessBureauClient(build_service(platform=self._platform))
        if self._client is None:
            if not self._settings.bureau_api_key:
                raise PlatformError("no bureau API key: set ABS_BUREAU_API_KEY (a read key the bureau issued)")
            self._client = HttpBureauClient(self._settings.bureau_url, self._settings.bureau_api_key)
        return self._client

    def check(self, borrower_ids: Sequence[str], *, today: date) -> list[Verdict]:
        return self.check_columns(borrower_ids, today=today).verdicts(list(borrower_ids))

    def check_columns(self, borrower_ids: Sequence[str], *, today: date) -> Any:
        from api.services.credit_check import check_credit_columns

        return check_credit_columns(
            self.bureau_client(), self._platform.contract("CreditRegistry"), list(borrower_ids), today=today,
            max_age_days=self._settings.credit_max_age_days, stale_policy=self._settings.stale_policy,
            stale_weight_ppm=self._settings.stale_weight_ppm,
        )


@dataclass(frozen=True)
class RegisteredScorecard:
    """A scorecard the ModelRegistry vouches for (see ``api.services.model_registry``)."""

    model_id: int
    name: str
    artifact_hash: str
    level_table: LevelTable
    scorecard: Any

    def score(self, records: pd.DataFrame) -> Scores:
        from scoring.model.batch import score_assets

        batch = score_assets(self.scorecard, records, self.level_table.edges)
        features = batch.reason_features
        distinct, which = _distinct_rows(np.asarray(batch.reason_codes).reshape(len(batch.scores), -1))
        texts = np.asarray([";".join(features[i] for i in row if i >= 0) for row in distinct.tolist()], dtype=object)
        return Scores(batch.scores, batch.levels, batch.pd_ppm, texts[which].tolist())


def _distinct_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a small-integer matrix (-1 and up) and each row's index among them: a
    few hundred combinations among a million assets. Each row is packed into one int64 first,
    since ``np.unique(axis=0)`` sorts rows as structured values, seconds for a million."""
    if codes.size == 0:
        return codes.reshape(0, codes.shape[1] if codes.ndim == 2 else 0), np.zeros(len(codes), dtype=np.int64)
    shifted = codes.astype(np.int64) + 1
    dims = tuple(int(d) for d in shifted.max(axis=0) + 1)
    if shifted.min() < 0 or float(np.prod(dims, dtype=float)) >= 2**62:
        distinct, which = np.unique(codes, axis=0, return_inverse=True)
        return distinct, which.reshape(-1)
    keys = np.ravel_multi_index(tuple(shifted.T), dims)
    unique_keys, which = np.unique(keys, return_inverse=True)
    distinct = np.stack(np.unravel_index(unique_keys, dims), axis=1) - 1
    return distinct, which.reshape(-1)


class RegistryModelSource:
    """The configured model (``ABS_MODEL_ID``) or the newest active one, from ``models_dir``."""

    def __init__(self, platform: Platform, settings: Settings) -> None:
        self._platform = platform
        self._settings = settings
        self._loaded: dict[int, RegisteredScorecard] = {}

    def load(self, model_id: int | None = None) -> ScoringModel:
        from api.services.model_registry import load_registered_model, read_model

        registry = self._platform.contract("ModelRegistry")
        model_id = model_id or self._settings.model_id or self._newest_active(registry)
        if model_id not in self._loaded:
            registered = read_model(registry, model_id)
            directory = self._directory_of(registered.artifact_hash)
            loaded = load_registered_model(registry, model_id, directory)
            table = LevelTable(loaded.registered.edges, loaded.registered.level_bad_rates_ppm)
            self._loaded[model_id] = RegisteredScorecard(model_id, registered.name, registered.artifact_hash, table,
                                                         loaded.scorecard)
        return self._loaded[model_id]

    def _newest_active(self, registry: Any) -> int:
        for model_id in range(registry.functions.modelCount().call(), 0, -1):
            if registry.functions.isActive(model_id).call():
                return model_id
        raise NotFoundError("no active scoring model is registered on chain")

    def _directory_of(self, artifact_hash: str) -> Path:
        for registration in sorted(Path(self._settings.models_dir).rglob("registration.json")):
            try:
                if json.loads(registration.read_text()).get("model_hash", "").lower() == artifact_hash.lower():
                    return registration.parent
            except (OSError, ValueError):
                continue
        raise NotFoundError(f"no model directory under {self._settings.models_dir} holds artifact {artifact_hash}")


def bootstrap(
    settings: Settings | None = None,
    *,
    platform: Platform | None = None,
    credit: CreditSource | None = None,
    models: ModelSource | None = None,
    engine: Engine | None = None,
    run_migrations: bool = True,
) -> Orchestrator:
    settings = settings or get_settings()
    platform = platform or Platform(settings)
    if engine is None:
        if run_migrations:
            migrate(settings.database_url)
        engine = make_engine(settings.database_url)
    return Orchestrator(
        settings=settings,
        engine=engine,
        platform=platform,
        credit=credit or BureauCreditSource(platform, settings),
        models=models or RegistryModelSource(platform, settings),
    )
