"""Score batches on chain: one transaction per batch, whatever its size, and proofs per asset.

A batch is a StandardMerkleTree over ``SCORE_LEAF`` rows (asset id, score, level, model id),
with ``asset id = keccak256(utf8(loan id))`` (see ``chain.leaves``). The ScoreRegistry keeps
its root and count under (pack id, cycle); batches of at most 256 assets carry every score too,
so small packs can be read without proofs. Any asset's score is provable against the root, on
chain with ``verifyScore`` (which also re-derives the level from the model's registered edges)
or off chain from the root alone.

Publishing is idempotent for crash recovery: a batch already on chain for (pack, cycle) is
returned when it holds the same root and refused when it holds another; a second batch is
never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from web3 import Web3
from web3.contract import Contract

from api.errors import ConflictError, InvalidInputError
from api.services.model_registry import call_view
from chain.errors import ContractCustomError
from chain.leaves import SCORE_LEAF, asset_id, from_hex32, to_hex32
from chain.merkle import StandardMerkleTree
from chain.merkle_hashing import keccak256_many
from chain.sender import Sender

MAX_INDIVIDUAL_SCORES = 256  # ScoreRegistry.MAX_INDIVIDUAL_SCORES
MAX_LEVEL = 10
UINT32_MAX = 2**32 - 1


class ScoreBatchInputError(InvalidInputError):
    """Loan ids, scores or levels that cannot form a score batch."""


class ScoreBatchConflictError(ConflictError):
    """The pack already has a different score batch for this cycle."""


@dataclass(frozen=True)
class ScoreBatch:
    """A score batch as it is on chain. ``tx_hash`` is set only by the call that sent it."""

    batch_id: int
    pack_id: int
    cycle: int
    model_id: int
    root: str
    count: int
    tx_hash: str | None
    with_scores: bool


def asset_id_matrix(loan_ids: Sequence[str]) -> np.ndarray:
    """``chain.leaves.asset_id`` of every loan id, as an (n, 32) uint8 array (about 1 us per id)."""
    if not all(isinstance(loan_id, str) and loan_id for loan_id in loan_ids):
        raise ScoreBatchInputError("every loan id must be a non-empty string")
    hashes = keccak256_many([loan_id.encode() for loan_id in loan_ids])
    return np.frombuffer(hashes, dtype=np.uint8).reshape(len(loan_ids), 32)


def _checked_columns(loan_ids: Sequence[str], scores: object, levels: object) -> tuple[np.ndarray, np.ndarray]:
    count = len(loan_ids)
    if count == 0:
        raise ScoreBatchInputError("a score batch needs at least one asset")
    if count > UINT32_MAX:
        raise ScoreBatchInputError(f"a score batch holds at most {UINT32_MAX} assets, got {count}")
    columns = []
    for label, values, top in (("scores", scores, 100), ("levels", levels, MAX_LEVEL)):
        array = np.asarray(values)
        if array.shape != (count,):
            raise ScoreBatchInputError(f"need one of {label} per loan id: {array.shape} for {count} loan ids")
        if array.dtype.kind not in "iu":
            raise ScoreBatchInputError(f"{label} must be integers, got {array.dtype}")
        if array.min() < 1 or array.max() > top:
            raise ScoreBatchInputError(f"{label} must lie in 1..{top}, got {array.min()}..{array.max()}")
        columns.append(array.astype(np.uint8))
    score_column, level_column = columns
    # Levels are score segments: one level per score and never lower for a higher score. The
    # contract re-derives each level from the model's edges, so a batch breaking this is unprovable.
    seen = np.bincount(score_column.astype(np.int64) * 16 + level_column, minlength=101 * 16).reshape(101, 16) > 0
    levels_per_score = seen.sum(axis=1)
    if (levels_per_score > 1).any():
        score = int(np.flatnonzero(levels_per_score > 1)[0])
        raise ScoreBatchInputError(f"score {score} appears with levels {np.flatnonzero(seen[score]).tolist()}")
    graded = np.flatnonzero(levels_per_score)
    level_of_score = seen[graded].argmax(axis=1)
    if (np.diff(level_of_score) < 0).any():
        raise ScoreBatchInputError("levels must not fall as scores rise (level 1 is the riskiest)")
    return score_column, level_column


def score_tree(loan_ids: Sequence[str], scores: object, levels: object, model_id: int, *,
               asset_ids: np.ndarray | None = None) -> StandardMerkleTree:
    """The score tree of a batch: one SCORE_LEAF per loan, in the order given (vectorised).

    ``asset_ids``: the loans' asset ids as an (n, 32) uint8 array, when the caller already has
    them (a pack keeps them from its submission); otherwise they are hashed from the loan ids.
    """
    if not isinstance(model_id, (int, np.integer)) or isinstance(model_id, bool) or not 1 <= model_id < 2**63:
        raise ScoreBatchInputError(f"a model id is a positive integer, got {model_id!r}")
    score_column, level_column = _checked_columns(loan_ids, scores, levels)
    if len(set(loan_ids)) != len(loan_ids):
        raise ScoreBatchInputError("loan ids must be unique within a score batch")
    model_column = np.full(len(loan_ids), model_id, dtype=np.int64)
    if asset_ids is None:
        asset_ids = asset_id_matrix(loan_ids)
    elif asset_ids.shape != (len(loan_ids), 32) or asset_ids.dtype != np.uint8:
        raise ScoreBatchInputError(f"asset ids must be an ({len(loan_ids)}, 32) uint8 array, got "
                                   f"{asset_ids.shape} {asset_ids.dtype}")
    return StandardMerkleTree.of_columns([asset_ids, score_column, level_column, model_column], SCORE_LEAF)


def score_proof(tree: StandardMerkleTree, index: int) -> list[str]:
    """The proof of the ``index``-th asset of the batch (the order ``score_tree`` was given)."""
    return tree.get_proof(index)


def read_score_batch(score_registry: Contract, batch_id: int) -> ScoreBatch:
    pack_id, cycle, model_id, root, count, _committed_at, _scorer, with_scores = call_view(
        score_registry.functions.batch(batch_id)
    )
    return ScoreBatch(batch_id, pack_id, cycle, model_id, to_hex32(root), count, None, with_scores)


def _existing(score_registry: Contract, pack_id: int, cycle: int, model_id: int, root: str,
              count: int) -> ScoreBatch | None:
    """The batch already on chain for (pack, cycle), if it is this one; a conflict if it is another."""
    batch_id = call_view(score_registry.functions.batchOf(pack_id, cycle))
    if batch_id == 0:
        return None
    found = read_score_batch(score_registry, batch_id)
    if (found.root, found.model_id, found.count) != (root.lower(), model_id, count):
        raise ScoreBatchConflictError(
            f"pack {pack_id} cycle {cycle} already has score batch {batch_id} (root {found.root}, model "
            f"{found.model_id}, {found.count} assets); refusing a second one (root {root}, model {model_id}, "
            f"{count} assets)"
        )
    return found


def publish_scores(
    sender: Sender,
    score_registry: Contract,
    *,
    pack_id: int,
    cycle: int,
    model_id: int,
    loan_ids: Sequence[str],
    scores: object,
    levels: object,
    tree: StandardMerkleTree | None = None,
) -> ScoreBatch:
    """Commit a pack's scores in ONE transaction: the root and count, plus every score if <= 256.

    ``tree``, if given, must be ``score_tree`` of the same arguments (it saves rebuilding it).
    A batch already on chain for (pack, cycle) with the same root is returned (``tx_hash`` None);
    one with another root raises ``ScoreBatchConflictError``. Contract reverts (no SCORER role,
    retired model: ``ScoreRegistryModelInactive``) raise ``chain.errors.ContractCustomError``.
    """
    if not (0 <= cycle <= UINT32_MAX and 0 <= pack_id < 2**256):
        raise ScoreBatchInputError(f"pack id must be >= 0 and cycle in 0..{UINT32_MAX}, got {pack_id}, {cycle}")
    if tree is None or len(loan_ids) <= MAX_INDIVIDUAL_SCORES:  # small trees cost nothing to rebuild
        built = score_tree(loan_ids, scores, levels, model_id)
        if tree is not None and tree.root != built.root:
            raise ScoreBatchInputError("the tree given is not the score tree of these loan ids, scores and levels")
        tree = built
    elif (len(tree) != len(loan_ids) or tree.leaf_encoding != SCORE_LEAF
          or tuple(tree.at(0)[::3]) != (asset_id(loan_ids[0]), model_id)):
        raise ScoreBatchInputError(f"the tree given ({len(tree)} {tree.leaf_encoding} leaves) is not the score "
                                   f"tree of these {len(loan_ids)} loan ids under model {model_id}")
    root, count = tree.root, len(loan_ids)
    found = _existing(score_registry, pack_id, cycle, model_id, root, count)
    if found is not None:
        return found

    if count <= MAX_INDIVIDUAL_SCORES:
        score_column, _ = _checked_columns(loan_ids, scores, levels)
        call = score_registry.functions.submitScoreBatchWithScores(
            pack_id, cycle, model_id, from_hex32(root), [asset_id(loan_id) for loan_id in loan_ids],
            [int(score) for score in score_column],
        )
    else:
        call = score_registry.functions.submitScoreBatch(pack_id, cycle, model_id, from_hex32(root), count)
    try:
        receipt = sender.transact(call)
    except ContractCustomError as exc:
        if exc.name != "ScoreRegistryDuplicateBatch":
            raise
        # Another process committed (pack, cycle) between our check and our send.
        raced = _existing(score_registry, pack_id, cycle, model_id, root, count)
        if raced is None:  # the revert said the batch exists; a node that disagrees is not to be trusted
            raise
        return raced
    (event,) = score_registry.events.ScoreBatchCommitted().process_receipt(receipt)
    return ScoreBatch(
        batch_id=event["args"]["batchId"], pack_id=pack_id, cycle=cycle, model_id=int(model_id), root=root,
        count=count, tx_hash=Web3.to_hex(receipt["transactionHash"]), with_scores=count <= MAX_INDIVIDUAL_SCORES,
    )


def _fits_uint8(value: int) -> bool:
    return isinstance(value, (int, np.integer)) and 0 <= value <= 255


def verify_score_on_chain(score_registry: Contract, batch_id: int, loan_id: str, score: int, level: int,
                          proof: Sequence[str]) -> bool:
    """``ScoreRegistry.verifyScore``: the leaf is under the batch root and the level fits the model's edges."""
    if not (_fits_uint8(score) and _fits_uint8(level)):
        return False  # not even encodable, so certainly not what was committed
    return bool(call_view(score_registry.functions.verifyScore(
        batch_id, asset_id(loan_id), int(score), int(level), [from_hex32(node) for node in proof]
    )))


def verify_score_off_chain(root: str, loan_id: str, score: int, level: int, model_id: int,
                           proof: Sequence[str]) -> bool:
    """The same leaf check from the root alone (the level is as committed; the chain also checks it)."""
    if not (_fits_uint8(score) and _fits_uint8(level)) or model_id < 0:
        return False
    leaf = (asset_id(loan_id), int(score), int(level), int(model_id))
    return StandardMerkleTree.verify(root, SCORE_LEAF, leaf, proof)


__all__ = [
    "MAX_INDIVIDUAL_SCORES", "ScoreBatch", "ScoreBatchConflictError", "ScoreBatchInputError", "asset_id_matrix",
    "publish_scores", "read_score_batch", "score_proof", "score_tree", "verify_score_off_chain",
    "verify_score_on_chain",
]
