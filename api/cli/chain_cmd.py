"""``absctl chain up|down|status`` and ``absctl deploy``: the local node and the platform's contracts."""

from __future__ import annotations

import typer
from rich.table import Table

from api.cli.common import console, platform, reports_errors
from chain.contracts import MEMBER_REGISTRY
from chain.deploy import deploy_platform
from chain.errors import ManifestError
from chain.manifest import Manifest
from chain.node import DEFAULT_PORT, HardhatNode
from chain.sender import Sender

app = typer.Typer(help="Run the local Hardhat consortium node (127.0.0.1), started and stopped by PID.")
PORT = typer.Option(DEFAULT_PORT, help="JSON-RPC port on 127.0.0.1")


def _node(port: int, interval_ms: int | None = None) -> HardhatNode:
    return HardhatNode(port, var_dir=platform().settings.var_dir, interval_ms=interval_ms)


@app.command()
@reports_errors
def up(
    port: int = PORT,
    interval_ms: int = typer.Option(0, help="block interval in ms; 0 mines each transaction at once"),
) -> None:
    """Start the node unless it already runs; returns once it answers JSON-RPC."""
    status = _node(port, interval_ms).start()
    console.print(f"node up at {status.url} (pid {status.pid}, chain {status.chain_id}, block {status.block_number})")


@app.command()
@reports_errors
def down(port: int = PORT) -> None:
    """Stop the node this machine started on ``port`` (by the PID it recorded)."""
    stopped = _node(port).stop()
    console.print(f"node on port {port} {'stopped' if stopped else 'was not running'}")


@app.command()
@reports_errors
def status(port: int = PORT) -> None:
    """The node's PID, chain id and block, and the deployed contracts of the manifest."""
    node_status = _node(port).status()
    state = "running" if node_status.running else "stopped"
    console.print(f"node {node_status.url}: {state}, pid {node_status.pid}, "
                  f"chain {node_status.chain_id}, block {node_status.block_number}")
    settings = platform().settings
    try:
        manifest = Manifest.load(settings.manifest_path)
    except ManifestError as exc:
        console.print(f"manifest: {exc}")
        return
    table = Table(title=f"deployment {settings.manifest_path} (chain {manifest.chain_id})")
    for column in ("contract", "address", "block"):
        table.add_column(column)
    for record in manifest.contracts.values():
        table.add_row(record.name, record.address, str(record.deploy_block))
    console.print(table)


@reports_errors
def deploy(
    deployer: str = typer.Option("deployer", "--as", help="member key that deploys (made on first use)"),
    fresh: bool = typer.Option(False, help="ignore an existing manifest and deploy everything anew"),
) -> None:
    """Deploy the platform's contracts (those not yet deployed) and write the manifest."""
    context = platform()
    w3 = context.w3
    sender = Sender(w3, context.keys.ensure(deployer).account, name=deployer)
    manifest = None if fresh else _reusable_manifest(context.settings.manifest_path, w3)
    manifest = deploy_platform(w3, sender, manifest=manifest)
    manifest.save(context.settings.manifest_path)
    for record in manifest.contracts.values():
        console.print(f"{record.name:<16} {record.address}  (block {record.deploy_block})")
    console.print(f"manifest written to {context.settings.manifest_path}")


def _reusable_manifest(path, w3) -> Manifest | None:  # noqa: ANN001
    """The existing manifest if it describes this chain, else None (e.g. after a node restart)."""
    try:
        manifest = Manifest.load(path)
    except ManifestError:
        return None
    registry = manifest.contracts.get(MEMBER_REGISTRY)
    if manifest.chain_id != w3.eth.chain_id or registry is None or not w3.eth.get_code(registry.address):
        console.print("the existing manifest does not match this chain: deploying anew")
        return None
    return manifest
