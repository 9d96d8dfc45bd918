"""Pro-rata allocation of subscription books, checked against figures computed by hand."""

from __future__ import annotations

import pytest

from scoring.allocation import AllocationError, Order, allocate_book, split_pro_rata


def test_an_undersubscribed_book_fills_every_order_and_leaves_the_rest_unsold():
    book = allocate_book(1_000, [Order("a", 300), Order("b", 200)])

    assert [a.allocated for a in book.allocations] == [300, 200]
    assert book.unallocated == 500
    assert not book.oversubscribed


def test_an_exactly_subscribed_book_is_filled_in_full():
    book = allocate_book(720, [Order("a", 500), Order("b", 220)])

    assert [a.allocated for a in book.allocations] == [500, 220]
    assert book.unallocated == 0


def test_an_oversubscribed_book_is_shared_pro_rata_with_the_largest_remainder_getting_the_last_unit():
    # 1,000 units, 1,500 asked. Exact quotas: a 1000*700/1500 = 466 r 1000, b 333 r 500, c 200 r 0.
    # Floors add to 999; the one unit left goes to the largest remainder, a's.
    book = allocate_book(1_000, [Order("a", 700), Order("b", 500), Order("c", 300)])

    assert [a.allocated for a in book.allocations] == [467, 333, 200]
    assert book.allocated == 1_000
    assert book.oversubscribed
    assert book.of("a") == 467


def test_equal_remainders_go_to_the_order_booked_first():
    # 10 units among three orders of 5: each quota 3 r 5; one unit left, to the first booked.
    book = allocate_book(10, [Order("first", 5), Order("second", 5), Order("third", 5)])

    assert [a.allocated for a in book.allocations] == [4, 3, 3]


def test_many_small_orders_share_a_tiny_offer_in_book_order():
    # 7 units, ten orders of 1: every quota is 0 r 7; the seven earliest get one each.
    book = allocate_book(7, [Order(str(i), 1) for i in range(10)])

    assert [a.allocated for a in book.allocations] == [1] * 7 + [0] * 3


def test_no_order_ever_gets_more_than_it_asked_for():
    # quotas 1000*999/1001 = 998 r 2, 1000*1/1001 = 0 r 1000 twice: the two units left go to the small ones.
    book = allocate_book(1_000, [Order("big", 999), Order("small", 1), Order("tiny", 1)])

    for allocation in book.allocations:
        assert allocation.allocated <= allocation.requested
    assert book.allocated == 1_000
    assert [a.allocated for a in book.allocations] == [998, 1, 1]


def test_split_pro_rata_always_adds_up_exactly():
    # 100 by 1:1:1 -> 33 r 1 each, one unit left, to the first.
    assert split_pro_rata(100, [1, 1, 1]) == [34, 33, 33]
    # 2,587 of interest among holdings of 500, 200 and 20 units (sum 720):
    # 2587*500 = 1293500 = 1796*720 + 380; 2587*200 = 517400 = 718*720 + 440; 2587*20 = 51740 = 71*720 + 620.
    # Floors 1796 + 718 + 71 = 2585; two units left to remainders 620 (third) and 440 (second).
    assert split_pro_rata(2_587, [500, 200, 20]) == [1796, 719, 72]
    assert split_pro_rata(0, [3, 4]) == [0, 0]


@pytest.mark.parametrize(
    "orders",
    [[Order("a", 0)], [Order("a", -5)], [Order("a", 1), Order("a", 2)], [Order("a", 1.5)]],
)
def test_refuses_orders_that_are_not_positive_whole_units_or_not_unique(orders):
    with pytest.raises(AllocationError):
        allocate_book(100, orders)


def test_refuses_to_share_something_among_nothing():
    with pytest.raises(AllocationError):
        split_pro_rata(5, [0, 0])
