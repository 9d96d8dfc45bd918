"""``absctl audit ...``: the auditor's independent checks (DESIGN step 10).

The auditor needs three things: a chain RPC URL (``--chain-url`` / ``ABS_CHAIN_URL``), the
deployment manifest (``--manifest`` / ``ABS_MANIFEST_PATH``) and what the platform publishes
for auditors (export bundles: a file, or fetched from the orchestrator API with the auditor's
key). Only ``audit db`` reads a database, given by URL. Every command prints a report, writes
JSON with ``--json PATH`` (``-`` for stdout) and exits 1 on any finding. ``--attest --as NAME``
signs the verdict (EIP-712) with the AUDITOR member's key and records it in AttestationRegistry.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from web3 import Web3

from api.audit.bundle import iter_text_lines, read_pack_bundle
from api.audit.chain_audit import audit_chain
from api.audit.db_audit import audit_databases
from api.audit.db_bundles import BundleSource, http_fetcher
from api.audit.export_iot import export_iot_lines
from api.audit.iot_audit import audit_iot, read_iot_bundle
from api.audit.pack_audit import audit_pack
from api.audit.product_audit import audit_product
from api.audit.report import AuditReport
from api.cli.common import console, errors, platform, reports_errors
from api.settings import Settings
from chain.audit.attestation import Statement, attest
from chain.backends import connect
from chain.manifest import Manifest

app = typer.Typer(help="Audit the platform from the chain, the manifest and the published bundles.")

CHAIN = Annotated[str | None, typer.Option("--chain-url", envvar="ABS_CHAIN_URL", help="the chain's RPC URL")]
MANIFEST = Annotated[Path | None, typer.Option("--manifest", envvar="ABS_MANIFEST_PATH", help="deployment manifest")]
JSON_OUT = Annotated[str | None, typer.Option("--json", help="write the JSON report here ('-': stdout)")]
ATTEST = Annotated[bool, typer.Option("--attest", help="sign and record the verdict on chain")]
AS = Annotated[str, typer.Option("--as", help="the AUDITOR member whose key signs the attestation")]
PAGE = Annotated[int, typer.Option("--page-blocks", help="blocks per log query")]


def connect_chain(url: str) -> Web3:
    """The auditor's connection (tests swap in their in-process chain)."""
    return connect(url)


def client(url: str, api_key: str) -> httpx.Client:
    """The HTTP client that fetches bundles (tests swap in one bound to an in-process app)."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=600.0)


def _chain(chain_url: str | None, manifest: Path | None) -> tuple[Web3, Manifest]:
    settings = Settings()
    return connect_chain(chain_url or settings.chain_url), Manifest.load(manifest or settings.manifest_path)


def _finish(report: AuditReport, json_out: str | None) -> None:
    if json_out == "-":
        sys.stdout.write(report.to_json() + "\n")
    else:
        console.print(report.text(), highlight=False, markup=False, soft_wrap=True)
        if json_out:
            Path(json_out).write_text(report.to_json() + "\n")
    if not report.clean:
        raise typer.Exit(1)


def _attest(report: AuditReport, member: str, statement: Statement) -> None:
    p = platform()
    sender = p.sender(member)
    attestation_id = attest(sender, sender.account, p.contract("AttestationRegistry"), statement)
    errors.print(f"attestation {attestation_id} recorded ({report.to_dict()['verdict']}, "
                 f"report hash {report.report_hash})", highlight=False)


@app.command("pack")
@reports_errors
def pack(pack_id: int, chain_url: CHAIN = None, manifest: MANIFEST = None,
         bundle: Annotated[Path | None, typer.Option(help="the pack's export bundle (JSON lines)")] = None,
         api_url: Annotated[str | None, typer.Option("--api-url", envvar="ABS_API_URL",
                                                     help="fetch the bundle from this orchestrator")] = None,
         api_key: Annotated[str | None, typer.Option("--api-key", envvar="ABS_API_KEY")] = None,
         json_out: JSON_OUT = None, page_blocks: PAGE = 5_000, attest_: ATTEST = False, member: AS = "auditor") -> None:
    """Recompute a pack's roots, proofs, levels, bad rates and filter; replay its state history."""
    w3, deployment = _chain(chain_url, manifest)
    loaded = None
    if bundle is not None:
        with bundle.open() as handle:
            loaded = read_pack_bundle(handle)
    elif api_url and api_key:
        with client(api_url, api_key) as http, http.stream("GET", f"/v1/audit/packs/{pack_id}/bundle") as response:
            if response.is_error:
                response.read()
                raise typer.BadParameter(f"the API refused the bundle: {response.status_code} {response.text[:300]}")
            loaded = read_pack_bundle(iter_text_lines(response.iter_bytes()))
    report = audit_pack(w3, deployment, pack_id, loaded, page_blocks=page_blocks)
    if attest_:
        root = report.facts.get("kept_root")
        _attest(report, member, Statement.over_pack(pack_id, root, len(report.findings), report.report_hash,
                                                    time.time_ns()))
    _finish(report, json_out)


@app.command("product")
@reports_errors
def product(product_id: int, chain_url: CHAIN = None, manifest: MANIFEST = None, json_out: JSON_OUT = None) -> None:
    """A product against its pack, its tranche tokens and its distributions."""
    w3, deployment = _chain(chain_url, manifest)
    _finish(audit_product(w3, deployment, product_id), json_out)


@app.command("iot")
@reports_errors
def iot(window: Annotated[list[int], typer.Option("--window", help="an anchored window id (repeatable)")],
        chain_url: CHAIN = None, manifest: MANIFEST = None,
        bundle: Annotated[Path | None, typer.Option(help="the IoT bundle of the windows")] = None,
        json_out: JSON_OUT = None) -> None:
    """Anchored event windows; with the bundle, every event's hash, signature, device and the root."""
    w3, deployment = _chain(chain_url, manifest)
    events = None
    if bundle is not None:
        with bundle.open() as handle:
            events = read_iot_bundle(handle)
    _finish(audit_iot(w3, deployment, window, events), json_out)


@app.command("chain")
@reports_errors
def chain(chain_url: CHAIN = None, manifest: MANIFEST = None, to_block: Annotated[int | None, typer.Option()] = None,
          page_blocks: PAGE = 5_000, json_out: JSON_OUT = None,
          state_out: Annotated[Path | None, typer.Option(help="write the rebuilt state as JSON here")] = None,
          attest_: ATTEST = False, member: AS = "auditor") -> None:
    """Replay every event from the deploy block and rebuild members, packs, products, freezes."""
    w3, deployment = _chain(chain_url, manifest)
    report, state = audit_chain(w3, deployment, to_block=to_block, page_blocks=page_blocks)
    if state_out is not None:
        import json

        state_out.write_text(json.dumps(state.to_dict(), indent=2, sort_keys=True, default=str) + "\n")
    if attest_:
        _attest(report, member, Statement.over_blocks(state.from_block, state.to_block, len(report.findings),
                                                      report.report_hash, time.time_ns()))
    _finish(report, json_out)


@app.command("db")
@reports_errors
def db(database_url: Annotated[list[str], typer.Option("--database-url", help="a platform database (repeatable)")],
       chain_url: CHAIN = None, manifest: MANIFEST = None, json_out: JSON_OUT = None,
       bundle: Annotated[list[Path] | None, typer.Option(
           "--bundle", help="a pack bundle kept from its publication (repeatable; .jsonl or .jsonl.gz)")] = None,
       api_url: Annotated[str | None, typer.Option("--api-url", help="fetch other packs' bundles here")] = None,
       api_key: Annotated[str | None, typer.Option("--api-key", help="the auditor's API key")] = None) -> None:
    """Every database row that disagrees with the state rebuilt from the chain.

    Packs whose chain record is only roots (more than 256 assets) have their rows named through
    published bundles, each used only where it rebuilds the on-chain roots.
    """
    w3, deployment = _chain(chain_url, manifest)
    if api_url and api_key:
        with client(api_url, api_key) as http:
            source = BundleSource.from_files(bundle or [], http_fetcher(http))
            report = audit_databases(w3, deployment, database_url, bundles=source)
    else:
        report = audit_databases(w3, deployment, database_url, bundles=BundleSource.from_files(bundle or []))
    _finish(report, json_out)


@app.command("export-iot")
@reports_errors
def export_iot(window: Annotated[list[int], typer.Option("--window", help="an anchored window id (repeatable)")],
               iot_database_url: Annotated[str, typer.Option("--iot-database-url", envvar="ABS_IOT_DATABASE_URL")],
               out: Annotated[Path, typer.Option("--out")]) -> None:
    """(The operator's side.) Write the IoT bundle of anchored windows for an auditor."""
    with out.open("w") as handle:
        handle.writelines(export_iot_lines(iot_database_url, window))
    console.print(f"wrote {out}")
