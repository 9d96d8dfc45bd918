"""``create_app``: the IoT service's FastAPI application.

Everything injectable for tests: pass ``settings`` and ``platform`` (e.g. an embedded chain), or a
ready ``service``. The service starts with the application (lifespan) and stops with it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.iot.chain_port import CollateralChain
from api.iot.notifier import Notifier
from api.iot.records import Clock
from api.iot.routes import router
from api.iot.service import IotService
from api.iot.settings import IotSettings
from api.platform import Platform


def create_app(
    settings: IotSettings | None = None,
    platform: Platform | None = None,
    *,
    service: IotService | None = None,
    chain: CollateralChain | None = None,
    notifier: Notifier | None = None,
    clock: Clock = time.time,
) -> FastAPI:
    iot = service or IotService(settings, platform, chain=chain, notifier=notifier, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        iot.start()
        try:
            yield
        finally:
            iot.stop()

    app = FastAPI(
        title="ABS platform: IoT collateral service",
        description="Signed device events, warnings, freezes and on-chain anchoring (DESIGN step 9).",
        lifespan=lifespan,
    )
    app.state.iot = iot
    install_error_handlers(app)
    app.include_router(router)
    return app
