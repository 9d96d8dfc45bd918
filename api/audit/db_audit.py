"""``audit db --database-url ...``: every row of the platform's databases that disagrees with the
state rebuilt from the chain (orchestrator, exchange and IoT tables, in one database or several).
This is the only audit that reads a database; it does so by reflection, read-only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import create_engine
from web3 import Web3

from api.audit.db_bundles import BundleSource
from api.audit.db_context import DbContext
from api.audit.db_exchange import compare_exchange
from api.audit.db_iot import compare_iot
from api.audit.db_monitoring import compare_monitoring
from api.audit.db_orchestrator import compare_orchestrator
from api.audit.report import AuditReport
from chain.audit.findings import Finding
from chain.audit.replay import rebuild_state
from chain.audit.state import ChainState
from chain.manifest import Manifest

COMPARERS = (compare_orchestrator, compare_monitoring, compare_exchange, compare_iot)
# Two checks may name the same field of the same row (a level against the model's edges and
# against ScoreRegistry.scoreOf): the report lists the row's field once, with the first reason.


def audit_databases(w3: Web3, manifest: Manifest, database_urls: Sequence[str], *,
                    state: ChainState | None = None, bundles: BundleSource | None = None) -> AuditReport:
    """``bundles``: published pack bundles; each is checked against the chain's roots, and what it
    proves names the rows of packs whose chain record is roots only (``api.audit.db_bundles``)."""
    state = state or rebuild_state(w3, manifest)
    report = AuditReport("db", ", ".join(_safe(url) for url in database_urls))
    tables = 0
    for url in database_urls:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                ctx = DbContext.reflect(w3, manifest, state, connection, bundles)
                tables += len(ctx.tables)
                for compare in COMPARERS:
                    report.findings += compare(ctx)
        finally:
            engine.dispose()
    report.findings = _once_per_field(report.findings)
    report.checked = {"databases": len(database_urls), "tables": tables,
                      "chain blocks": f"{state.from_block}..{state.to_block}"}
    return report


def _once_per_field(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        if (finding.subject, finding.field) not in seen:
            seen.add((finding.subject, finding.field))
            unique.append(finding)
    return unique


def _safe(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':')[0]}@{tail}"
