"""absctl against a real Hardhat node: deploy, seat the demo consortium, govern by proposals.

Runs the commands in-process (Typer's CliRunner) with the environment pointing at a node of
this test, on a free port, with its own keystore and manifest in a temporary directory.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from chain.manifest import Manifest
from chain.node import HardhatNode, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    var = tmp_path_factory.mktemp("absctl")
    node = HardhatNode(free_port(), var_dir=var, interval_ms=0)
    node.start()
    env = {
        "ABS_CHAIN_URL": node.url,
        "ABS_VAR_DIR": str(var),
        "COLUMNS": "200",  # Rich tables unwrapped, one row per line
        "ABS_MANIFEST_PATH": str(var / "deployment.json"),
        "ABS_KEYSTORE_DIR": str(var / "keystore"),
        "ABS_KEYSTORE_PASSWORD": "test-only",
        "ABS_KEYSTORE_SCRYPT_N": "2",
    }
    try:
        yield env, node
    finally:
        node.stop()


def run(env, *args: str, ok: bool = True):
    result = CliRunner().invoke(app, list(args), env=env)
    if ok:
        assert result.exit_code == 0, f"absctl {' '.join(args)} failed:\n{result.output}"
    return result


def test_deploy_seat_and_govern(cli_env, monkeypatch):
    env, node = cli_env
    for name, value in env.items():  # Settings reads the process environment
        monkeypatch.setenv(name, value)

    status = run(env, "chain", "status", "--port", str(node.port))
    assert "running" in status.output

    run(env, "deploy")
    manifest = Manifest.load(env["ABS_MANIFEST_PATH"])
    assert {"MemberRegistry", "CreditRegistry", "ModelRegistry", "ScoreRegistry", "AssetPack"} <= set(
        manifest.contracts
    )
    again = run(env, "deploy")  # idempotent: nothing redeployed
    assert Manifest.load(env["ABS_MANIFEST_PATH"]).contracts == manifest.contracts, again.output

    run(env, "members", "seat-demo")
    listed = run(env, "members", "list").output
    for name, role in [("gov-b", "GOVERNOR"), ("bureau", "CREDIT_BUREAU"), ("auditor", "AUDITOR")]:
        assert re.search(rf"{name}\s.*{role}", listed), listed
    assert "quorum 2" in listed

    # An outsider's key is admitted only once the quorum (2 of 3) has approved.
    newcomer = run(env, "members", "keygen", "newbank").output.split()[1]
    created = run(env, "members", "propose-admit", "newbank", newcomer, "--role", "investor", "--as", "gov-a")
    proposal_id = re.search(r"proposal (\d+) created", created.output).group(1)

    early = run(env, "members", "execute", proposal_id, "--as", "gov-a", ok=False)
    assert early.exit_code == 1
    assert "MemberRegistryQuorumNotReached" in early.output

    run(env, "members", "approve", proposal_id, "--as", "gov-c")
    run(env, "members", "execute", proposal_id, "--as", "gov-c")
    assert re.search(r"newbank\s.*INVESTOR", run(env, "members", "list").output)
    assert Manifest.load(env["ABS_MANIFEST_PATH"]).member("newbank").roles == ("INVESTOR",)

    denied = run(env, "members", "propose-pause", "--as", "newbank", ok=False)
    assert "MemberRegistryNotGovernor" in denied.output
    assert re.search(rf"\b{proposal_id}\b\W+Admit.*executed", run(env, "members", "proposals").output)


def test_chain_up_status_down(tmp_path, monkeypatch):
    port = free_port()
    env = {"ABS_VAR_DIR": str(tmp_path), "ABS_MANIFEST_PATH": str(tmp_path / "none.json")}
    monkeypatch.setenv("ABS_VAR_DIR", str(tmp_path))
    try:
        assert "node up at" in run(env, "chain", "up", "--port", str(port)).output
        assert "running" in run(env, "chain", "status", "--port", str(port)).output
        assert "already" not in run(env, "chain", "up", "--port", str(port)).output  # idempotent
    finally:
        assert "stopped" in run(env, "chain", "down", "--port", str(port)).output
    assert HardhatNode(port, var_dir=tmp_path).status().running is False
    assert "was not running" in run(env, "chain", "down", "--port", str(port)).output
