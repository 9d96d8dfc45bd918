"""Listing: the exchange lists a product only after verifying it against the chain, and refuses
a request that disagrees with the chain in any field, naming the field."""

from __future__ import annotations

import base64

import pytest
from issuance_world import DOCUMENTS, KEPT_MIX, design

from api.errors import ConflictError, ForbiddenError, InvalidInputError
from api.exchange.facts import PackState, ProductState
from api.exchange.onchain import ChainReader
from api.exchange.schemas import LevelMix
from chain.deploy import pass_proposal


def world_reader(world) -> ChainReader:
    return ChainReader(world.consortium.w3, world.consortium.contracts)


def _listed_on_chain(world, pack_id, product_id) -> bool:
    reader = world_reader(world)
    return (reader.pack(pack_id).state is PackState.ISSUED
            and reader.product(product_id).state is ProductState.LISTED)


def test_lists_a_committed_pack_and_acknowledges_it_on_chain(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    assert [t.size for t in plan.tranches] == [720_000, 180_000]

    listing = exchange.issuer().issue(plan, DOCUMENTS)

    reader = world_reader(world)
    product = reader.product(listing["product_id"])
    pack = reader.pack(pack_id)
    assert listing["state"] == "listed"
    assert pack.state is PackState.ISSUED and pack.issued_product == listing["product_id"]
    assert product.state is ProductState.LISTED
    assert product.exchange == world.address("exchange")
    assert product.listing_ref == listing["listing_ref"]
    assert [t["token"] for t in listing["tranches"]] == [t.token for t in product.tranches]
    token = reader.token(product.tranches[1].token)
    assert token.functions.symbol().call() == f"ABS{pack_id}-B"
    assert token.functions.cap().call() == 180_000
    assert token.functions.qualifiedOnly().call() is True


def test_sending_the_same_request_again_changes_nothing(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    first = exchange.issuer().issue(plan, DOCUMENTS)
    block = world.consortium.w3.eth.block_number

    again = exchange.issuer().issue(plan, DOCUMENTS)

    assert again == first
    assert world.consortium.w3.eth.block_number == block  # no transaction sent


def _tranche(request, index, **change):
    tranches = list(request.tranches)
    tranches[index] = tranches[index].model_copy(update=change)
    return {"tranches": tranches}


def _document(request, kind, **change):
    return {"documents": [d.model_copy(update=change) if d.kind == kind else d for d in request.documents]}


FIELD_CHANGES = {
    "product_id": (lambda r: {"product_id": 99}, "product_id"),
    "pack_id": (lambda r: {"pack_id": r.pack_id + 50}, "pack_id"),
    "issuance_key": (lambda r: {"issuance_key": "0x" + "ab" * 32}, "issuance_key"),
    "kept_root": (lambda r: {"kept_root": "0x" + "cd" * 32}, "kept_root"),
    "kept_count": (lambda r: {"kept_count": r.kept_count + 1}, "kept_count"),
    "kept_balance": (lambda r: {"kept_balance": r.kept_balance - 1}, "kept_balance"),
    "model_id": (lambda r: {"model_id": r.model_id + 1}, "model_id"),
    "expected_bad_rate_ppm": (lambda r: {"expected_bad_rate_ppm": 300_000}, "expected_bad_rate_ppm"),
    "bad_rate_before_ppm": (lambda r: {"bad_rate_before_ppm": 100_000}, "bad_rate_before_ppm"),
    "bad_rate_after_ppm": (lambda r: {"bad_rate_after_ppm": 40_000}, "bad_rate_after_ppm"),
    "weight_by": (lambda r: {"weight_by": "balance"}, "weight_by"),
    "maturity": (lambda r: {"maturity": r.maturity + 86_400}, "maturity"),
    "payments_per_year": (lambda r: {"payments_per_year": 4}, "payments_per_year"),
    "tranche_size": (lambda r: _tranche(r, 0, size=700_000), "tranches.size"),
    "tranche_coupon": (lambda r: _tranche(r, 0, coupon_bps=500), "tranches[0].coupon_bps"),
    "tranche_name": (lambda r: _tranche(r, 0, name="Other"), "tranches[0].name"),
    "tranche_symbol": (lambda r: _tranche(r, 1, symbol="XX"), "tranches[1].symbol"),
    "tranche_eligibility": (lambda r: _tranche(r, 1, qualified_only=False), "tranches[1].qualified_only"),
    "tranche_count": (lambda r: {"tranches": [*r.tranches, r.tranches[1]]}, "tranches"),
    "prospectus_hash": (lambda r: _document(r, "prospectus", keccak256="0x" + "ee" * 32), "documents.prospectus"),
    "servicing_content": (
        lambda r: _document(r, "servicing_agreement", content_b64=base64.b64encode(b"forged").decode()),
        "documents.servicing_agreement.content",
    ),
    "kept_level_mix": (
        lambda r: {"kept_level_mix": LevelMix(counts=[0, 0, 0, 2, 0, 0, 0, 0, 0, 1],
                                              balances=r.kept_level_mix.balances)},
        "kept_level_mix.counts[4]",
    ),
}


@pytest.mark.parametrize("change", FIELD_CHANGES, ids=list(FIELD_CHANGES))
def test_refuses_a_request_whose_field_disagrees_with_the_chain(world, exchange, pack_id, change):
    issuer = exchange.issuer()
    plan = exchange.plan(pack_id)
    product_id = issuer.register(plan)
    mutate, field = FIELD_CHANGES[change]
    good = plan.request(product_id, DOCUMENTS)
    request = good.model_copy(update=mutate(good))

    with pytest.raises(InvalidInputError) as refused:
        exchange.client("financier").request_listing(request)

    assert refused.value.code == "listing_refused"
    fields = [d["field"] for d in refused.value.details["discrepancies"]]
    assert field in fields, fields
    assert not _listed_on_chain(world, pack_id, product_id)
    attempts = exchange.service.listing.attempts(request.product_id)
    assert attempts[-1]["outcome"] == "refused"
    # the true request still lists afterwards
    assert exchange.client("financier").request_listing(good)["state"] == "listed"


def test_refuses_a_pack_already_issued_as_another_product(world, exchange, pack_id):
    issuer = exchange.issuer()
    first_plan = exchange.plan(pack_id)
    second_plan = issuer.structure(pack_id, design(pack_id, years=5), DOCUMENTS, KEPT_MIX)
    second = issuer.register(second_plan)  # two manifests on one pack: only one may ever be listed
    first = issuer.issue(first_plan, DOCUMENTS)["product_id"]

    with pytest.raises(InvalidInputError) as refused:
        exchange.client("financier").request_listing(second_plan.request(second, DOCUMENTS))

    (problem,) = [d for d in refused.value.details["discrepancies"] if d["field"] == "pack_state"]
    assert (problem["requested"], problem["on_chain"]) == ("Committed", "Issued")
    assert f"already issued as product {first}" in problem["reason"]


def test_refuses_a_model_retired_after_registration(world, exchange, pack_id):
    issuer = exchange.issuer()
    plan = exchange.plan(pack_id)
    product_id = issuer.register(plan)
    world.consortium.sender("scorer").transact(
        world.consortium.contract("ModelRegistry").functions.retireModel(world.model_id)
    )

    with pytest.raises(InvalidInputError) as refused:
        exchange.client("financier").request_listing(plan.request(product_id, DOCUMENTS))

    assert {"field": "model_id", "requested": world.model_id, "on_chain": "retired",
            "reason": "the model must be registered and not retired"} in refused.value.details["discrepancies"]


def test_another_financier_cannot_list_a_pack_it_does_not_own(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    product_id = exchange.issuer().register(plan)
    request = plan.request(product_id, DOCUMENTS)

    with pytest.raises(ForbiddenError):  # asking in the name of the pack's financier
        exchange.client("financier-2").request_listing(request)
    with pytest.raises(InvalidInputError) as refused:  # asking in its own name
        exchange.client("financier-2").request_listing(
            request.model_copy(update={"financier": world.address("financier-2")}))
    reasons = {(d["field"], d["reason"]) for d in refused.value.details["discrepancies"]}
    assert ("financier", "differs from the pack's financier") in reasons


def test_only_financiers_ask_for_listings(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    product_id = exchange.issuer().register(plan)

    with pytest.raises(ForbiddenError):
        exchange.client("investor").request_listing(plan.request(product_id, DOCUMENTS))


def test_a_listed_product_cannot_be_relisted_from_another_request(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    listing = exchange.issuer().issue(plan, DOCUMENTS)
    request = plan.request(listing["product_id"])  # same manifest, documents' content not sent this time

    assert exchange.client("financier").request_listing(request)["listing_ref"] == listing["listing_ref"]
    with pytest.raises(ConflictError):
        exchange.client("financier").request_listing(request.model_copy(update={"maturity": request.maturity + 1}))


def test_a_listing_stopped_by_a_paused_chain_is_finished_by_sending_it_again(world, exchange, pack_id):
    consortium = world.consortium
    registry = consortium.registry
    plan = exchange.plan(pack_id)
    product_id = exchange.issuer().register(plan)
    request = plan.request(product_id, DOCUMENTS)
    pass_proposal(registry, consortium.governors, registry.functions.proposePause())

    with pytest.raises(ConflictError) as stopped:
        exchange.client("financier").request_listing(request)
    assert stopped.value.code == "chain_refused"
    assert stopped.value.details["error"] == "ConsortiumGuardedEnforcedPause"
    assert exchange.service.views.products() == []  # verified but not listed

    pass_proposal(registry, consortium.governors, registry.functions.proposeUnpause())
    listing = exchange.client("financier").request_listing(request)

    assert listing["state"] == "listed"
    assert _listed_on_chain(world, pack_id, product_id)
