"""Which assets may be scored, given what the credit check found (patent claim 4).

Pure policy: the platform's credit check establishes per-asset facts (was a bureau record
found, did it verify against the bureau's on-chain commitment, how old is it) and this module
decides. An asset is excluded before scoring when its borrower has no record, when the record
fails verification, or when it is stale and the stale policy is ``exclude``; under the
``downweight`` policy a stale but verified record is kept at a smaller weight (the patent's
variant).

Reason codes are stable strings: they are stored with each exclusion and may be committed on
chain as ``keccak256(reason)``. Verification failures have their own codes, grouped under the
category ``failed_verification`` (see :func:`reason_category`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

FULL_WEIGHT_PPM = 1_000_000

NO_RECORD = "no_record"
#: The record and salt do not hash to the value the bureau says it committed.
HASH_MISMATCH = "hash_mismatch"
#: The committed value is not proven under the batch's root (wrong proof, or a proof or leaf
#: of another batch).
BAD_PROOF = "bad_proof"
#: The batch is not on chain, or its on-chain root is not the one the bureau names.
UNKNOWN_BATCH = "unknown_batch"
#: The record verifies but belongs to another borrower than the one asked for.
BORROWER_MISMATCH = "borrower_mismatch"
STALE = "stale"

FAILED_VERIFICATION = "failed_verification"
VERIFICATION_FAILURES = frozenset({HASH_MISMATCH, BAD_PROOF, UNKNOWN_BATCH, BORROWER_MISMATCH})
REASONS = frozenset({NO_RECORD, STALE, *VERIFICATION_FAILURES})


class StalePolicy(str, Enum):
    """What happens to an asset whose verified record is older than the maximum age."""

    EXCLUDE = "exclude"
    DOWNWEIGHT = "downweight"


@dataclass(frozen=True)
class CreditPolicy:
    """The configurable part: maximum record age and what to do with stale records."""

    max_age_days: int
    stale_policy: StalePolicy = StalePolicy.EXCLUDE
    stale_weight_ppm: int = 500_000

    def __post_init__(self) -> None:
        if isinstance(self.max_age_days, bool) or not isinstance(self.max_age_days, int) or self.max_age_days < 0:
            raise ValueError(f"max_age_days must be a non-negative integer, got {self.max_age_days!r}")
        try:
            object.__setattr__(self, "stale_policy", StalePolicy(self.stale_policy))
        except ValueError:
            choices = ", ".join(policy.value for policy in StalePolicy)
            raise ValueError(f"stale_policy must be one of {choices}, got {self.stale_policy!r}") from None
        if not isinstance(self.stale_weight_ppm, int) or not 0 <= self.stale_weight_ppm <= FULL_WEIGHT_PPM:
            raise ValueError(f"stale_weight_ppm must be an integer in 0..{FULL_WEIGHT_PPM}, got {self.stale_weight_ppm!r}")


@dataclass(frozen=True)
class CreditFacts:
    """What the credit check established for one asset's borrower.

    ``failure`` is ``None`` when the record verified, else one of ``VERIFICATION_FAILURES``.
    ``as_of`` is the verified record's own date (``None`` if it has none).
    """

    found: bool
    failure: str | None = None
    as_of: dt.date | None = None

    def __post_init__(self) -> None:
        if self.failure is not None and self.failure not in VERIFICATION_FAILURES:
            raise ValueError(f"unknown verification failure {self.failure!r}")
        if not self.found and self.failure is not None:
            raise ValueError("a record that was not found cannot have failed verification")


@dataclass(frozen=True)
class CreditDecision:
    eligible: bool
    reason: str | None  # None: eligible with a fresh record
    weight_ppm: int

    @property
    def category(self) -> str | None:
        return reason_category(self.reason)


def reason_category(reason: str | None) -> str | None:
    """``no_record``, ``failed_verification`` or ``stale`` for a reason code; None for None."""
    if reason is None:
        return None
    if reason in VERIFICATION_FAILURES:
        return FAILED_VERIFICATION
    if reason in (NO_RECORD, STALE):
        return reason
    raise ValueError(f"unknown credit reason {reason!r}")


def record_age_days(as_of: dt.date, today: dt.date) -> int:
    return (today - as_of).days


def is_stale(as_of: dt.date | None, today: dt.date, max_age_days: int) -> bool:
    """Older than ``max_age_days`` (a record exactly that old is still fresh); undated is stale."""
    return as_of is None or record_age_days(as_of, today) > max_age_days


_NO_RECORD = CreditDecision(False, NO_RECORD, 0)
_FRESH = CreditDecision(True, None, FULL_WEIGHT_PPM)


def decide(facts: CreditFacts, today: dt.date, policy: CreditPolicy) -> CreditDecision:
    """Eligible or excluded, why, and at which weight.

    Order matters: a missing record is reported as such, a record that fails verification is
    excluded whatever its age (its date cannot be trusted), and only a verified record can be
    stale.
    """
    if not facts.found:
        return _NO_RECORD
    if facts.failure is not None:
        return CreditDecision(False, facts.failure, 0)
    if not is_stale(facts.as_of, today, policy.max_age_days):
        return _FRESH
    if policy.stale_policy is StalePolicy.DOWNWEIGHT:
        return CreditDecision(True, STALE, policy.stale_weight_ppm)
    return CreditDecision(False, STALE, 0)
