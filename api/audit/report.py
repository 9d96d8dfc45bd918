"""An audit's outcome: what was audited, what was checked, every finding; as text and as JSON.

``report_hash`` (keccak256 of the canonical JSON) is what an attestation signs over, so anyone
holding the JSON report can check it is the one the auditor attested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chain.audit.findings import Finding
from chain.leaves import canonical_json, record_hash

REPORT_FORMAT = "abs-audit-report"


@dataclass
class AuditReport:
    kind: str  # pack | product | iot | chain | db
    subject: str
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)  # what was looked at (counts, blocks, ...)
    facts: dict[str, Any] = field(default_factory=dict)  # what the chain says, for the reader

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    def to_dict(self) -> dict[str, Any]:
        return {"format": REPORT_FORMAT, "version": 1, "kind": self.kind, "subject": self.subject,
                "verdict": "clean" if self.clean else "findings", "finding_count": len(self.findings),
                "findings": [self._finding(f) for f in self.findings], "checked": _plain(self.checked),
                "facts": _plain(self.facts)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    @property
    def report_hash(self) -> str:
        return "0x" + record_hash(json.loads(json.dumps(self.to_dict(), default=str))).hex()

    def text(self) -> str:
        lines = [f"audit {self.kind} {self.subject}: "
                 + ("CLEAN, no finding" if self.clean else f"{len(self.findings)} FINDING(S)")]
        lines += [f"  checked {key}: {value}" for key, value in self.checked.items()]
        lines += [f"  - {self._line(finding)}" for finding in self.findings]
        return "\n".join(lines)

    def _finding(self, finding: Finding) -> dict[str, Any]:
        body = finding.to_dict()
        if self.kind == "db":  # the database's value against the chain's, named as such
            body.update(database_value=body["actual"], chain_value=body["expected"])
        return body

    def _line(self, finding: Finding) -> str:
        if self.kind != "db":
            return finding.line()
        body = finding.to_dict()
        detail = f" ({finding.detail})" if finding.detail else ""
        return f"{finding.subject} {finding.field}: database {body['actual']!r}, chain {body['expected']!r}{detail}"


def _plain(value: Any) -> Any:
    return json.loads(canonical_json(json.loads(json.dumps(value, default=str))))
