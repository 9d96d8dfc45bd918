"""Chain tests run on the embedded EVM, with a snapshot and a revert around each test.

Fixtures for reuse:

* ``w3``: the session's embedded chain (zero gas price, members need no ether);
* ``consortium``: the platform deployed and seated once per session (see ``tests/conftest.py``);
* ``make_sender(name)``: a sender for a fresh, name-derived key (nonce caches reset per test);
* ``counter``: the fixture Counter contract, deployed per test.

Every test starts from the same chain state: whatever a test mines is reverted after it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator

import pytest
from web3 import Web3
from web3.contract import Contract

from chain.backends import connect, revert, snapshot
from chain.sender import Sender
from testbed import Consortium, account_for, build_consortium

_SENDERS: weakref.WeakSet[Sender] = weakref.WeakSet()  # nonce caches to reset after a revert


@pytest.fixture(scope="session")
def w3() -> Web3:
    return connect("embedded")


@pytest.fixture(scope="session")
def consortium(w3: Web3) -> Consortium:
    built = build_consortium(w3)
    _SENDERS.update(built.senders.values())
    return built


@pytest.fixture(autouse=True)
def chain_snapshot(w3: Web3) -> Iterator[None]:
    """Revert the chain after each test, so tests neither see nor disturb each other."""
    token = snapshot(w3)
    yield
    revert(w3, token)
    for sender in list(_SENDERS):
        sender.resync_nonce()


@pytest.fixture
def make_sender(w3: Web3) -> Callable[[str], Sender]:
    def make(name: str) -> Sender:
        sender = Sender(w3, account_for(name), name=name)
        _SENDERS.add(sender)
        return sender

    return make


@pytest.fixture
def counter(w3: Web3, fixture_artifacts, make_sender) -> Contract:
    """A fresh Counter (limit 3) deployed by ``alice``."""
    artifact = fixture_artifacts["Counter"]
    address = make_sender("alice").deploy(artifact, 3)
    return w3.eth.contract(address=address, abi=artifact.abi)
