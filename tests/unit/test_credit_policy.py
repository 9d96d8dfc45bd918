"""The exclusion policy of the credit check (scoring/credit_policy.py, patent claim 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring.credit_policy import (
    BAD_PROOF,
    FAILED_VERIFICATION,
    FULL_WEIGHT_PPM,
    HASH_MISMATCH,
    NO_RECORD,
    STALE,
    UNKNOWN_BATCH,
    CreditFacts,
    CreditPolicy,
    StalePolicy,
    decide,
    is_stale,
    reason_category,
)

TODAY = dt.date(2026, 3, 31)
EXCLUDE = CreditPolicy(max_age_days=90)
DOWNWEIGHT = CreditPolicy(max_age_days=90, stale_policy="downweight", stale_weight_ppm=250_000)


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def test_fresh_verified_record_is_eligible_at_full_weight():
    decision = decide(CreditFacts(found=True, as_of=days_ago(10)), TODAY, EXCLUDE)
    assert (decision.eligible, decision.reason, decision.weight_ppm) == (True, None, FULL_WEIGHT_PPM)
    assert decision.category is None


def test_missing_record_is_excluded_as_no_record():
    decision = decide(CreditFacts(found=False), TODAY, DOWNWEIGHT)
    assert (decision.eligible, decision.reason, decision.weight_ppm) == (False, NO_RECORD, 0)
    assert decision.category == NO_RECORD


@pytest.mark.parametrize("failure", [HASH_MISMATCH, BAD_PROOF, UNKNOWN_BATCH])
def test_failed_verification_excludes_even_a_fresh_record_under_downweight(failure):
    decision = decide(CreditFacts(found=True, failure=failure, as_of=days_ago(1)), TODAY, DOWNWEIGHT)
    assert (decision.eligible, decision.reason, decision.weight_ppm) == (False, failure, 0)
    assert decision.category == FAILED_VERIFICATION


def test_age_limit_is_inclusive_one_day_more_is_stale():
    assert decide(CreditFacts(True, as_of=days_ago(90)), TODAY, EXCLUDE).eligible
    late = decide(CreditFacts(True, as_of=days_ago(91)), TODAY, EXCLUDE)
    assert (late.eligible, late.reason, late.weight_ppm) == (False, STALE, 0)


def test_downweight_keeps_a_stale_record_at_the_configured_weight():
    decision = decide(CreditFacts(True, as_of=days_ago(400)), TODAY, DOWNWEIGHT)
    assert (decision.eligible, decision.reason, decision.weight_ppm) == (True, STALE, 250_000)
    assert decision.category == STALE


def test_a_verified_record_without_a_date_counts_as_stale():
    assert is_stale(None, TODAY, 90)
    assert decide(CreditFacts(True, as_of=None), TODAY, EXCLUDE).reason == STALE


def test_record_dated_after_today_is_fresh():
    assert not is_stale(TODAY + dt.timedelta(days=3), TODAY, 0)


def test_policy_refuses_bad_configuration():
    with pytest.raises(ValueError, match="stale_policy"):
        CreditPolicy(90, stale_policy="ignore")
    with pytest.raises(ValueError, match="stale_weight_ppm"):
        CreditPolicy(90, stale_weight_ppm=1_000_001)
    with pytest.raises(ValueError, match="max_age_days"):
        CreditPolicy(-1)
    assert CreditPolicy(90, stale_policy="downweight").stale_policy is StalePolicy.DOWNWEIGHT


def test_facts_refuse_unknown_failures_and_failures_without_a_record():
    with pytest.raises(ValueError, match="unknown verification failure"):
        CreditFacts(True, failure="looks_odd")
    with pytest.raises(ValueError, match="not found"):
        CreditFacts(False, failure=BAD_PROOF)


def test_reason_category_groups_verification_failures():
    assert reason_category(UNKNOWN_BATCH) == FAILED_VERIFICATION
    assert reason_category(STALE) == STALE
    assert reason_category(None) is None
    with pytest.raises(ValueError):
        reason_category("whatever")
