"""Exchange tests on the embedded EVM: one consortium per session (plus a second financier and
two more investors), a snapshot and a revert around each test, a fresh exchange database each.

Fixtures:

* ``world``: the consortium, a registered model and a committed credit batch;
* ``pack_id``: a pack of the financier driven to Committed (inside the test's snapshot);
* ``exchange``: the exchange service, its app and an API key per member (``exchange.client(name)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from issuance_world import (
    Exchange,
    commit_credit_batch,
    committed_pack,
    register_model,
    seat_extra_members,
    start_exchange,
)
from testbed import Consortium, build_consortium
from web3 import Web3

from chain.backends import connect, revert, snapshot


@dataclass(frozen=True)
class World:
    consortium: Consortium
    model_id: int
    credit_batch_id: int

    def address(self, name: str) -> str:
        return self.consortium.address(name)


@pytest.fixture(scope="session")
def w3() -> Web3:
    return connect("embedded")


@pytest.fixture(scope="session")
def world(w3: Web3) -> World:
    consortium = build_consortium(w3)
    seat_extra_members(consortium)
    return World(consortium, register_model(consortium), commit_credit_batch(consortium))


@pytest.fixture(autouse=True)
def chain_snapshot(w3: Web3, world: World) -> Iterator[None]:
    token = snapshot(w3)
    yield
    revert(w3, token)
    world.consortium.resync()


@pytest.fixture
def pack_id(world: World) -> int:
    return committed_pack(world.consortium, world.model_id, world.credit_batch_id, "pack-a")


@pytest.fixture
def exchange(world: World, tmp_path) -> Exchange:
    return start_exchange(world.consortium, tmp_path / "exchange.db")
