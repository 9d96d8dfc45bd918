"""The scoring package's exceptions: one root, subclasses inherit the builtin they resemble."""

from __future__ import annotations


class ScoringError(Exception):
    """Root of every error raised by `scoring`."""


class ScoringValueError(ScoringError, ValueError):
    """An input value (data, parameter, configuration) that scoring cannot accept."""


class UnreachableTargetError(ScoringValueError):
    """No filtering allowed by the mode brings the pack's bad rate down to the expected rate.

    Carries the best the mode can do, so the caller can offer it: the lowest bad rate
    reachable while keeping at least one asset, and how much must be removed for it.
    """

    def __init__(
        self,
        message: str,
        *,
        expected_bad_rate_ppm: int,
        best_bad_rate_ppm: int,
        best_removed_count: int,
        best_share_removed_ppm: int,
    ) -> None:
        super().__init__(message)
        self.expected_bad_rate_ppm = expected_bad_rate_ppm
        self.best_bad_rate_ppm = best_bad_rate_ppm
        self.best_removed_count = best_removed_count
        self.best_share_removed_ppm = best_share_removed_ppm
