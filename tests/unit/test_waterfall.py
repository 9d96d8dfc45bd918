"""The payment waterfall, period by period, against figures computed by hand.

The product of every test: senior 720,000 at 4.50% and subordinated 180,000 at 9.00% (minor
units), paid monthly. A month's coupon is outstanding x bps / 120,000, rounded down:
senior 720,000 -> 2,700; subordinated 180,000 -> 1,350.
"""

from __future__ import annotations

import pytest

from scoring.waterfall import (
    Collections,
    TrancheState,
    WaterfallError,
    distribute_period,
    initial_states,
    interest_due,
    run_waterfall,
)

MONTHLY = 12


def product() -> tuple[TrancheState, ...]:
    return initial_states([720_000, 180_000], [450, 900], ["senior", "subordinated"])


def test_a_month_with_enough_interest_pays_both_coupons_and_releases_the_rest_as_residual():
    (result,) = run_waterfall(product(), [Collections(interest=6_000, principal=20_000)], MONTHLY)
    senior, junior = result.tranches

    assert (senior.interest_due, senior.interest_paid, senior.shortfall_carried) == (2_700, 2_700, 0)
    assert (junior.interest_due, junior.interest_paid, junior.shortfall_carried) == (1_350, 1_350, 0)
    assert result.residual == 6_000 - 2_700 - 1_350 == 1_950
    # principal is sequential: all 20,000 to the senior tranche
    assert (senior.principal_paid, senior.closing) == (20_000, 700_000)
    assert (junior.principal_paid, junior.closing) == (0, 180_000)


def test_short_interest_pays_the_senior_first_and_carries_the_subordinated_shortfall():
    # Period 2 from 700,000 / 180,000: senior due 700,000*450/120,000 = 2,625, junior 1,350.
    # 3,000 collected: senior 2,625, junior the 375 left, 975 short. Losses 5,000 hit the junior.
    results = run_waterfall(
        product(),
        [Collections(6_000, 20_000), Collections(interest=3_000, principal=10_000, defaults=5_000)],
        MONTHLY,
    )
    senior, junior = results[1].tranches

    assert (senior.interest_due, senior.interest_paid) == (2_625, 2_625)
    assert (junior.interest_due, junior.interest_paid, junior.shortfall_carried) == (1_350, 375, 975)
    assert results[1].residual == 0
    assert (junior.loss, junior.closing) == (5_000, 175_000)
    assert (senior.loss, senior.principal_paid, senior.closing) == (0, 10_000, 690_000)


def test_losses_beyond_the_subordinated_tranche_fall_on_the_senior():
    # Period 3 from 690,000 / 175,000 with 975 owed to the junior. Dues: senior 690,000*450/120,000
    # = 2,587.5 -> 2,587; junior 175,000*900/120,000 = 1,312.5 -> 1,312, plus 975 = 2,287.
    # 4,000 collected: senior 2,587, junior 1,413, still short 874.
    # 200,000 written off: the junior absorbs its 175,000, the senior the other 25,000.
    results = run_waterfall(
        product(),
        [
            Collections(6_000, 20_000),
            Collections(3_000, 10_000, 5_000),
            Collections(interest=4_000, principal=0, defaults=200_000),
        ],
        MONTHLY,
    )
    senior, junior = results[2].tranches

    assert (senior.interest_due, senior.interest_paid) == (2_587, 2_587)
    assert (junior.interest_due, junior.shortfall_brought, junior.interest_paid) == (1_312, 975, 1_413)
    assert junior.shortfall_carried == 874
    assert (junior.loss, junior.closing) == (175_000, 0)
    assert (senior.loss, senior.closing) == (25_000, 665_000)
    # tranche principal still equals the pool: 900,000 - 30,000 repaid - 205,000 written off
    assert senior.closing + junior.closing == 900_000 - 30_000 - 205_000


def test_deferred_interest_stays_owed_after_the_tranche_is_written_off():
    # Period 4 from 665,000 / 0 with 874 owed: senior due 665,000*450/120,000 = 2,493.75 -> 2,493;
    # junior due 0 + 874. 3,000 collected: senior 2,493, junior 507, short 367.
    periods = [
        Collections(6_000, 20_000),
        Collections(3_000, 10_000, 5_000),
        Collections(4_000, 0, 200_000),
        Collections(interest=3_000, principal=5_000),
    ]
    senior, junior = run_waterfall(product(), periods, MONTHLY)[3].tranches

    assert (senior.interest_paid, senior.principal_paid, senior.closing) == (2_493, 5_000, 660_000)
    assert (junior.interest_due, junior.interest_paid, junior.shortfall_carried) == (0, 507, 367)


def test_principal_beyond_the_senior_tranche_flows_to_the_next():
    states = initial_states([100, 50], [0, 0], ["A", "B"])
    senior, junior = distribute_period(1, states, Collections(interest=0, principal=120), MONTHLY).tranches

    assert (senior.principal_paid, senior.closing) == (100, 0)
    assert (junior.principal_paid, junior.closing) == (20, 30)


def test_coupons_round_down_to_the_minor_unit_per_frequency():
    assert interest_due(690_000, 450, 12) == 2_587  # 2,587.5
    assert interest_due(690_000, 450, 4) == 7_762  # 7,762.5
    assert interest_due(1, 10_000, 1) == 1
    assert interest_due(99, 100, 1) == 0  # 0.99


def test_refuses_more_principal_than_the_tranches_hold():
    with pytest.raises(WaterfallError, match="exceeds"):
        distribute_period(1, product(), Collections(interest=0, principal=800_000, defaults=100_001), MONTHLY)


@pytest.mark.parametrize(
    ("collections", "frequency"),
    [(Collections(-1, 0), MONTHLY), (Collections(0, 0, -1), MONTHLY), (Collections(1, 0), 3)],
)
def test_refuses_negative_cash_and_unknown_frequencies(collections, frequency):
    with pytest.raises(WaterfallError):
        distribute_period(1, product(), collections, frequency)
