"""Every score of a 10,000-asset pack verifies on chain, on the real Hardhat node.

The embedded EVM answers one verifyScore eth_call in ~9 ms, so tests/scoring_chain checks a
sample there; here all 10,000 calls go to the node as JSON-RPC batches, and a wrong score and
a wrong level are refused the same way.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from api.services.model_registry import load_registered_model, register_model
from api.services.score_batches import publish_scores, score_proof, score_tree
from chain.leaves import asset_id
from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history, generate_pack
from scoring.model.batch import score_assets
from scoring.model.train import train_and_report

pytestmark = pytest.mark.integration
BATCH = 500  # eth_calls per JSON-RPC batch request


def _verify_all(w3: Web3, registry, batch_id: int, claims: list[tuple]) -> list[bool]:
    """verifyScore for every (loan id, score, level, proof) claim, by batched eth_call."""
    answers: list[bool] = []
    for start in range(0, len(claims), BATCH):
        requests = []
        for loan_id, score, level, proof in claims[start : start + BATCH]:
            data = registry.encode_abi("verifyScore", [batch_id, asset_id(loan_id), score, level, proof])
            requests.append(("eth_call", [{"to": registry.address, "data": data}, "latest"]))
        for response in w3.provider.make_batch_request(requests):
            assert "error" not in response, response
            answers.append(int(response["result"], 16) == 1)
    return answers


def test_every_score_of_a_10k_pack_verifies_on_chain(hardhat_consortium, tmp_path):
    consortium = hardhat_consortium
    history = generate_history(2_000, seed=91)[[*CREDIT_FEATURES, TARGET]]
    history.to_csv(tmp_path / "train.csv", index=False)
    trained = train_and_report(tmp_path / "train.csv", TARGET, out_dir=tmp_path / "model", seed=0, folds=2)
    models = consortium.contract("ModelRegistry")
    registered = register_model(consortium.sender("scorer"), models, trained.out_dir / "scorecard")
    model = load_registered_model(models, registered.model_id, trained.out_dir)

    pack = generate_pack(10_000, seed=92, financier="bank92")
    scored = score_assets(model.scorecard, pack, model.registered.edges)
    loan_ids, scores, levels = pack["loan_id"].tolist(), scored.scores, scored.levels
    tree = score_tree(loan_ids, scores, levels, registered.model_id)
    registry = consortium.contract("ScoreRegistry")
    batch = publish_scores(consortium.sender("scorer"), registry, pack_id=9_092, cycle=0,
                           model_id=registered.model_id, loan_ids=loan_ids, scores=scores, levels=levels, tree=tree)

    claims = [(loan_ids[i], int(scores[i]), int(levels[i]), score_proof(tree, i)) for i in range(len(loan_ids))]
    verdicts = _verify_all(consortium.w3, registry, batch.batch_id, claims)
    assert len(verdicts) == 10_000 and all(verdicts), [i for i, ok in enumerate(verdicts) if not ok][:5]

    wrong = [(loan, score % 100 + 1, level, proof) for loan, score, level, proof in claims[:50]]
    wrong += [(loan, score, level % 10 + 1, proof) for loan, score, level, proof in claims[50:100]]
    assert not any(_verify_all(consortium.w3, registry, batch.batch_id, wrong))
