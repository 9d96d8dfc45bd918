"""Scoring on chain: trained models in the ModelRegistry and score batches in the ScoreRegistry.

Runs on the embedded EVM with the test consortium (``tests/chain/testbed.py``), a snapshot and
a revert around each test. ``trained`` is one small model trained on synthetic history per
session (a few thousand loans, 2 folds: seconds, not minutes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3
from web3.contract import Contract

from chain.backends import connect, revert, snapshot
from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history
from scoring.model.train import TrainingResult, train_and_report
from testbed import Consortium, build_consortium

HISTORY_ROWS = 4_000


@pytest.fixture(scope="session")
def w3() -> Web3:
    return connect("embedded")


@pytest.fixture(scope="session")
def consortium(w3: Web3) -> Consortium:
    return build_consortium(w3)


@pytest.fixture(autouse=True)
def chain_snapshot(w3: Web3, consortium: Consortium) -> Iterator[None]:
    token = snapshot(w3)
    yield
    revert(w3, token)
    consortium.resync()


@pytest.fixture
def model_registry(consortium: Consortium) -> Contract:
    return consortium.contract("ModelRegistry")


@pytest.fixture
def score_registry(consortium: Consortium) -> Contract:
    return consortium.contract("ScoreRegistry")


@pytest.fixture(scope="session")
def history_csvs(tmp_path_factory):
    """Training and held-out CSVs of the synthetic population (its true PDs are known)."""
    folder = tmp_path_factory.mktemp("history")
    columns = [*CREDIT_FEATURES, TARGET]
    generate_history(HISTORY_ROWS, seed=61)[columns].to_csv(folder / "train.csv", index=False)
    generate_history(1_500, seed=62)[columns].to_csv(folder / "test.csv", index=False)
    return folder / "train.csv", folder / "test.csv"


@pytest.fixture(scope="session")
def trained(history_csvs, tmp_path_factory) -> TrainingResult:
    train, test = history_csvs
    return train_and_report(train, TARGET, test_data=test, out_dir=tmp_path_factory.mktemp("model"), seed=0, folds=2)
