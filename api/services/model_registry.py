"""Scoring models on chain: register a trained model directory, retire it, load it back.

A model directory is what ``absctl model train --out DIR`` writes under ``DIR/scorecard`` or
``DIR/challenger``: the model document, and ``registration.json`` with its identity, level table
and metrics. Registering puts the identity and level table in the ModelRegistry, signed by a
SCORER; the pure part (:func:`registration_of`) computes the call from the directory first.

Loading is the other direction and refuses to score with a model the chain does not vouch for:
the directory's artifact hash, feature schema, score edges and level bad rates must be exactly
the registered ones, and the model must be active. Registering and retiring are idempotent, so a
process that crashed half-way can simply run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from api.errors import ConflictError, InvalidInputError, NotFoundError
from chain.errors import ContractCustomError
from chain.leaves import from_hex32, to_hex32
from chain.revert import decode_exception
from chain.sender import Sender
from scoring.errors import ScoringError
from scoring.grading import LevelEdges, LevelTable
from scoring.model.artifact import load_scorecard, read_level_table, read_registration
from scoring.model.scorecard import Scorecard

PPM = 1_000_000
UINT32_MAX = 2**32 - 1
ESTIMATORS = ("scorecard", "challenger")

T = TypeVar("T")


class ModelDirectoryError(InvalidInputError):
    """The directory holds no registrable model, or one the registry cannot represent."""


class ModelNotFoundError(NotFoundError):
    """No model has this id on chain."""


class ModelMismatchError(ConflictError):
    """The model directory is not the model registered under this id."""


class ModelRetiredError(ConflictError):
    """The model was retired and may not score any more."""


def call_view(function: ContractFunction) -> Any:
    """``function.call()``, with a revert raised as the contract's typed error."""
    try:
        return function.call()
    except Exception as exc:  # web3 raises several types for a revert
        decoded = decode_exception(exc)
        if decoded is None:
            raise
        raise decoded from None


@dataclass(frozen=True)
class ModelMetricsPpm:
    """Validation metrics as the registry stores them: parts per million, and the history size."""

    cv_auc_ppm: int
    ks_ppm: int
    brier_ppm: int
    sample_size: int

    def as_call(self) -> tuple[int, int, int, int]:
        return self.cv_auc_ppm, self.ks_ppm, self.brier_ppm, self.sample_size


@dataclass(frozen=True)
class ModelRegistration:
    """What registering a model directory writes on chain (computed, not yet sent)."""

    directory: Path
    artifact_hash: str
    feature_schema_hash: str
    name: str
    edges: LevelEdges
    level_bad_rates_ppm: tuple[int, ...]
    metrics: ModelMetricsPpm

    def register_call(self, model_registry: Contract) -> ContractFunction:
        return model_registry.functions.registerModel(
            from_hex32(self.artifact_hash), from_hex32(self.feature_schema_hash), self.name,
            list(self.edges.upper_edges), list(self.level_bad_rates_ppm), self.metrics.as_call(),
        )


@dataclass(frozen=True)
class RegisteredModel:
    """A model as the ModelRegistry holds it. ``tx_hash`` is set only by the call that wrote it."""

    model_id: int
    artifact_hash: str
    name: str
    edges: LevelEdges
    level_bad_rates_ppm: tuple[int, ...]
    active: bool
    directory: Path | None
    feature_schema_hash: str
    metrics: ModelMetricsPpm
    scorer: str
    registered_at: int
    tx_hash: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A scorecard the chain vouches for, with the level table registered alongside it."""

    registered: RegisteredModel
    scorecard: Scorecard
    level_table: LevelTable


def model_directory(path: str | Path, estimator: str = "scorecard") -> Path:
    """The saved model in ``path``: ``path`` itself, or the ``estimator`` folder a training run wrote."""
    path = Path(path)
    if (path / "registration.json").is_file():
        return path
    if estimator not in ESTIMATORS:
        raise ModelDirectoryError(f"unknown estimator {estimator!r}: expected one of {', '.join(ESTIMATORS)}")
    if (path / estimator / "registration.json").is_file():
        return path / estimator
    raise ModelDirectoryError(f"{path} holds no saved model (no registration.json, nor {estimator}/registration.json)")


def _ppm(value: object, field: str) -> int:
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ModelDirectoryError(f"metric {field} must be a number in 0..1, got {value!r}")
    return round(value * PPM)


def registration_of(directory: str | Path, name: str | None = None) -> ModelRegistration:
    """The registry call for a saved model, after checking its files against their recorded hash."""
    directory = Path(directory)
    try:
        saved = read_registration(directory)
        table = read_level_table(directory)
    except ScoringError as exc:
        raise ModelDirectoryError(str(exc)) from None
    missing = [level for level, rate in enumerate(table.bad_rate_ppm, start=1) if rate is None]
    if missing:
        # On chain a rate is a number; writing 0 would claim a history the model never saw.
        raise ModelDirectoryError(
            f"levels {missing} of {directory} have no historical loans, so they have no bad rate to register; "
            "train on more history or with wider level edges"
        )
    if table.level_count != 10:
        raise ModelDirectoryError(f"the registry takes exactly 10 levels, {directory} has {table.level_count}")
    metrics = saved.get("metrics", {})
    sample_size = sum(table.historical_total or ())
    if not 0 < sample_size <= UINT32_MAX:
        raise ModelDirectoryError(f"{directory} records an unusable history size {sample_size}")
    return ModelRegistration(
        directory=directory,
        artifact_hash=saved["model_hash"],
        feature_schema_hash=saved["feature_schema_hash"],
        name=name or f"{directory.resolve().parent.name}/{saved['name']}",
        edges=table.edges,
        level_bad_rates_ppm=tuple(int(rate) for rate in table.bad_rate_ppm),  # type: ignore[arg-type]
        metrics=ModelMetricsPpm(
            cv_auc_ppm=_ppm(metrics.get("cv_auc"), "cv_auc"),
            ks_ppm=_ppm(metrics.get("cv_ks"), "cv_ks"),
            brier_ppm=_ppm(metrics.get("cv_brier"), "cv_brier"),
            sample_size=sample_size,
        ),
    )


def read_model(model_registry: Contract, model_id: int, directory: Path | None = None) -> RegisteredModel:
    """The model registered as ``model_id``; ``ModelNotFoundError`` if there is none."""
    if not 1 <= model_id <= call_view(model_registry.functions.modelCount()):
        raise ModelNotFoundError(f"no model {model_id} is registered")
    (artifact, schema, name, edges, rates, metrics, scorer, registered_at, retired) = call_view(
        model_registry.functions.model(model_id)
    )
    return RegisteredModel(
        model_id=model_id,
        artifact_hash=to_hex32(artifact),
        name=name,
        edges=LevelEdges(tuple(edges)),
        level_bad_rates_ppm=tuple(rates),
        active=not retired,
        directory=directory,
        feature_schema_hash=to_hex32(schema),
        metrics=ModelMetricsPpm(*metrics),
        scorer=Web3.to_checksum_address(scorer),
        registered_at=registered_at,
    )


def find_model_id(model_registry: Contract, artifact_hash: str) -> int | None:
    """The id under which ``artifact_hash`` is registered, newest first; None if it is not."""
    wanted = from_hex32(artifact_hash)
    for model_id in range(call_view(model_registry.functions.modelCount()), 0, -1):
        if call_view(model_registry.functions.model(model_id))[0] == wanted:
            return model_id
    return None


def _send_once(sender: Sender, call: ContractFunction, already_done: str,
               on_done: Callable[[ContractCustomError], T]) -> tuple[str | None, T | None]:
    """Send ``call``; if it reverts with ``already_done`` (a concurrent writer won), hand that over."""
    try:
        receipt = sender.transact(call)
    except ContractCustomError as exc:
        if exc.name != already_done:
            raise
        return None, on_done(exc)
    return Web3.to_hex(receipt["transactionHash"]), None


def register_model(sender: Sender, model_registry: Contract, directory: str | Path,
                   *, name: str | None = None) -> RegisteredModel:
    """Register the saved model in ``directory`` from a SCORER key, once.

    An artifact already on chain is not sent again: its existing registration is returned, with
    ``tx_hash`` None. A caller without the SCORER role gets the contract's typed revert.
    """
    registration = registration_of(directory, name)
    existing = find_model_id(model_registry, registration.artifact_hash)
    if existing is not None:
        return read_model(model_registry, existing, registration.directory)
    tx_hash, raced = _send_once(sender, registration.register_call(model_registry),
                                "ModelRegistryDuplicateArtifact", lambda exc: int(exc.args[1]))
    model_id = raced if raced is not None else find_model_id(model_registry, registration.artifact_hash)
    if model_id is None:  # the transaction succeeded, so this cannot happen on a sane chain
        raise ModelNotFoundError(f"model {registration.artifact_hash} was registered but cannot be found")
    registered = read_model(model_registry, model_id, registration.directory)
    return registered if tx_hash is None else _with_tx(registered, tx_hash)


def retire_model(sender: Sender, model_registry: Contract, model_id: int) -> RegisteredModel:
    """Retire a model (only its registering scorer may); retiring a retired model sends nothing."""
    registered = read_model(model_registry, model_id)
    if not registered.active:
        return registered
    tx_hash, _ = _send_once(sender, model_registry.functions.retireModel(model_id),
                            "ModelRegistryModelRetired", lambda exc: None)
    retired = read_model(model_registry, model_id)
    return retired if tx_hash is None else _with_tx(retired, tx_hash)


def _with_tx(model: RegisteredModel, tx_hash: str) -> RegisteredModel:
    return RegisteredModel(**{**model.__dict__, "tx_hash": tx_hash})


def _differences(registered: RegisteredModel, registration: ModelRegistration) -> list[str]:
    checks: Sequence[tuple[str, object, object]] = (
        ("artifact hash", registered.artifact_hash, registration.artifact_hash),
        ("feature schema hash", registered.feature_schema_hash, registration.feature_schema_hash),
        ("score edges", registered.edges.upper_edges, registration.edges.upper_edges),
        ("level bad rates (ppm)", registered.level_bad_rates_ppm, registration.level_bad_rates_ppm),
    )
    return [f"{what}: chain {on_chain}, directory {in_directory}"
            for what, on_chain, in_directory in checks if on_chain != in_directory]


def load_registered_model(model_registry: Contract, model_id: int, directory: str | Path) -> LoadedModel:
    """The scorecard in ``directory``, only if it is exactly active model ``model_id``.

    Refuses (``ModelMismatchError``) a directory whose artifact hash, feature schema, score
    edges or level bad rates differ from the registered ones, and (``ModelRetiredError``) a
    retired model.
    """
    directory = model_directory(directory)
    registered = read_model(model_registry, model_id, directory)
    differences = _differences(registered, registration_of(directory))
    if differences:
        raise ModelMismatchError(f"{directory} is not model {model_id}: " + "; ".join(differences))
    if not registered.active:
        raise ModelRetiredError(f"model {model_id} ({registered.name}) is retired and may not score")
    if not (directory / "scorecard.json").is_file():
        raise ModelDirectoryError(f"{directory} holds no scorecard; packs are scored with the scorecard")
    try:
        return LoadedModel(registered, load_scorecard(directory), read_level_table(directory))
    except ScoringError as exc:
        raise ModelDirectoryError(str(exc)) from None
