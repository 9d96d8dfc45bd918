"""Distributions through the service: the waterfall's payments shared among holders on chain,
anchored in the ProductRegistry and recorded in the cash ledger, against hand-computed figures.

Book (see test_book.py): senior 720,000 units held 400,001 by ``investor`` and 319,999 by
``investor-2``; subordinated 180,000 units, 100,000 held by ``investor-2`` and 80,000 unsold
(retained by the financier). Coupons 4.50% and 9.00%, paid monthly.
"""

from __future__ import annotations

import csv
import io

import pytest
from issuance_world import DOCUMENTS
from sqlmodel import Session

from api.errors import ConflictError, ForbiddenError, InvalidInputError
from api.exchange import cash
from api.exchange.onchain import ChainReader

DAY = 24 * 3600


@pytest.fixture
def product(world, exchange, pack_id) -> int:
    product_id = exchange.issuer().issue(exchange.plan(pack_id), DOCUMENTS)["product_id"]
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    desk = exchange.client("exchange")
    desk.whitelist(world.address("investor"), now + 30 * DAY)
    desk.whitelist(world.address("investor-2"), now + 30 * DAY, qualified=True)
    exchange.client("investor").subscribe(product_id, 0, 500_001)
    exchange.client("investor-2").subscribe(product_id, 0, 399_999)
    exchange.client("investor-2").subscribe(product_id, 1, 100_000)
    desk.close_book(product_id)
    return product_id


def _payments(result, world) -> dict[tuple[int, str], tuple[int, int]]:
    names = {f"investor:{world.address(n)}": n for n in ("investor", "investor-2")}
    names[f"financier:{world.address('financier')}"] = "financier"
    return {(p["tranche"], names[p["account"]]): (p["interest"], p["principal"]) for p in result["report"]["payments"]}


def test_a_period_pays_interest_senior_first_and_principal_sequentially_to_the_holders(world, exchange, product):
    # Dues: senior 720,000 x 450 / 120,000 = 2,700; subordinated 180,000 x 900 / 120,000 = 1,350.
    # 6,000 collected: both paid, 1,950 residual. 20,000 principal: all to the senior tranche.
    # Senior interest 2,700 over 400,001 : 319,999 -> 1,500.00375 and 1,199.99625: floors 1,500 + 1,199,
    # the last unit to the larger remainder (investor-2). Principal 20,000 -> 11,111.14 and 8,888.86:
    # 11,111 + 8,888, the last unit to investor-2. Subordinated 1,350 over 100,000 : 80,000 -> 750 : 600.
    result = exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000)

    senior, junior = result["report"]["waterfall"]["tranches"]
    assert (senior["interest_paid"], senior["principal_paid"], senior["closing"]) == (2_700, 20_000, 700_000)
    assert (junior["interest_paid"], junior["principal_paid"], junior["closing"]) == (1_350, 0, 180_000)
    assert result["report"]["residual"]["amount"] == 1_950
    assert _payments(result, world) == {
        (0, "investor"): (1_500, 11_111), (0, "investor-2"): (1_200, 8_889),
        (1, "investor-2"): (750, 0), (1, "financier"): (600, 0),
    }
    reader = ChainReader(world.consortium.w3, world.consortium.contracts)
    anchored = world.consortium.contract("ProductRegistry").functions.distribution(product, 1).call()
    assert "0x" + anchored[0].hex() == result["report_hash"]
    assert list(anchored[2]) == [700_000, 180_000]
    assert reader.product(product).distribution_count == 1
    # the ledger: paid at par at allocation, then the period's payments; the pool is emptied
    assert exchange.client("investor").holdings()["cash_balance"] == -400_001 + 1_500 + 11_111
    assert exchange.client("investor-2").holdings()["cash_balance"] == -419_999 + 1_200 + 8_889 + 750
    with Session(exchange.service.engine) as session:
        assert cash.balance(session, cash.pool_account(product)) == 0
        assert cash.balance(session, cash.financier_account(world.address("financier"))) == (
            400_001 + 419_999 - 26_000 + 600 + 1_950
        )


def test_losses_beyond_the_subordinated_tranche_fall_on_the_senior(world, exchange, product):
    # Period 2 from 700,000 / 180,000: dues 2,625 and 1,350; 3,000 collected pays 2,625 and 375
    # (975 short). 200,000 written off: the subordinated tranche loses all 180,000, the senior
    # 20,000; then 10,000 principal: senior 700,000 - 20,000 - 10,000 = 670,000.
    # Senior interest 2,625 -> 1,458.34 and 1,166.66: 1,458 + 1,167. Principal 10,000 -> 5,555.57
    # and 4,444.43: 5,556 + 4,444. Subordinated 375 over 100,000 : 80,000 -> 208.33 : 166.67 -> 208 : 167.
    exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000)

    result = exchange.client("exchange").distribute(product, 2, interest=3_000, principal=10_000, defaults=200_000)

    senior, junior = result["report"]["waterfall"]["tranches"]
    assert (junior["interest_paid"], junior["shortfall_carried"]) == (375, 975)
    assert (junior["loss"], junior["closing"]) == (180_000, 0)
    assert (senior["loss"], senior["principal_paid"], senior["closing"]) == (20_000, 10_000, 670_000)
    assert _payments(result, world) == {
        (0, "investor"): (1_458, 5_556), (0, "investor-2"): (1_167, 4_444),
        (1, "investor-2"): (208, 0), (1, "financier"): (167, 0),
    }
    anchored = world.consortium.contract("ProductRegistry").functions.distribution(product, 2).call()
    assert list(anchored[2]) == [670_000, 0]
    tranches = exchange.service.views.tranches(product)
    assert [(t["outstanding"], t["interest_shortfall"]) for t in tranches] == [(670_000, 0), (0, 975)]
    (position,) = exchange.client("investor").holdings()["positions"]
    assert position["face_outstanding"] == 400_001 * 670_000 // 720_000 == 372_223
    assert (position["interest_received"], position["principal_received"]) == (1_500 + 1_458, 11_111 + 5_556)


def test_a_period_is_distributed_once_in_order_and_only_by_its_servicer_or_the_exchange(world, exchange, product):
    first = exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000)
    block = world.consortium.w3.eth.block_number

    assert exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000) == first
    assert world.consortium.w3.eth.block_number == block
    with pytest.raises(ConflictError):
        exchange.client("financier").distribute(product, 1, interest=6_001, principal=20_000)
    with pytest.raises(InvalidInputError):
        exchange.client("financier").distribute(product, 3, interest=1, principal=1)
    with pytest.raises(InvalidInputError, match="exceeds"):
        exchange.client("financier").distribute(product, 2, interest=0, principal=800_000, defaults=100_000)
    with pytest.raises(ForbiddenError):
        exchange.client("investor").distribute(product, 2, interest=1, principal=1)
    with pytest.raises(ForbiddenError):
        exchange.client("financier-2").distribute(product, 2, interest=1, principal=1)


def test_nothing_is_paid_before_the_book_is_allocated(world, exchange, pack_id):
    product_id = exchange.issuer().issue(exchange.plan(pack_id), DOCUMENTS)["product_id"]

    with pytest.raises(ConflictError) as refused:
        exchange.client("financier").distribute(product_id, 1, interest=1, principal=0)
    assert refused.value.code == "book_state"


def test_an_investor_exports_its_transactions_as_csv(world, exchange, product):
    exchange.client("financier").distribute(product, 1, interest=6_000, principal=20_000)

    rows = list(csv.DictReader(io.StringIO(exchange.client("investor").transactions_csv())))

    assert [(r["kind"], r["units"], r["amount"], r["status"]) for r in rows] == [
        ("order", "500001", "0", "allocated"),
        ("subscription", "400001", "-400001", ""),
        ("interest", "400001", "1500", ""),
        ("principal", "400001", "11111", ""),
    ]
    assert {r["product_id"] for r in rows} == {str(product)}
    assert rows[2]["reference"] == "period 1" and rows[2]["tx_hash"].startswith("0x")


def test_the_product_shows_its_risk_profile_and_proof_links(world, exchange, product):
    detail = exchange.client("investor").product(product)

    risk = detail["risk_profile"]
    assert (risk["bad_rate_before_ppm"], risk["bad_rate_after_ppm"], risk["expected_bad_rate_ppm"]) == (
        138_250, 51_000, 200_000)
    level1, level4 = risk["levels"][0], risk["levels"][3]
    assert level1 == {"level": 1, "before": {"count": 1, "balance": 100_000}, "after": {"count": 0, "balance": 0}}
    assert level4["after"] == {"count": 1, "balance": 200_000}
    assert risk["monitoring"]["pack_state"] == "Issued"
    assert risk["model"]["id"] == world.model_id and risk["model"]["active"]
    proofs = detail["proofs"]
    assert proofs["contracts"]["ProductRegistry"] == world.consortium.contract("ProductRegistry").address
    assert proofs["transactions"]["listing"].startswith("0x")
    assert [d["keccak256"] for d in detail["documents"]] == [doc.keccak256 for doc in DOCUMENTS]
    assert [t["units_issued"] for t in detail["tranches"]] == [720_000, 100_000]
    assert exchange.client("investor").document(product, "prospectus") == DOCUMENTS[0].content
