"""Structuring a product (the financier's pure core): tranche sizes that add up to the kept
balance exactly, hashed documents, an issuance key that changes with any term, and refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from issuance_world import DOCUMENTS

from api.errors import ConflictError, ForbiddenError, InvalidInputError
from api.exchange.facts import PackFacts, PackState
from api.services.issuance import (
    DocumentFile,
    ProductDesign,
    ProductPlan,
    TrancheDesign,
    senior_subordinated,
    structure_product,
)

PACK = PackFacts(
    pack_id=7, financier="0x" + "11" * 20, state=PackState.COMMITTED, expected_bad_rate_ppm=50_000,
    kept_root="0x" + "22" * 32, kept_count=3, kept_balance=900_001, removed_count=1, removed_balance=99_999,
    filter_mode="global", weight_by="balance", bad_rate_before_ppm=80_000, bad_rate_after_ppm=45_000, model_id=2,
    level_counts=(1, 0, 0, 1, 0, 0, 0, 1, 0, 1), level_balances=(99_999, 0, 0, 1, 0, 0, 0, 400_000, 0, 500_000),
    issued_product=0,
)
DESIGN = ProductDesign(senior_subordinated(7), dt.date(2030, 6, 30), 4)


def test_an_80_20_split_adds_up_to_the_kept_balance_exactly():
    # 900,001 x 80% = 720,000.8 and x 20% = 180,000.2: the unit left goes to the larger remainder.
    plan = structure_product(PACK, DESIGN, DOCUMENTS)

    assert [(t.symbol, t.size, t.coupon_bps, t.qualified_only) for t in plan.tranches] == [
        ("ABS7-A", 720_001, 450, False), ("ABS7-B", 180_000, 900, True)]
    assert plan.maturity == int(dt.datetime(2030, 6, 30, tzinfo=dt.timezone.utc).timestamp())
    assert (plan.kept_root, plan.model_id, plan.payments_per_year) == (PACK.kept_root, 2, 4)
    assert plan.documents == tuple(sorted((d.kind, d.filename, d.keccak256) for d in DOCUMENTS))


def test_three_tranches_and_the_issuance_key_follows_every_term():
    design = ProductDesign((TrancheDesign("A", "A", 7_000, 400), TrancheDesign("M", "M", 2_000, 650),
                            TrancheDesign("E", "E", 1_000, 1_200, True)), dt.date(2031, 1, 1), 12)
    plan = structure_product(PACK, design, DOCUMENTS)
    assert [t.size for t in plan.tranches] == [630_001, 180_000, 90_000]

    other_tranche = TrancheDesign("E", "E", 1_000, 1_300, True)
    other_coupon = dataclasses.replace(design, tranches=(*design.tranches[:2], other_tranche))
    other_document = (DOCUMENTS[0], DocumentFile("servicing_agreement", "servicing.pdf", b"v2"))
    keys = {plan.issuance_key, structure_product(PACK, other_coupon, DOCUMENTS).issuance_key,
            structure_product(PACK, design, other_document).issuance_key}
    assert len(keys) == 3
    assert structure_product(PACK, design, DOCUMENTS).issuance_key == plan.issuance_key


@pytest.mark.parametrize(
    ("pack", "design", "documents"),
    [
        (dataclasses.replace(PACK, state=PackState.FILTERED), DESIGN, DOCUMENTS),
        (PACK, dataclasses.replace(DESIGN, tranches=senior_subordinated(7, senior_share_bps=10_000)), DOCUMENTS),
        (PACK, dataclasses.replace(DESIGN, tranches=DESIGN.tranches[:1]), DOCUMENTS),
        (PACK, DESIGN, DOCUMENTS[:1]),
    ],
    ids=["not-committed", "empty-junior", "one-tranche", "missing-document"],
)
def test_refuses_what_cannot_be_issued(pack, design, documents):
    with pytest.raises((ConflictError, InvalidInputError)):
        structure_product(pack, design, documents)


def test_only_the_packs_own_financier_structures_it(world, exchange, pack_id):
    with pytest.raises(ForbiddenError):
        exchange.plan(pack_id, member="financier-2")
    with pytest.raises(ForbiddenError):
        exchange.plan(pack_id, member="investor")


def test_the_plan_survives_its_file(world, exchange, pack_id):
    plan = exchange.plan(pack_id)
    assert ProductPlan.from_json(plan.to_json()) == plan
