"""The exchange's domain errors; each is a ``PlatformError`` and so maps to HTTP in one place."""

from __future__ import annotations

from api.errors import ConflictError, ForbiddenError, InvalidInputError


class ListingRefusedError(InvalidInputError):
    """The issuance request disagrees with the chain; ``details`` lists every discrepancy."""

    code = "listing_refused"


class IneligibleInvestorError(ForbiddenError):
    """The investor may not hold units of the tranche (whitelist, expiry, qualification)."""

    code = "investor_not_eligible"


class BookStateError(ConflictError):
    """The product's book is not in the state this step needs (open, allocated...)."""

    code = "book_state"


class ChainRefusalError(ConflictError):
    """A contract reverted; ``details`` names the custom error and its arguments."""

    code = "chain_refused"
