"""Score batches on chain: one transaction per pack, and every asset's score provable against its root."""

from __future__ import annotations

import numpy as np
import pytest

from api.services.model_registry import load_registered_model, register_model
from api.services.score_batches import (
    ScoreBatchConflictError, ScoreBatchInputError, asset_id_matrix, publish_scores, read_score_batch, score_proof,
    score_tree, verify_score_off_chain, verify_score_on_chain,
)
from chain.errors import ContractCustomError
from chain.leaves import asset_id
from scoring.data.synthetic import generate_pack
from scoring.model.batch import score_assets

ON_CHAIN_SAMPLE = 250  # verifyScore costs ~9 ms per eth_call on the embedded EVM; see the 10k test


@pytest.fixture
def model(consortium, model_registry, trained):
    """The trained scorecard, registered and loaded back through the chain."""
    registered = register_model(consortium.sender("scorer"), model_registry, trained.out_dir / "scorecard")
    return load_registered_model(model_registry, registered.model_id, trained.out_dir)


def scored_pack(model, size: int, seed: int):
    pack = generate_pack(size, seed=seed, financier=f"bank{seed}")
    batch = score_assets(model.scorecard, pack, model.registered.edges)
    return pack["loan_id"].tolist(), batch.scores, batch.levels


def chain_position(consortium) -> tuple[int, int]:
    """(scorer nonce, block number): every transaction moves both by one on the embedded chain."""
    w3 = consortium.w3
    return w3.eth.get_transaction_count(consortium.address("scorer")), w3.eth.block_number


def test_a_10k_pack_is_one_transaction_and_every_score_proves_on_and_off_chain(consortium, score_registry, model):
    loan_ids, scores, levels = scored_pack(model, 10_000, seed=71)
    model_id = model.registered.model_id
    nonce_before, block_before = chain_position(consortium)
    tree = score_tree(loan_ids, scores, levels, model_id)
    batch = publish_scores(consortium.sender("scorer"), score_registry, pack_id=7, cycle=0, model_id=model_id,
                           loan_ids=loan_ids, scores=scores, levels=levels, tree=tree)
    nonce_after, block_after = chain_position(consortium)
    assert (nonce_after - nonce_before, block_after - block_before) == (1, 1)
    assert batch.count == 10_000 and not batch.with_scores and batch.tx_hash is not None
    assert read_score_batch(score_registry, batch.batch_id) == batch.__class__(**{**batch.__dict__, "tx_hash": None})
    assert score_registry.functions.batchOf(7, 0).call() == batch.batch_id

    proofs = [score_proof(tree, i) for i in range(len(loan_ids))]
    # Off chain: all 10,000.
    assert all(verify_score_off_chain(batch.root, loan_ids[i], int(scores[i]), int(levels[i]), model_id, proofs[i])
               for i in range(len(loan_ids)))
    # On chain, verifyScore by eth_call: all 10,000 would take ~90 s on the embedded EVM, so a seeded
    # random sample plus both ends. The leaf encoding is the same for every asset, so a sample that
    # passes on chain and a full pass off chain cover the same check.
    sample = sorted({0, len(loan_ids) - 1, *np.random.default_rng(72).choice(len(loan_ids), ON_CHAIN_SAMPLE)})
    assert len(sample) >= 200
    for i in sample:
        assert verify_score_on_chain(score_registry, batch.batch_id, loan_ids[i], int(scores[i]), int(levels[i]),
                                     proofs[i]), i

    # A wrong score inside the same level passes the level check and fails the proof; a wrong level
    # fails the contract's re-grading; another asset's proof fails; a tampered proof fails.
    i = next(i for i in sample if model.registered.edges.segments()[levels[i] - 1][0] < scores[i])
    wrong_score, wrong_level = int(scores[i]) - 1, int(levels[i]) % 10 + 1
    for claim in ((wrong_score, int(levels[i]), proofs[i]), (int(scores[i]), wrong_level, proofs[i]),
                  (int(scores[i]), int(levels[i]), proofs[i + 1 if i + 1 < len(proofs) else i - 1])):
        assert not verify_score_on_chain(score_registry, batch.batch_id, loan_ids[i], *claim)
        assert not verify_score_off_chain(batch.root, loan_ids[i], claim[0], claim[1], model_id, claim[2])
    assert not verify_score_off_chain(batch.root, loan_ids[i], int(scores[i]), int(levels[i]), model_id + 1,
                                      proofs[i])
    assert not verify_score_on_chain(score_registry, batch.batch_id, loan_ids[i], 0, int(levels[i]), proofs[i])


@pytest.mark.parametrize("size", [1, 256])
def test_a_small_pack_also_writes_each_score(consortium, score_registry, model, size):
    loan_ids, scores, levels = scored_pack(model, size, seed=73)
    nonce_before, _ = chain_position(consortium)
    batch = publish_scores(consortium.sender("scorer"), score_registry, pack_id=3, cycle=0,
                           model_id=model.registered.model_id, loan_ids=loan_ids, scores=scores, levels=levels)
    assert chain_position(consortium)[0] - nonce_before == 1
    assert batch.with_scores and batch.count == size
    for loan_id, score, level in zip(loan_ids, scores, levels):
        assert score_registry.functions.scoreOf(batch.batch_id, asset_id(loan_id)).call() == [True, score, level]
    assert score_registry.functions.scoreOf(batch.batch_id, asset_id("not-in-the-pack")).call()[0] is False


def test_a_pack_of_257_writes_only_the_root(consortium, score_registry, model):
    loan_ids, scores, levels = scored_pack(model, 257, seed=74)
    batch = publish_scores(consortium.sender("scorer"), score_registry, pack_id=4, cycle=0,
                           model_id=model.registered.model_id, loan_ids=loan_ids, scores=scores, levels=levels)
    assert not batch.with_scores and batch.count == 257
    assert score_registry.functions.scoreOf(batch.batch_id, asset_id(loan_ids[0])).call()[0] is False
    tree = score_tree(loan_ids, scores, levels, model.registered.model_id)
    assert verify_score_on_chain(score_registry, batch.batch_id, loan_ids[0], int(scores[0]), int(levels[0]),
                                 score_proof(tree, 0))


def test_publishing_again_after_a_crash_returns_the_batch_without_a_second_one(consortium, score_registry, model):
    loan_ids, scores, levels = scored_pack(model, 1_000, seed=75)
    args = dict(pack_id=5, cycle=0, model_id=model.registered.model_id, loan_ids=loan_ids, scores=scores,
                levels=levels)
    first = publish_scores(consortium.sender("scorer"), score_registry, **args)
    nonce_before, _ = chain_position(consortium)
    again = publish_scores(consortium.sender("scorer"), score_registry, **args)
    assert chain_position(consortium)[0] == nonce_before
    assert again.batch_id == first.batch_id and again.root == first.root and again.tx_hash is None
    assert score_registry.functions.batchCount().call() == 1


def test_another_root_for_the_same_pack_and_cycle_is_refused(consortium, score_registry, model):
    loan_ids, scores, levels = scored_pack(model, 1_000, seed=76)
    scorer, model_id = consortium.sender("scorer"), model.registered.model_id
    first = publish_scores(scorer, score_registry, pack_id=6, cycle=0, model_id=model_id, loan_ids=loan_ids,
                           scores=scores, levels=levels)
    changed = scores.copy()
    j = int(np.flatnonzero((scores > 1) & (scores % 10 != 1))[0])  # lower one score within its level
    changed[j] -= 1
    nonce_before, _ = chain_position(consortium)
    with pytest.raises(ScoreBatchConflictError, match=f"already has score batch {first.batch_id}"):
        publish_scores(scorer, score_registry, pack_id=6, cycle=0, model_id=model_id, loan_ids=loan_ids,
                       scores=changed, levels=levels)
    assert chain_position(consortium)[0] == nonce_before
    # The next monitoring cycle of the same pack is a batch of its own.
    rescored = publish_scores(scorer, score_registry, pack_id=6, cycle=1, model_id=model_id, loan_ids=loan_ids,
                              scores=changed, levels=levels)
    assert rescored.batch_id == first.batch_id + 1 and rescored.root != first.root


def test_only_a_scorer_can_publish(consortium, score_registry, model):
    loan_ids, scores, levels = scored_pack(model, 300, seed=77)
    with pytest.raises(ContractCustomError) as raised:
        publish_scores(consortium.sender("financier"), score_registry, pack_id=8, cycle=0,
                       model_id=model.registered.model_id, loan_ids=loan_ids, scores=scores, levels=levels)
    assert raised.value.name == "ConsortiumGuardedUnauthorizedAccount"


def test_batches_that_could_not_be_proved_are_refused_before_sending():
    ids = ["a", "b", "c"]
    assert asset_id_matrix(ids)[1].tobytes() == asset_id("b")
    with pytest.raises(ScoreBatchInputError, match="unique"):
        score_tree(["a", "b", "a"], [50, 60, 70], [5, 6, 7], 1)
    with pytest.raises(ScoreBatchInputError, match="score 55 appears with levels"):
        score_tree(ids, [55, 55, 70], [5, 6, 7], 1)
    with pytest.raises(ScoreBatchInputError, match="must not fall"):
        score_tree(ids, [10, 20, 30], [1, 3, 2], 1)
    with pytest.raises(ScoreBatchInputError, match=r"scores must lie in 1\.\.100"):
        score_tree(ids, [0, 20, 30], [1, 2, 3], 1)
    with pytest.raises(ScoreBatchInputError, match="one of levels per loan id"):
        score_tree(ids, [10, 20, 30], [1, 2], 1)
    with pytest.raises(ScoreBatchInputError, match="non-empty"):
        score_tree(["a", ""], [10, 20], [1, 2], 1)


def test_a_tree_that_is_not_this_batch_is_refused_before_sending():
    loan_ids = [f"L{i}" for i in range(300)]
    scores, levels = np.full(300, 50), np.full(300, 5)
    other_model = score_tree(loan_ids, scores, levels, 2)
    with pytest.raises(ScoreBatchInputError, match="not the score tree"):  # no chain is touched: sender is None
        publish_scores(None, None, pack_id=1, cycle=0, model_id=1, loan_ids=loan_ids, scores=scores, levels=levels,
                       tree=other_model)
    small_other_scores = score_tree(loan_ids[:3], [51, 50, 50], [5, 5, 5], 1)
    with pytest.raises(ScoreBatchInputError, match="not the score tree"):
        publish_scores(None, None, pack_id=1, cycle=0, model_id=1, loan_ids=loan_ids[:3], scores=scores[:3],
                       levels=levels[:3], tree=small_other_scores)
