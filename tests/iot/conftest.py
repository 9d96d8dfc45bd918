"""IoT service tests: the embedded chain with the test consortium, a fresh SQLite database and a
fresh service per test, devices with random keys, and collaterals with unique codes.

* ``consortium``: the platform deployed once per session (``tests/chain/testbed.py``);
* ``make_service(start=True, **settings)``: an ``IotService`` on the consortium with this test's
  database (every service of one test shares it, as a restarted process would); each is stopped
  at the end of the test unless the test stopped it;
* ``device_key()``: a random device key.

Helpers (signed events, registration) are in ``iot_support.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.iot.service import IotService
from api.iot.settings import IotSettings
from chain.backends import connect
from chain.keys import EnvironmentKeys, MemberKeys, env_var_for
from iot_support import make_platform
from testbed import MEMBER_ROLES, Consortium, account_for, build_consortium


@pytest.fixture(scope="session")
def consortium() -> Consortium:
    return build_consortium(connect("embedded"))


@pytest.fixture(scope="session")
def member_keys() -> MemberKeys:
    environ = {env_var_for(name): account_for(name).key.hex() for name in MEMBER_ROLES}
    return MemberKeys(keystore=None, environment=EnvironmentKeys(environ))


@pytest.fixture
def make_service(consortium, member_keys, tmp_path: Path) -> Iterator[Callable[..., IotService]]:
    made: list[IotService] = []
    database = f"sqlite:///{tmp_path / 'iot.db'}"

    def make(start: bool = True, **overrides) -> IotService:
        options = {"database_url": database, "window_seconds": 0.2, "evaluation_interval_s": 0.2,
                   "urgent_gap_s": 0.0, "sweep_interval_s": 3600.0, **overrides}
        service = IotService(IotSettings(**options), make_platform(consortium, member_keys))
        if start:
            service.start()
        made.append(service)
        return service

    yield make
    for service in made:
        if service.started:
            service.stop()


@pytest.fixture
def device_key() -> Callable[[], bytes]:
    return lambda: os.urandom(32)
