"""Subscriptions: only eligible investors book and receive units; an oversubscribed book is
allocated pro rata (largest remainder), minted on chain and paid in the cash ledger.

The product: senior ABS<p>-A 720,000 units (open to every whitelisted investor) and
subordinated ABS<p>-B 180,000 units (qualified investors only).
"""

from __future__ import annotations

import pytest
from issuance_world import DOCUMENTS

from api.errors import ConflictError, ForbiddenError, NotFoundError
from api.exchange.onchain import ChainReader
from chain.backends import advance_time
from chain.errors import ContractCustomError

DAY = 24 * 3600
NOT_WHITELISTED, WHITELIST_EXPIRED = 2, 3


@pytest.fixture
def product(world, exchange, pack_id) -> int:
    listing = exchange.issuer().issue(exchange.plan(pack_id), DOCUMENTS)
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    desk = exchange.client("exchange")
    desk.whitelist(world.address("investor"), now + 30 * DAY)
    desk.whitelist(world.address("investor-2"), now + 30 * DAY, qualified=True)
    return listing["product_id"]


def _token(world, exchange, product, tranche):
    address = exchange.service.views.tranches(product)[tranche]["token"]
    return ChainReader(world.consortium.w3, world.consortium.contracts).token(address)


def test_an_oversubscribed_book_is_allocated_pro_rata_minted_and_paid(world, exchange, product):
    # Senior: 500,001 + 399,999 = 900,000 asked for 720,000. Quotas 720,000 x 500,001 / 900,000 =
    # 400,000.8 and 319,999.2: floors 400,000 + 319,999 leave 1 unit, to the larger remainder (.8).
    # Subordinated: 100,000 asked of 180,000, filled; 80,000 stay unsold.
    first = exchange.client("investor").subscribe(product, 0, 500_001)
    second = exchange.client("investor-2").subscribe(product, 0, 399_999)
    junior = exchange.client("investor-2").subscribe(product, 1, 100_000)

    result = exchange.client("exchange").close_book(product)

    senior, subordinated = result["tranches"]
    assert (senior["requested"], senior["allocated"], senior["oversubscribed"]) == (900_000, 720_000, True)
    assert {o["id"]: o["allocated"] for o in senior["orders"]} == {first["id"]: 400_001, second["id"]: 319_999}
    assert (subordinated["allocated"], subordinated["unallocated"]) == (100_000, 80_000)
    assert subordinated["orders"][0]["id"] == junior["id"]
    a, b = _token(world, exchange, product, 0), _token(world, exchange, product, 1)
    assert a.functions.balanceOf(world.address("investor")).call() == 400_001
    assert a.functions.balanceOf(world.address("investor-2")).call() == 319_999
    assert b.functions.balanceOf(world.address("investor-2")).call() == 100_000
    assert b.functions.totalSupply().call() == 100_000
    holdings = exchange.client("investor").holdings()
    assert holdings["cash_balance"] == -400_001  # paid at par, recorded, no money moved
    assert exchange.client("investor-2").holdings()["cash_balance"] == -419_999


def test_closing_twice_mints_nothing_more(world, exchange, product):
    exchange.client("investor").subscribe(product, 0, 1_000)
    first = exchange.client("exchange").close_book(product)
    block = world.consortium.w3.eth.block_number

    assert exchange.client("exchange").close_book(product) == first
    assert world.consortium.w3.eth.block_number == block
    with pytest.raises(ConflictError) as closed:
        exchange.client("investor").subscribe(product, 0, 1)
    assert closed.value.code == "book_state"


def test_a_non_whitelisted_investor_is_refused_by_the_api_and_by_the_token(world, exchange, product):
    with pytest.raises(ForbiddenError) as refused:
        exchange.client("investor-3").subscribe(product, 0, 1_000)
    assert refused.value.details["reason"] == "not_whitelisted"

    exchange.client("investor").subscribe(product, 0, 1_000)
    exchange.client("exchange").close_book(product)
    token = _token(world, exchange, product, 0)
    with pytest.raises(ContractCustomError) as reverted:
        world.consortium.sender("investor").transact(token.functions.transfer(world.address("investor-3"), 10))
    assert reverted.value.name == "TrancheTokenNotEligible"
    assert reverted.value.args == (world.address("investor-3"), NOT_WHITELISTED)


def test_an_investor_whose_whitelisting_expired_is_refused_by_the_api_and_by_the_token(world, exchange, product):
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    exchange.client("exchange").whitelist(world.address("investor-3"), now + DAY)
    exchange.client("investor").subscribe(product, 0, 1_000)
    advance_time(world.consortium.w3, 2 * DAY)

    with pytest.raises(ForbiddenError) as refused:
        exchange.client("investor-3").subscribe(product, 0, 1_000)
    assert refused.value.details["reason"] == "whitelist_expired"
    assert refused.value.details["expired_at"] == now + DAY
    exchange.client("exchange").close_book(product)
    token = _token(world, exchange, product, 0)
    with pytest.raises(ContractCustomError) as reverted:
        world.consortium.sender("investor").transact(token.functions.transfer(world.address("investor-3"), 10))
    assert reverted.value.args == (world.address("investor-3"), WHITELIST_EXPIRED)


def test_an_order_whose_investor_lapses_before_closing_is_rejected_not_minted(world, exchange, product):
    now = world.consortium.w3.eth.get_block("latest")["timestamp"]
    exchange.client("exchange").whitelist(world.address("investor-3"), now + DAY)
    lapsing = exchange.client("investor-3").subscribe(product, 0, 600_000)
    staying = exchange.client("investor").subscribe(product, 0, 600_000)
    advance_time(world.consortium.w3, 2 * DAY)

    senior = exchange.client("exchange").close_book(product)["tranches"][0]

    orders = {o["id"]: o for o in senior["orders"]}
    assert orders[lapsing["id"]]["status"] == "rejected"
    assert "expired" in orders[lapsing["id"]]["reason"]
    assert orders[staying["id"]]["allocated"] == 600_000  # no longer oversubscribed
    assert _token(world, exchange, product, 0).functions.balanceOf(world.address("investor-3")).call() == 0


def test_the_subordinated_tranche_is_for_qualified_investors_only(world, exchange, product):
    with pytest.raises(ForbiddenError) as refused:
        exchange.client("investor").subscribe(product, 1, 1_000)
    assert refused.value.details["reason"] == "not_qualified"
    assert exchange.client("investor-2").subscribe(product, 1, 1_000)["status"] == "booked"


def test_roles_decide_who_closes_the_book_and_who_sees_holders(world, exchange, product):
    exchange.client("investor").subscribe(product, 0, 1_000)
    with pytest.raises(ForbiddenError):
        exchange.client("investor").close_book(product)
    with pytest.raises(ForbiddenError):
        exchange.client("financier").close_book(product)
    exchange.client("exchange").close_book(product)
    with pytest.raises(ForbiddenError):
        exchange.client("investor").holders(product)

    (senior, subordinated) = exchange.client("exchange").holders(product)
    assert senior["holders"] == [{"address": world.address("investor"), "units": 1_000}]
    assert subordinated["holders"] == []


def test_an_investor_sees_only_its_own_orders_and_may_cancel_while_the_book_is_open(world, exchange, product):
    mine = exchange.client("investor").subscribe(product, 0, 5_000)
    exchange.client("investor-2").subscribe(product, 0, 7_000)
    client = exchange.client("investor")

    assert [o["id"] for o in client.orders(product)] == [mine["id"]]
    assert len(exchange.client("exchange").orders(product)) == 2
    with pytest.raises(NotFoundError):
        exchange.client("investor-2").cancel(mine["id"])
    assert client.cancel(mine["id"])["status"] == "cancelled"
    senior = exchange.client("exchange").close_book(product)["tranches"][0]
    assert senior["allocated"] == 7_000
