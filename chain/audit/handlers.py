"""What each event does to the rebuilt state: one handler table per contract.

``HANDLERS[contract][event](state, record)``. A later capability adds its contract with a few
lines (``register("PackMonitor", {"CycleRecorded": on_cycle, ...})``) and keeps its own records
under ``state.extra``; an event without a handler is counted in ``state.unhandled``, never lost.
Tranche-token clones are dispatched as ``TrancheToken`` (see ``chain.audit.replay``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chain.audit.state import ChainState, PackRecord, ProductRecord, TokenRecord
from chain.audit.transitions import StateChange
from chain.events import EventRecord
from chain.roles import Role

Handler = Callable[[ChainState, EventRecord], None]
ZERO_ADDRESS = "0x" + "00" * 20
WARNING_OPEN, WARNING_RESOLVED = 1, 2


def hex32(value: Any) -> str:
    return "0x" + bytes(value).hex()


def _role_name(role_id: Any) -> str:
    try:
        return Role.from_id(bytes(role_id)).name
    except ValueError:
        return hex32(role_id)


# ---------------------------------------------------------------- MemberRegistry

def _admitted(s: ChainState, r: EventRecord) -> None:
    member = s.member(r.args["account"])
    member.name, member.active = r.args["name"], True


def _removed(s: ChainState, r: EventRecord) -> None:
    member = s.member(r.args["account"])
    member.active = False
    member.roles.clear()


def _role_granted(s: ChainState, r: EventRecord) -> None:
    s.member(r.args["account"]).roles.add(_role_name(r.args["role"]))


def _role_revoked(s: ChainState, r: EventRecord) -> None:
    s.member(r.args["account"]).roles.discard(_role_name(r.args["role"]))


def _bootstrapped(s: ChainState, r: EventRecord) -> None:
    s.quorum = r.args["quorum"]


def _proposal(s: ChainState, r: EventRecord) -> None:
    s.proposals[r.args["proposalId"]] = {"kind": r.args["kind"], "account": r.args["account"],
                                         "proposer": r.args["proposer"], "executed": False}


def _executed(s: ChainState, r: EventRecord) -> None:
    s.proposals.setdefault(r.args["proposalId"], {"kind": r.args["kind"]})["executed"] = True


def _quorum(s: ChainState, r: EventRecord) -> None:
    s.quorum = r.args["newQuorum"]


def _paused(value: bool) -> Handler:
    def handle(s: ChainState, _r: EventRecord) -> None:
        s.paused = value
    return handle


# ---------------------------------------------------------------- registries of credit, models, scores

def _credit_batch(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.credit_batches[a["batchId"]] = {"root": hex32(a["root"]), "record_count": a["recordCount"],
                                      "as_of": a["asOf"], "bureau": a["bureau"]}


def _model(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.models[a["modelId"]] = {"name": a["name"], "artifact_hash": hex32(a["artifactHash"]), "scorer": a["scorer"],
                              "retired": False}


def _model_retired(s: ChainState, r: EventRecord) -> None:
    s.models.setdefault(r.args["modelId"], {})["retired"] = True


def _score_batch(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.score_batches[a["batchId"]] = {"pack_id": a["packId"], "cycle": a["cycle"], "model_id": a["modelId"],
                                     "root": hex32(a["root"]), "asset_count": a["assetCount"]}


# ---------------------------------------------------------------- AssetPack

def _pack_submitted(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.packs[a["packId"]] = PackRecord(a["packId"], a["financier"], hex32(a["submissionKey"]), hex32(a["assetsRoot"]),
                                      a["assetCount"], a["totalBalance"], a["expectedBadRatePpm"])


def _pack(s: ChainState, r: EventRecord) -> PackRecord:
    return s.packs[r.args["packId"]]


def _state_changed(s: ChainState, r: EventRecord) -> None:
    pack = _pack(s, r)
    pack.history.append(StateChange(r.args["previous"], r.args["current"], r.block_number, r.tx_hash))
    pack.state = r.args["current"]


def _credit_checked(s: ChainState, r: EventRecord) -> None:
    pack = _pack(s, r)
    pack.excluded_root = hex32(r.args["excludedRoot"])
    pack.eligible_count, pack.excluded_count = r.args["eligibleCount"], r.args["excludedCount"]


def _scored(s: ChainState, r: EventRecord) -> None:
    pack = _pack(s, r)
    pack.score_batch_id, pack.model_id = r.args["scoreBatchId"], r.args["modelId"]


def _graded(s: ChainState, r: EventRecord) -> None:
    pack = _pack(s, r)
    pack.bad_rate_by_count_ppm = r.args["badRateByCountPpm"]
    pack.bad_rate_by_balance_ppm = r.args["badRateByBalancePpm"]


def _filtered(s: ChainState, r: EventRecord) -> None:
    pack, a = _pack(s, r), r.args
    pack.filter_mode, pack.weight_by = a["mode"], a["weightBy"]
    pack.kept_root, pack.removed_root = hex32(a["keptRoot"]), hex32(a["removedRoot"])
    pack.bad_rate_before_ppm, pack.bad_rate_after_ppm = a["badRateBeforePpm"], a["badRateAfterPpm"]


def _committed(s: ChainState, r: EventRecord) -> None:
    pack = _pack(s, r)
    pack.kept_count, pack.kept_balance = r.args["keptCount"], r.args["keptBalance"]


def _issued(s: ChainState, r: EventRecord) -> None:
    _pack(s, r).product_id = r.args["productId"]


# ---------------------------------------------------------------- issuance

def _product_registered(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.products[a["productId"]] = ProductRecord(a["productId"], a["packId"], a["financier"], hex32(a["issuanceKey"]),
                                               hex32(a["keptRoot"]), a["modelId"], a["trancheCount"], a["maturity"])


def _product_listed(s: ChainState, r: EventRecord) -> None:
    product = s.products[r.args["productId"]]
    product.state, product.exchange = "Listed", r.args["exchange"]
    product.listing_ref, product.tokens = hex32(r.args["listingRef"]), list(r.args["tokens"])
    for token in product.tokens:
        s.tokens.setdefault(token, TokenRecord(token))


def _distribution(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.products[a["productId"]].distributions[a["period"]] = {
        "report_hash": hex32(a["reportHash"]), "tranche_outstanding": list(a["trancheOutstanding"])}


def _investor(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.investors[a["account"]] = {"expires_at": a["expiresAt"], "qualified": a["qualified"], "active": True}


def _investor_removed(s: ChainState, r: EventRecord) -> None:
    s.investors.setdefault(r.args["account"], {})["active"] = False


def _token(s: ChainState, r: EventRecord) -> TokenRecord:
    return s.tokens.setdefault(r.address, TokenRecord(r.address))


def _token_initialized(s: ChainState, r: EventRecord) -> None:
    token = _token(s, r)
    token.product_id, token.tranche_index, token.cap = r.args["productId"], r.args["trancheIndex"], r.args["cap"]


def _transfer(s: ChainState, r: EventRecord) -> None:
    token, a = _token(s, r), r.args
    sender, receiver, value = a["from"], a["to"], a["value"]
    if sender == ZERO_ADDRESS:
        token.total_supply += value
    else:
        token.balances[sender] = token.balances.get(sender, 0) - value
    if receiver == ZERO_ADDRESS:
        token.total_supply -= value
    else:
        token.balances[receiver] = token.balances.get(receiver, 0) + value
    token.balances = {holder: units for holder, units in token.balances.items() if units}


def _account_frozen(s: ChainState, r: EventRecord) -> None:
    frozen = _token(s, r).frozen_accounts
    (frozen.add if r.args["frozen"] else frozen.discard)(r.args["account"])


def _frozen_amount(s: ChainState, r: EventRecord) -> None:
    _token(s, r).frozen_amounts[r.args["account"]] = r.args["amount"]


# ---------------------------------------------------------------- CollateralRegistry

def _collateral(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.collaterals[hex32(a["collateralId"])] = {"financier": a["financier"], "profile_hash": hex32(a["profileHash"]),
                                               "loans": set()}


def _linked(s: ChainState, r: EventRecord) -> None:
    s.collaterals[hex32(r.args["collateralId"])]["loans"].add(hex32(r.args["assetId"]))


def _device(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.devices[a["device"]] = {"gateway": a["gateway"], "collateral_id": hex32(a["collateralId"]), "revoked": False}


def _device_revoked(s: ChainState, r: EventRecord) -> None:
    s.devices[r.args["device"]]["revoked"] = True


def _window(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.windows[a["windowId"]] = {"gateway": a["gateway"], "root": hex32(a["root"]), "event_count": a["eventCount"],
                                "from_ts": a["fromTs"], "to_ts": a["toTs"], "block": r.block_number}


def _warning(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.warnings[a["warningId"]] = {"collateral_id": hex32(a["collateralId"]), "level": a["level"],
                                  "rule_id": hex32(a["ruleId"]), "evidence_hash": hex32(a["evidenceHash"]),
                                  "observed_at": a["observedAt"], "status": WARNING_OPEN}


def _warning_level(s: ChainState, r: EventRecord) -> None:
    s.warnings[r.args["warningId"]]["level"] = r.args["current"]


def _warning_resolved(s: ChainState, r: EventRecord) -> None:
    s.warnings[r.args["warningId"]]["status"] = WARNING_RESOLVED


def _frozen(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.freezes[hex32(a["assetId"])] = {"warning_id": a["warningId"], "frozen_bps": a["frozenBps"],
                                      "frozen_amount": a["frozenAmount"]}


def _freeze_adjusted(s: ChainState, r: EventRecord) -> None:
    s.freezes[hex32(r.args["assetId"])]["frozen_bps"] = r.args["frozenBps"]


def _unfrozen(s: ChainState, r: EventRecord) -> None:
    s.freezes.pop(hex32(r.args["assetId"]), None)


def _review(s: ChainState, r: EventRecord) -> None:
    a = r.args
    s.reviews[a["reviewId"]] = {"warning_id": a["warningId"], "reviewer": a["reviewer"], "outcome": a["outcome"],
                                "level": a["level"], "frozen_bps": a["frozenBps"], "notes_hash": hex32(a["notesHash"])}


# ---------------------------------------------------------------- AttestationRegistry

def _attested(s: ChainState, r: EventRecord) -> None:
    st = r.args["statement"]
    s.attestations[r.args["attestationId"]] = {
        "auditor": r.args["auditor"], "submitter": r.args["submitter"], "digest": hex32(r.args["digest"]),
        "kind": st["kind"], "pack_id": st["packId"], "root": hex32(st["root"]), "from_block": st["fromBlock"],
        "to_block": st["toBlock"], "verdict": st["verdict"], "findings": st["findings"],
        "report_hash": hex32(st["reportHash"]), "nonce": st["nonce"], "block": r.block_number}


HANDLERS: dict[str, dict[str, Handler]] = {
    "MemberRegistry": {
        "MemberAdmitted": _admitted, "MemberRemoved": _removed, "RoleGranted": _role_granted,
        "RoleRevoked": _role_revoked, "BootstrapCompleted": _bootstrapped, "ProposalCreated": _proposal,
        "ProposalExecuted": _executed, "QuorumChanged": _quorum, "PlatformPaused": _paused(True),
        "PlatformUnpaused": _paused(False), "ProposalApproved": lambda s, r: None, "RoleAdminChanged": lambda s, r: None,
    },
    "CreditRegistry": {"CreditBatchCommitted": _credit_batch},
    "ModelRegistry": {"ModelRegistered": _model, "ModelRetired": _model_retired},
    "ScoreRegistry": {"ScoreBatchCommitted": _score_batch},
    "AssetPack": {
        "PackSubmitted": _pack_submitted, "PackStateChanged": _state_changed, "PackCreditChecked": _credit_checked,
        "PackScored": _scored, "PackGraded": _graded, "PackFiltered": _filtered, "PackCommitted": _committed,
        "PackIssued": _issued,
    },
    "ProductRegistry": {"ProductRegistered": _product_registered, "ProductListed": _product_listed,
                        "DistributionRecorded": _distribution},
    "InvestorRegistry": {"InvestorWhitelisted": _investor, "InvestorRemoved": _investor_removed},
    "TrancheToken": {
        "TrancheTokenInitialized": _token_initialized, "Transfer": _transfer, "AccountFrozen": _account_frozen,
        "FrozenAmountSet": _frozen_amount, "Approval": lambda s, r: None, "AllocationMinted": lambda s, r: None,
        "ForcedTransfer": lambda s, r: None,  # its Transfer moves the units
    },
    "CollateralRegistry": {
        "CollateralRegistered": _collateral, "LoanLinked": _linked, "DeviceRegistered": _device,
        "DeviceRevoked": _device_revoked, "EventsAnchored": _window, "WarningRaised": _warning,
        "WarningLevelChanged": _warning_level, "WarningResolved": _warning_resolved, "CreditFrozen": _frozen,
        "CreditFreezeAdjusted": _freeze_adjusted, "CreditUnfrozen": _unfrozen, "ReviewRecorded": _review,
    },
    "AttestationRegistry": {"AttestationRecorded": _attested, "EIP712DomainChanged": lambda s, r: None},
}


def register(contract: str, handlers: Mapping[str, Handler]) -> None:
    """Add (or extend) the handlers of ``contract``: how a later capability joins the replay."""
    HANDLERS.setdefault(contract, {}).update(handlers)


def apply(state: ChainState, record: EventRecord, kind: str | None = None) -> None:
    """Apply one event; ``kind`` is the contract kind when ``record.contract`` is an instance name."""
    contract = kind or record.contract
    handler = HANDLERS.get(contract, {}).get(record.event)
    state.event_count += 1
    if handler is None:
        key = f"{contract}.{record.event}"
        state.unhandled[key] = state.unhandled.get(key, 0) + 1
        return
    handler(state, record)
