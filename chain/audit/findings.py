"""A finding: one thing the auditor found that disagrees with what it should be.

Every check of the audit returns findings rather than raising, so that one run lists all of
them; the report (``api.audit.report``) renders them and the command exits non-zero if any.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """``check`` failed for ``subject`` (an asset, a pack, a table row...): ``field`` is
    ``expected`` (what the chain or the recomputation says) but ``actual`` (what was given)."""

    check: str
    subject: str
    field: str = ""
    expected: Any = None
    actual: Any = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {key: plain(value) for key, value in asdict(self).items()}

    def line(self) -> str:
        where = f"{self.subject}.{self.field}" if self.field else self.subject
        values = f": expected {plain(self.expected)!r}, got {plain(self.actual)!r}" if (
            self.expected is not None or self.actual is not None) else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"[{self.check}] {where}{values}{detail}"


def plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def mismatch(check: str, subject: str, field: str, expected: Any, actual: Any, detail: str = "") -> list[Finding]:
    """``[Finding]`` if ``expected != actual`` (after bytes become hex), else ``[]``."""
    if plain(expected) == plain(actual):
        return []
    return [Finding(check, subject, field, expected, actual, detail)]
