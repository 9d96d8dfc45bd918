"""Rebuild the platform's state from its events alone: ``rebuild_state(w3, manifest)``.

Reads every event of the manifest's contracts from the deploy block, in pages of blocks
(``chain.events.EventDecoder.replay`` halves a page the node refuses), and applies each with
the handler table of ``chain.audit.handlers``. Tranche tokens are clones the manifest does not
name: they are discovered from ``ProductListed`` events, and their own events are read from the
page where they appear on. Everything comes out in chain order (block, log index).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web3 import Web3

from chain.audit import monitoring_handlers  # noqa: F401  # registers PackMonitor's handlers
from chain.audit.handlers import apply
from chain.audit.state import ChainState
from chain.events import DEFAULT_PAGE_BLOCKS, EventDecoder, EventRecord
from chain.manifest import Manifest

TOKEN_KIND = "TrancheToken"
TOKEN_PREFIX = "TrancheToken@"  # decoder names of clones: one per address


def _artifacts(artifacts: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if artifacts is None:
        from chain.contracts import platform_artifacts

        return platform_artifacts()
    return artifacts


def rebuild_state(
    w3: Web3,
    manifest: Manifest,
    *,
    to_block: int | None = None,
    page_blocks: int = DEFAULT_PAGE_BLOCKS,
    artifacts: Mapping[str, Any] | None = None,
) -> ChainState:
    """The state every event since ``manifest.deploy_block`` up to ``to_block`` (default latest) leads to."""
    artifacts = _artifacts(artifacts)
    last = w3.eth.block_number if to_block is None else to_block
    state = ChainState(chain_id=w3.eth.chain_id, from_block=manifest.deploy_block, to_block=last)
    platform = EventDecoder(w3, {name: (r.address, artifacts[name].abi) for name, r in manifest.contracts.items()})
    token_abi = artifacts[TOKEN_KIND].abi
    tokens: list[str] = []
    start = manifest.deploy_block
    while start <= last:
        end = min(start + page_blocks - 1, last)
        records = list(platform.replay(start, end, page_blocks=page_blocks))
        tokens += [token for r in records if r.event == "ProductListed" for token in r.args["tokens"]
                   if token not in tokens]
        if tokens:
            clones = EventDecoder(w3, {f"{TOKEN_PREFIX}{t}": (t, token_abi) for t in tokens})
            records = sorted(records + list(clones.replay(start, end, page_blocks=page_blocks)),
                             key=lambda r: r.position)
        for record in records:
            apply(state, record, kind_of(record))
        start = end + 1
    return state


def kind_of(record: EventRecord) -> str:
    """The contract kind whose handlers apply: clones of the tranche template count as it."""
    return TOKEN_KIND if record.contract.startswith(TOKEN_PREFIX) else record.contract
