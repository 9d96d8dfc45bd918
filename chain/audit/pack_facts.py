"""What the chain says about one pack, read from the contracts' views as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from chain.audit.handlers import hex32


@dataclass(frozen=True)
class ModelFacts:
    model_id: int
    name: str
    artifact_hash: str
    upper_edges: tuple[int, ...]
    level_bad_rates_ppm: tuple[int, ...]
    retired: bool


@dataclass(frozen=True)
class PackFacts:
    pack_id: int
    financier: str
    assets_root: str
    asset_count: int
    total_balance: int
    expected_bad_rate_ppm: int
    state: int
    excluded_root: str
    eligible_count: int
    excluded_count: int
    credit_batch_id: int
    score_batch_id: int
    model_id: int
    level_counts: tuple[int, ...]
    level_balances: tuple[int, ...]
    bad_rate_by_count_ppm: int
    bad_rate_by_balance_ppm: int
    filter_mode: int  # 0 global, 1 per-level
    weight_by: int  # 0 count, 1 balance
    kept_root: str
    removed_root: str
    kept_count: int
    removed_count: int
    kept_balance: int
    removed_balance: int
    bad_rate_before_ppm: int
    bad_rate_after_ppm: int
    score_root: str | None
    score_count: int | None
    score_cycle: int | None
    individual_scores: bool


def read_model(models: Contract, model_id: int) -> ModelFacts:
    m = models.functions.model(model_id).call()
    return ModelFacts(model_id, m[2], hex32(m[0]), tuple(m[3]), tuple(m[4]), bool(m[8]))


def read_pack(packs: Contract, scores: Contract, pack_id: int) -> PackFacts:
    """Every view of ``pack_id`` (raises the contract's AssetPackUnknownPack if there is none)."""
    p = packs.functions.pack(pack_id).call()
    credit = packs.functions.creditCheck(pack_id).call()
    grade = packs.functions.grade(pack_id).call()
    result = packs.functions.filterResult(pack_id).call()
    batch = scores.functions.batch(grade[0]).call() if grade[0] else None
    return PackFacts(
        pack_id=pack_id, financier=p[0], assets_root=hex32(p[2]), asset_count=p[3], total_balance=p[4],
        expected_bad_rate_ppm=p[5], state=p[6], excluded_root=hex32(credit[0]), eligible_count=credit[1],
        excluded_count=credit[2], credit_batch_id=credit[3], score_batch_id=grade[0], model_id=grade[1],
        level_counts=tuple(grade[2]), level_balances=tuple(grade[3]), bad_rate_by_count_ppm=grade[4],
        bad_rate_by_balance_ppm=grade[5], filter_mode=result[0], weight_by=result[1], kept_root=hex32(result[2]),
        removed_root=hex32(result[3]), kept_count=result[4], removed_count=result[5], kept_balance=result[6],
        removed_balance=result[7], bad_rate_before_ppm=result[8], bad_rate_after_ppm=result[9],
        score_root=hex32(batch[3]) if batch else None, score_count=batch[4] if batch else None,
        score_cycle=batch[1] if batch else None, individual_scores=bool(batch[7]) if batch else False,
    )


def level_of(score: int, upper_edges: tuple[int, ...]) -> int:
    """The level a score falls in under the model's registered edges (``ModelRegistry.levelOf``)."""
    for level, edge in enumerate(upper_edges, start=1):
        if score <= edge:
            return level
    return 0  # above the last edge: no level (the contract refuses such a score)


def committed_scores(scores: Contract, batch_id: int, from_block: int, page_blocks: int = 5_000) -> dict[str, int]:
    """The scores a batch carries on chain, by 0x asset id: decoded from the calldata of the
    ``submitScoreBatchWithScores`` transaction that committed it (one read, not one ``scoreOf``
    per asset); empty for a batch committed with its root only."""
    w3 = scores.w3
    last = w3.eth.block_number
    for start in range(from_block, last + 1, page_blocks):
        logs = scores.events.ScoreBatchCommitted.get_logs(
            argument_filters={"batchId": batch_id}, from_block=start, to_block=min(start + page_blocks - 1, last))
        if logs:
            transaction = w3.eth.get_transaction(logs[0]["transactionHash"])
            function, args = scores.decode_function_input(transaction["input"])
            if function.fn_name != "submitScoreBatchWithScores":
                return {}
            return {hex32(a): int(s) for a, s in zip(args["assetIds"], args["scores"])}
    return {}
