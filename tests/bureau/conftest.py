"""The bureau on the embedded chain: a deployed consortium (session), a snapshot reverted after
each test, and per test a fresh SQLite bureau database with its service, app and API keys.

Helpers for tests: ``credit_frame(n, seed, as_of)`` (synthetic credit records), ``bureau_rows``
(raw SQL on the bureau's database) and ``records_json`` (a frame as the JSON an API client sends).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from web3 import Web3

from api.bureau.anchor import ChainCreditAnchor
from api.bureau.app import create_app
from api.bureau.bootstrap import build_service
from api.bureau.intake import FIELDS
from api.bureau.keys import issue_key
from api.bureau.service import BureauService
from api.bureau.settings import BureauSettings
from chain.backends import connect, revert, snapshot
from scoring.data.synthetic import generate_pack
from testbed import Consortium, build_consortium

from bureau_support import TODAY, bureau_rows, credit_frame, records_json  # noqa: F401  # re-exported to fixtures


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
def registry(consortium: Consortium):
    return consortium.contract("CreditRegistry")


@pytest.fixture
def anchor(consortium: Consortium, registry) -> ChainCreditAnchor:
    return ChainCreditAnchor(registry, consortium.sender("bureau"), from_block=consortium.manifest.deploy_block)


@pytest.fixture
def settings(tmp_path) -> BureauSettings:
    return BureauSettings(database_url=f"sqlite:///{tmp_path / 'bureau.db'}")


@pytest.fixture
def service(settings: BureauSettings, anchor: ChainCreditAnchor) -> BureauService:
    return build_service(settings, anchor=anchor)


@pytest.fixture
def client(settings: BureauSettings, service: BureauService) -> Iterator[TestClient]:
    with TestClient(create_app(settings, service=service)) as test_client:
        yield test_client


@pytest.fixture
def read_key(service: BureauService) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_key(service.engine, 'financier', 'read')}"}


@pytest.fixture
def write_key(service: BureauService) -> dict[str, str]:
    return {"X-API-Key": issue_key(service.engine, "bureau-ops", "write")}
