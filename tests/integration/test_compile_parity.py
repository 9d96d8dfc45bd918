"""Both compile paths give byte-identical bytecode for every contract: Hardhat (npx hardhat
compile, with the solc-js override of hardhat.config.js) and py-solc-x through scripts/solc.

Identical bytes include the metadata hash, so the sources, import paths and settings the two
paths see are the same too. Neither path may download a compiler: Hardhat's build is the npm
`solc` package and py-solc-x is pointed at the wrapper.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chain.compile import compile_contracts

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts" / "contracts"

pytestmark = pytest.mark.integration


def _hex(code: str) -> str:
    return code.lower().removeprefix("0x")


@pytest.fixture(scope="module")
def hardhat_artifacts() -> dict[str, dict]:
    subprocess.run(["npx", "hardhat", "compile", "--quiet"], cwd=ROOT, check=True, capture_output=True, timeout=600)
    found = {}
    for path in ARTIFACTS.rglob("*.json"):
        if path.name.endswith(".dbg.json"):
            continue
        document = json.loads(path.read_text())
        found[document["contractName"]] = document
    return found


def test_every_contract_compiles_to_the_same_bytes_on_both_paths(hardhat_artifacts):
    python_side = compile_contracts()
    deployable = {name: a for name, a in python_side.items() if _hex(a.bytecode)}
    assert len(deployable) >= 9, sorted(deployable)  # the platform's contracts, not an empty build
    for name, artifact in deployable.items():
        assert name in hardhat_artifacts, f"{name}: compiled by py-solc-x but not by Hardhat"
        theirs = hardhat_artifacts[name]
        assert _hex(artifact.bytecode) == _hex(theirs["bytecode"]), f"{name}: creation bytecode differs"
        assert _hex(artifact.deployed_bytecode) == _hex(theirs["deployedBytecode"]), f"{name}: runtime differs"
        assert artifact.abi == theirs["abi"], f"{name}: ABI differs"
