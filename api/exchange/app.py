"""The mock exchange's HTTP service. "Mock" only in that no real exchange stands behind it.

Routes are thin: they authenticate the caller's API key (roles read from the chain), call the
``ExchangeService`` and return its answer; domain errors become HTTP errors in ``api.errors``'
one handler. Sync routes run in FastAPI's thread pool, as web3 and the database block.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse

from api.errors import install_error_handlers
from api.exchange.bootstrap import build_service
from api.exchange.keys import Caller, authenticate
from api.exchange.schemas import (
    MONITORING_EXAMPLE,
    Address,
    DistributionRequest,
    IssuanceRequest,
    SubscriptionRequest,
    WhitelistRequest,
)
from api.exchange.service import ExchangeService
from api.exchange.settings import ExchangeSettings, get_exchange_settings
from api.platform import Platform


def get_service(request: Request) -> ExchangeService:
    return request.app.state.exchange


ServiceDep = Annotated[ExchangeService, Depends(get_service)]


def current_caller(request: Request, service: ServiceDep) -> Caller:
    authorization = request.headers.get("authorization", "")
    key = authorization[7:].strip() if authorization.lower().startswith("bearer ") else request.headers.get("x-api-key")
    return authenticate(service.engine, key, service.roles)


CallerDep = Annotated[Caller, Depends(current_caller)]

health = APIRouter(tags=["health"])
listings = APIRouter(prefix="/v1/listings", tags=["listing"], dependencies=[Depends(current_caller)])
products = APIRouter(prefix="/v1/products", tags=["products"], dependencies=[Depends(current_caller)])
subscriptions = APIRouter(prefix="/v1/subscriptions", tags=["book"], dependencies=[Depends(current_caller)])
investors = APIRouter(prefix="/v1/investors", tags=["investors"], dependencies=[Depends(current_caller)])
me = APIRouter(prefix="/v1/me", tags=["investors"], dependencies=[Depends(current_caller)])


@health.get("/v1/health")
def get_health() -> dict:
    return {"status": "ok"}


@listings.post("", status_code=201)
def request_listing(body: IssuanceRequest, service: ServiceDep, caller: CallerDep) -> dict:
    """Verify an issuance request against the chain; list it, or refuse it with every discrepancy."""
    return service.listing.list(caller, body)


@products.get("")
def list_products(service: ServiceDep) -> list[dict]:
    return service.views.products()


@products.get("/{product_id}")
def get_product(product_id: int, service: ServiceDep) -> dict:
    """Terms, tranche state, documents, risk profile and proof links."""
    return service.views.product(product_id)


@products.get("/{product_id}/monitoring", summary="Monitoring status, cycles and measures, from the chain",
              responses={200: {"description": "OK", "content": {"application/json": {"example": MONITORING_EXAMPLE}}},
                         401: {"description": "no or unknown API key"},
                         404: {"description": "no such product listed at this exchange"}})
def get_monitoring(product_id: int, service: ServiceDep) -> dict:
    """The pack's state on chain and its monitoring status (``not_started``, ``normal``,
    ``measures_open``, ``escalated``); every cycle recorded with its report, every rule fired
    (by name for the platform's rules), every measure with its current kind, status and deadline
    (unix seconds), every replacement and the pack's current root. Read from PackMonitor alone."""
    return service.views.monitoring(product_id)


@products.get("/{product_id}/tranches")
def get_tranches(product_id: int, service: ServiceDep) -> list[dict]:
    return service.views.tranches(product_id)


@products.get("/{product_id}/holders")
def get_holders(product_id: int, service: ServiceDep, caller: CallerDep) -> list[dict]:
    """Holders of every tranche, from the chain (the exchange only)."""
    return service.views.holders(caller, product_id)


@products.get("/{product_id}/risk")
def get_risk_profile(product_id: int, service: ServiceDep) -> dict:
    return service.views.risk_profile(product_id)


@products.get("/{product_id}/proofs")
def get_proofs(product_id: int, service: ServiceDep) -> dict:
    return service.views.proofs(product_id)


@products.get("/{product_id}/listing-attempts")
def get_listing_attempts(product_id: int, service: ServiceDep, caller: CallerDep) -> list[dict]:
    caller.require("EXCHANGE", "FINANCIER", "AUDITOR")
    return service.listing.attempts(product_id)


@products.get("/{product_id}/documents/{kind}")
def get_document(product_id: int, kind: str, service: ServiceDep) -> Response:
    filename, content = service.views.document(product_id, kind)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@products.post("/{product_id}/subscriptions", status_code=201)
def subscribe(product_id: int, body: SubscriptionRequest, service: ServiceDep, caller: CallerDep) -> dict:
    """Book an order (investors whitelisted and eligible for the tranche only)."""
    return service.book.subscribe(caller, product_id, body)


@products.get("/{product_id}/subscriptions")
def get_subscriptions(product_id: int, service: ServiceDep, caller: CallerDep) -> list[dict]:
    return service.book.orders(caller, product_id)


@products.post("/{product_id}/book/close")
def close_book(product_id: int, service: ServiceDep, caller: CallerDep) -> dict:
    """Allocate (pro rata if oversubscribed), mint the units on chain, record the payments."""
    return service.book.close(caller, product_id)


@products.get("/{product_id}/allocation")
def get_allocation(product_id: int, service: ServiceDep) -> dict:
    return service.book.allocation(product_id)


@products.post("/{product_id}/distributions", status_code=201)
def distribute(product_id: int, body: DistributionRequest, service: ServiceDep, caller: CallerDep) -> dict:
    """Run one period's waterfall over the reported collections, pay the holders, anchor it."""
    return service.payments.distribute(caller, product_id, body)


@products.get("/{product_id}/distributions")
def get_distributions(product_id: int, service: ServiceDep) -> list[dict]:
    return service.payments.distributions(product_id)


@products.get("/{product_id}/distributions/{period}")
def get_distribution(product_id: int, period: int, service: ServiceDep) -> dict:
    return service.payments.distribution(product_id, period)


@subscriptions.delete("/{subscription_id}")
def cancel_subscription(subscription_id: int, service: ServiceDep, caller: CallerDep) -> dict:
    return service.book.cancel(caller, subscription_id)


@investors.post("/whitelist", status_code=201)
def whitelist_investor(body: WhitelistRequest, service: ServiceDep, caller: CallerDep) -> dict:
    return service.whitelist(caller, body)


@investors.delete("/whitelist/{address}")
def remove_investor(address: Address, service: ServiceDep, caller: CallerDep) -> dict:
    return service.remove_from_whitelist(caller, address)


@investors.get("/{address}")
def get_investor(address: Address, service: ServiceDep) -> dict:
    return service.investor_status(address)


@me.get("/holdings")
def get_holdings(service: ServiceDep, caller: CallerDep) -> dict:
    return service.views.holdings(caller)


@me.get("/transactions.csv", response_class=PlainTextResponse)
def get_transactions(service: ServiceDep, caller: CallerDep) -> Response:
    return Response(service.views.transactions_csv(caller), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{caller.name}-transactions.csv"'})


def create_app(settings: ExchangeSettings | None = None, platform: Platform | None = None, *,
               service: ExchangeService | None = None) -> FastAPI:
    """The exchange app on its own database; pass ``service`` (tests) or ``platform`` for the chain."""
    settings = settings or get_exchange_settings()
    app = FastAPI(title="ABS exchange", version="1",
                  description="Lists tranched products verified against the chain; books, allocates and pays.")
    app.state.exchange = service or build_service(settings, platform)
    install_error_handlers(app)
    for router in (health, listings, products, subscriptions, investors, me):
        app.include_router(router)
    return app
