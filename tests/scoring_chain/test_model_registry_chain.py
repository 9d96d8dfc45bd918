"""Registering, reading, loading and retiring scoring models in the on-chain ModelRegistry."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from api.services.model_registry import (
    ModelDirectoryError, ModelMismatchError, ModelNotFoundError, ModelRetiredError, load_registered_model,
    model_directory, read_model, register_model, retire_model,
)
from api.services.score_batches import publish_scores
from chain.errors import ContractCustomError
from scoring.data.synthetic import generate_pack
from scoring.grading import DEFAULT_EDGES
from scoring.model.artifact import read_level_table, read_registration
from scoring.model.batch import score_assets


def nonce(consortium, name: str) -> int:
    return consortium.w3.eth.get_transaction_count(consortium.address(name))


def test_a_trained_model_registers_and_reads_back_as_trained(consortium, model_registry, trained):
    directory = trained.out_dir / "scorecard"
    registered = register_model(consortium.sender("scorer"), model_registry, directory)

    assert registered.model_id == 1 and registered.tx_hash is not None and registered.active
    saved = read_registration(directory)
    on_chain = read_model(model_registry, 1)
    assert on_chain.artifact_hash == saved["model_hash"] == trained.identities["scorecard"].model_hash
    assert on_chain.feature_schema_hash == saved["feature_schema_hash"]
    assert on_chain.edges == DEFAULT_EDGES
    assert list(on_chain.level_bad_rates_ppm) == [row["bad_rate_ppm"] for row in saved["level_table"]]
    assert on_chain.metrics.cv_auc_ppm == round(trained.metrics["scorecard"]["cv_auc"] * 1_000_000)
    assert on_chain.metrics.sample_size == trained.metrics["data"]["rows"]
    assert on_chain.scorer == consortium.address("scorer")
    # The contract grades with the registered edges: score 55 is level 6 of the default table.
    assert model_registry.functions.levelOf(1, 55).call() == 6
    assert model_registry.functions.levelBadRatePpm(1, 6).call() == on_chain.level_bad_rates_ppm[5]


def test_registering_the_same_artifact_again_sends_nothing_and_returns_its_id(consortium, model_registry, trained):
    scorer = consortium.sender("scorer")
    first = register_model(scorer, model_registry, trained.out_dir / "scorecard")
    before = nonce(consortium, "scorer")
    # Again, and through the training directory rather than the model folder: the same artifact.
    again = register_model(scorer, model_registry, model_directory(trained.out_dir))
    assert (again.model_id, again.tx_hash) == (first.model_id, None)
    assert nonce(consortium, "scorer") == before
    assert model_registry.functions.modelCount().call() == 1
    challenger = register_model(scorer, model_registry, model_directory(trained.out_dir, "challenger"))
    assert challenger.model_id == 2 and challenger.artifact_hash == trained.identities["challenger"].model_hash


@pytest.mark.parametrize("member", ["outsider", "financier"])
def test_only_a_scorer_can_register(consortium, model_registry, trained, member):
    with pytest.raises(ContractCustomError) as raised:
        register_model(consortium.sender(member), model_registry, trained.out_dir / "scorecard")
    assert raised.value.name == "ConsortiumGuardedUnauthorizedAccount"
    assert model_registry.functions.modelCount().call() == 0


def test_loaded_model_scores_exactly_like_the_trained_one(consortium, model_registry, trained):
    model_id = register_model(consortium.sender("scorer"), model_registry, trained.out_dir / "scorecard").model_id
    loaded = load_registered_model(model_registry, model_id, trained.out_dir)
    pack = generate_pack(2_000, seed=63)
    np.testing.assert_array_equal(score_assets(loaded.scorecard, pack).scores, trained.scorecard.predict_score(pack))
    assert loaded.level_table == read_level_table(trained.out_dir / "scorecard")
    assert loaded.registered.model_id == model_id and loaded.registered.directory == trained.out_dir / "scorecard"


def _copy(trained, tmp_path, estimator="scorecard"):
    copy = tmp_path / estimator
    shutil.copytree(trained.out_dir / estimator, copy)
    return copy


def _edit_level_table(directory, edit) -> None:
    path = directory / "registration.json"
    registration = json.loads(path.read_text())
    edit(registration["level_table"])
    path.write_text(json.dumps(registration))


def test_load_refuses_a_directory_the_chain_does_not_vouch_for(consortium, model_registry, trained, tmp_path):
    model_id = register_model(consortium.sender("scorer"), model_registry, trained.out_dir / "scorecard").model_id

    rates = _copy(trained, tmp_path / "rates")
    _edit_level_table(rates, lambda rows: rows[0].update(bad_rate_ppm=rows[0]["bad_rate_ppm"] + 1))
    with pytest.raises(ModelMismatchError, match="level bad rates"):
        load_registered_model(model_registry, model_id, rates)

    edges = _copy(trained, tmp_path / "edges")
    _edit_level_table(edges, lambda rows: rows[0].update(max_score=rows[0]["max_score"] - 1))
    with pytest.raises(ModelMismatchError, match="score edges"):
        load_registered_model(model_registry, model_id, edges)

    with pytest.raises(ModelMismatchError, match="artifact hash"):
        load_registered_model(model_registry, model_id, trained.out_dir / "challenger")

    tampered = _copy(trained, tmp_path / "tampered")
    document = json.loads((tampered / "scorecard.json").read_text())
    document["points_table"]["base_points"] += 1
    (tampered / "scorecard.json").write_text(json.dumps(document))
    with pytest.raises(ModelDirectoryError, match="hash"):
        load_registered_model(model_registry, model_id, tampered)

    with pytest.raises(ModelNotFoundError):
        load_registered_model(model_registry, model_id + 1, trained.out_dir)


def test_a_level_without_history_is_refused_rather_than_registered_as_zero(consortium, model_registry, trained,
                                                                           tmp_path):
    empty = _copy(trained, tmp_path)
    _edit_level_table(empty, lambda rows: rows[9].update(count=0, defaults=0, bad_rate_ppm=None))
    with pytest.raises(ModelDirectoryError, match=r"levels \[10\] .* no historical loans"):
        register_model(consortium.sender("scorer"), model_registry, empty)
    assert model_registry.functions.modelCount().call() == 0


def test_a_retired_model_neither_loads_nor_scores(consortium, model_registry, score_registry, trained):
    scorer = consortium.sender("scorer")
    model_id = register_model(scorer, model_registry, trained.out_dir / "scorecard").model_id
    loaded = load_registered_model(model_registry, model_id, trained.out_dir)

    retired = retire_model(scorer, model_registry, model_id)
    assert not retired.active and retired.tx_hash is not None
    assert not model_registry.functions.isActive(model_id).call()
    with pytest.raises(ModelRetiredError):
        load_registered_model(model_registry, model_id, trained.out_dir)

    pack = generate_pack(300, seed=64)
    batch = score_assets(loaded.scorecard, pack, loaded.registered.edges)
    with pytest.raises(ContractCustomError) as raised:
        publish_scores(scorer, score_registry, pack_id=1, cycle=0, model_id=model_id,
                       loan_ids=pack["loan_id"].tolist(), scores=batch.scores, levels=batch.levels)
    assert raised.value.name == "ScoreRegistryModelInactive" and raised.value.args == (model_id,)

    before = nonce(consortium, "scorer")
    assert retire_model(scorer, model_registry, model_id).tx_hash is None  # idempotent: nothing sent
    assert nonce(consortium, "scorer") == before


def test_only_a_scorer_can_retire(consortium, model_registry, trained):
    model_id = register_model(consortium.sender("scorer"), model_registry, trained.out_dir / "scorecard").model_id
    with pytest.raises(ContractCustomError) as raised:
        retire_model(consortium.sender("financier"), model_registry, model_id)
    assert raised.value.name == "ConsortiumGuardedUnauthorizedAccount"
    assert read_model(model_registry, model_id).active
