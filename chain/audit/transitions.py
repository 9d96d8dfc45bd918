"""The legal life of an asset pack, and the check of a replayed state history against it.

``AssetPack`` moves a pack one state forward at a time (``PackState`` of ``IAssetPack``):
None -> Submitted -> CreditChecked -> Scored -> Graded -> Filtered -> Committed -> Issued ->
Monitoring -> Closed. A replayed history is legal when every ``PackStateChanged`` is such a
step and starts where the one before ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chain.audit.findings import Finding

PACK_STATES = ("None", "Submitted", "CreditChecked", "Scored", "Graded", "Filtered", "Committed", "Issued",
               "Monitoring", "Closed")
LEGAL_PACK_STEPS: frozenset[tuple[int, int]] = frozenset((i, i + 1) for i in range(len(PACK_STATES) - 1))


def state_name(value: int) -> str:
    return PACK_STATES[value] if 0 <= value < len(PACK_STATES) else f"Unknown({value})"


@dataclass(frozen=True)
class StateChange:
    """One ``PackStateChanged`` event."""

    previous: int
    current: int
    block_number: int
    tx_hash: str


def check_history(pack_id: int, history: Iterable[StateChange], final_state: int | None = None,
                  legal: frozenset[tuple[int, int]] = LEGAL_PACK_STEPS) -> list[Finding]:
    """Every illegal step, gap or end state that the view disagrees with, as findings."""
    findings: list[Finding] = []
    subject = f"pack {pack_id}"
    reached = 0
    for change in history:
        where = f"block {change.block_number}, tx {change.tx_hash}"
        if change.previous != reached:
            findings.append(Finding("state-history", subject, "previous", state_name(reached),
                                    state_name(change.previous), f"the change at {where} does not start where "
                                                                 "the history stood"))
        if (change.previous, change.current) not in legal:
            findings.append(Finding("state-history", subject, "transition", "a single forward step",
                                    f"{state_name(change.previous)} -> {state_name(change.current)}",
                                    f"illegal transition at {where}"))
        reached = change.current
    if final_state is not None and final_state != reached:
        findings.append(Finding("state-history", subject, "state", state_name(reached), state_name(final_state),
                                "the contract's current state is not where its events lead"))
    return findings
