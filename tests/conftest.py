"""Fixtures shared by every test directory.

* ``fixture_artifacts``: the test-only contracts of ``tests/fixtures/contracts`` (e.g. Counter).
* the test consortium (``tests/chain/testbed.py``): the platform deployed through
  ``chain.deploy`` and seated with one member per role, the same code path on every backend.
  ``tests/chain`` has an embedded ``consortium``; ``hardhat_consortium`` runs on a real node.
* ``hardhat_node`` / ``hardhat_w3``: a Hardhat node of this test session on a free port,
  stopped by PID when the session ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from chain.backends import connect, revert, snapshot
from chain.compile import ContractArtifact, compile_contracts
from chain.node import HardhatNode, free_port

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_CONTRACTS_DIR = TESTS_DIR / "fixtures" / "contracts"
# tests/chain holds helpers shared with tests/integration: the test consortium (testbed.py)
# and the role matrix table (role_matrix.py). Importable by plain name from any test.
sys.path.insert(0, str(TESTS_DIR / "chain"))

from testbed import Consortium, build_consortium  # noqa: E402  # needs the path above


@pytest.fixture(scope="session")
def fixture_artifacts() -> dict[str, ContractArtifact]:
    """Test-only contracts (tests/fixtures/contracts), compiled once per session."""
    return compile_contracts(FIXTURE_CONTRACTS_DIR)


@pytest.fixture(scope="session")
def hardhat_node(tmp_path_factory) -> Iterator[HardhatNode]:
    """A Hardhat node (automine) on a free 127.0.0.1 port, stopped by PID at session end."""
    node = HardhatNode(free_port(), var_dir=tmp_path_factory.mktemp("hardhat"), interval_ms=0)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def hardhat_w3(hardhat_node: HardhatNode) -> Web3:
    return connect(hardhat_node.url)


@pytest.fixture(scope="session")
def hardhat_consortium(hardhat_w3: Web3) -> Consortium:
    """The test consortium on the session's Hardhat node (deployed once; tests share it)."""
    return build_consortium(hardhat_w3)


@pytest.fixture
def node_state(hardhat_consortium: Consortium) -> Iterator[Consortium]:
    """The session's node, brought back to its state before the test afterwards, with the members the
    test consortium knows (a test may admit more)."""
    token = snapshot(hardhat_consortium.w3)
    members, senders = dict(hardhat_consortium.manifest.members), dict(hardhat_consortium.senders)
    try:
        yield hardhat_consortium
    finally:
        revert(hardhat_consortium.w3, token)
        hardhat_consortium.manifest.members.clear()
        hardhat_consortium.manifest.members.update(members)
        hardhat_consortium.senders.clear()
        hardhat_consortium.senders.update(senders)
        hardhat_consortium.resync()
