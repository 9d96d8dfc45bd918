"""Orchestrator API tests: TestClient on the embedded chain, one consortium per session.

The session deploys the platform, admits a second financier, trains and registers a small
scorecard and opens a bureau; each test gets its own orchestrator database (SQLite in its tmp
dir) and app. Loan and borrower ids are unique per test (the pack generator's seed), so tests
share the chain and the bureau without seeing each other's packs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from api.orchestrator.app import create_app
from api.settings import Settings
from chain.backends import connect
from support import World, admit_second_financier, api_key, make_world
from testbed import build_consortium


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("world")
    w3 = connect("embedded")
    consortium = build_consortium(w3)
    admit_second_financier(consortium)
    settings = Settings(database_url=f"sqlite:///{folder / 'unused.db'}", chain_url="embedded")
    return make_world(consortium, settings, folder / "models", f"sqlite:///{folder / 'bureau.db'}")


class Api:
    """A running app with an API key per member: ``api.get(path, as_="financier")``."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.app = client.app
        self.orchestrator = client.app.state.orchestrator
        self._keys: dict[str, str] = {}
        self._world = world

    def headers(self, member: str, **extra: str) -> dict[str, str]:
        if member not in self._keys:
            self._keys[member] = api_key(self.orchestrator, self._world.consortium, member)
        return {"Authorization": f"Bearer {self._keys[member]}", **extra}

    def get(self, path: str, *, as_: str = "financier", **kwargs):
        return self.client.get(path, headers=self.headers(as_), **kwargs)

    def post(self, path: str, *, as_: str = "financier", key: str | None = None, **kwargs):
        extra = {"Idempotency-Key": key} if key is not None else {}
        headers = {**self.headers(as_, **extra), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def wait(self, pack_id: int, timeout: float = 120.0) -> dict:
        from support import wait_for_pack

        return wait_for_pack(self.client, pack_id, self.headers("financier"), timeout=timeout)


@pytest.fixture
def make_api(world: World, tmp_path) -> Iterator[Callable[..., Api]]:
    """``make_api(**settings)``: an app on a fresh database, with the world's chain, model and bureau."""
    with ExitStack() as stack:
        def make(**overrides) -> Api:
            values = {"database_url": f"sqlite:///{tmp_path / 'orchestrator.db'}", "chain_url": "embedded",
                      "reports_dir": tmp_path / "reports", "models_dir": world.models_dir,
                      "pipeline_lease_seconds": 30.0, **overrides}
            settings = Settings(**values)
            app = create_app(settings, orchestrator=world.orchestrator(settings))
            client = stack.enter_context(TestClient(app))
            return Api(client, world)

        yield make


@pytest.fixture
def api(make_api) -> Api:
    return make_api()
