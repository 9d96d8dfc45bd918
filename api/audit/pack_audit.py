"""``audit pack ID``: one pack checked from the chain, the manifest and the platform's bundle.

From the chain alone: the pack's views, the model's level table, the legal state history of its
``PackStateChanged`` events. With the bundle: every record, exclusion, credit proof, score,
level, kept and removed asset against the committed roots (``chain.audit.pack_checks``), the
per-asset scores a small batch carries on chain (``scoreOf``), and the grade, bad rates and
filter recomputed (``api.audit.rates``). Never reads the platform's database.
"""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import ContractLogicError

from api.audit.bundle import PackBundle
from api.audit.rates import check_rates
from api.audit.report import AuditReport
from chain.audit.findings import Finding, mismatch
from chain.audit.pack_checks import EXCLUDED, AssetRow, check_pack_bundle
from chain.audit.pack_facts import ModelFacts, PackFacts, committed_scores, level_of, read_model, read_pack
from chain.audit.transitions import StateChange, check_history, state_name
from chain.contracts import contract_handle
from chain.errors import ContractRevertError
from chain.events import DEFAULT_PAGE_BLOCKS, EventDecoder
from chain.leaves import asset_id
from chain.manifest import Manifest
from chain.revert import decode_exception

HEADER_FIELDS = ("assets_root", "asset_count", "total_balance", "expected_bad_rate_ppm", "model_id",
                 "score_batch_id", "excluded_root", "kept_root", "removed_root")


def pack_history(w3: Web3, manifest: Manifest, pack_id: int,
                 page_blocks: int = DEFAULT_PAGE_BLOCKS) -> list[StateChange]:
    record = manifest.contract("AssetPack")
    handle = contract_handle(w3, manifest, "AssetPack")
    decoder = EventDecoder(w3, {"AssetPack": (record.address, handle.abi)})
    return [StateChange(r.args["previous"], r.args["current"], r.block_number, r.tx_hash)
            for r in decoder.replay(manifest.deploy_block, page_blocks=page_blocks)
            if r.event == "PackStateChanged" and r.args["packId"] == pack_id]


def audit_pack(w3: Web3, manifest: Manifest, pack_id: int, bundle: PackBundle | None = None, *,
               page_blocks: int = DEFAULT_PAGE_BLOCKS) -> AuditReport:
    report = AuditReport("pack", str(pack_id))
    packs, scores = contract_handle(w3, manifest, "AssetPack"), contract_handle(w3, manifest, "ScoreRegistry")
    try:
        facts = read_pack(packs, scores, pack_id)
    except (ContractRevertError, ContractLogicError) as exc:
        report.findings.append(Finding("pack", f"pack {pack_id}", "exists", True, False, str(decode_exception(exc) or exc)))
        return report
    report.facts = {"state": state_name(facts.state), "kept_root": facts.kept_root, "model_id": facts.model_id,
                    "kept_count": facts.kept_count, "bad_rate_after_ppm": facts.bad_rate_after_ppm}
    history = pack_history(w3, manifest, pack_id, page_blocks)
    report.findings += check_history(pack_id, history, facts.state)
    report.checked["state changes"] = len(history)
    if bundle is None:
        return report
    report.findings += check_header(facts, bundle)
    if facts.state < 6:  # Committed: the bundle checks need the filter's roots
        report.findings.append(Finding("pack", f"pack {pack_id}", "state", ">= Committed", state_name(facts.state),
                                       "the pack has not committed its filter result yet"))
        return report
    model = read_model(contract_handle(w3, manifest, "ModelRegistry"), facts.model_id)
    credit = contract_handle(w3, manifest, "CreditRegistry")
    batch_ids = {int(r.credit["batch_id"]) for r in bundle.rows if r.credit and r.credit.get("batch_id")}
    roots = {b: "0x" + bytes(credit.functions.batch(b).call()[0]).hex()
             for b in batch_ids if 0 < b <= credit.functions.batchCount().call()}
    report.findings += check_pack_bundle(facts, model, bundle.rows, bundle.leaves, roots)
    report.findings += check_onchain_scores(scores, facts, model, bundle.rows, manifest.deploy_block)
    report.findings += check_rates(facts, model, bundle.rows)
    report.checked.update({"assets": len(bundle.rows), "credit batches": len(roots),
                           "scored": sum(r.outcome != EXCLUDED for r in bundle.rows)})
    return report


def check_header(facts: PackFacts, bundle: PackBundle) -> list[Finding]:
    """What the platform says it committed, against what it did."""
    header = bundle.header["pack"]
    found = mismatch("bundle", "bundle header", "chain_pack_id", facts.pack_id, bundle.chain_pack_id)
    for name in HEADER_FIELDS:
        if header.get(name) is not None:
            expected = getattr(facts, name)
            found += mismatch("bundle", "bundle header", name, str(expected).lower(), str(header[name]).lower())
    return found


def check_onchain_scores(scores, facts: PackFacts, model: ModelFacts, rows: list[AssetRow],  # noqa: ANN001
                         from_block: int) -> list[Finding]:
    """A batch of <= 256 carries each score on chain: compare every scored row directly."""
    if not facts.individual_scores:
        return []
    committed = committed_scores(scores, facts.score_batch_id, from_block)
    found: list[Finding] = []
    for row in rows:
        if row.outcome == EXCLUDED:
            continue
        score = committed.get("0x" + asset_id(row.loan_id).hex())
        if score is None:
            found.append(Finding("score", row.subject, "score", "scored in the batch", "unknown to the batch"))
            continue
        found += mismatch("score", row.subject, "score", score, row.score, "the batch's committed scores")
        found += mismatch("level", row.subject, "level", level_of(score, model.upper_edges), row.level,
                          "the model's level of the committed score")
    return found
