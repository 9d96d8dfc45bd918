"""tests/monitoring: post-issuance monitoring on the embedded EVM, with the real bureau service."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from support import World, make_world  # noqa: E402

from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402
from testbed import build_consortium  # noqa: E402


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("monitoring-world")
    consortium = build_consortium(connect("embedded"))
    settings = Settings(database_url=f"sqlite:///{folder / 'unused.db'}", chain_url="embedded")
    return make_world(consortium, settings, folder / "models", f"sqlite:///{folder / 'bureau.db'}")
