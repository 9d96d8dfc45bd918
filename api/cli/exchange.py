"""``absctl exchange``: run the mock exchange and operate it; investors subscribe through its API.

Operator commands (``api-key``, ``whitelist``, ``list``, ``show``, ``close-book``,
``distribute``, ``holders``) work on the exchange's own database (``ABS_EXCHANGE_DATABASE_URL``)
and sign with its EXCHANGE key. Investor commands (``subscribe``, ``holdings``,
``transactions``) call a running exchange over HTTP with the investor's API key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.table import Table

from api.cli.common import console, platform, reports_errors
from api.errors import InvalidInputError
from api.exchange.bootstrap import build_service, open_database
from api.exchange.client import ExchangeClient
from api.exchange.keys import Caller, issue_key
from api.exchange.schemas import DistributionRequest, WhitelistRequest
from api.exchange.service import ExchangeService
from api.exchange.settings import ExchangeSettings
from chain.roles import Role

app = typer.Typer(help="The mock exchange: serve it, whitelist investors, close books, distribute.",
                  no_args_is_help=True)

URL = typer.Option("--url", envvar="ABS_EXCHANGE_URL", help="the exchange's API")
API_KEY = typer.Option("--api-key", envvar="ABS_EXCHANGE_API_KEY", help="your API key at the exchange")


def _operator() -> tuple[ExchangeService, Caller]:
    settings = ExchangeSettings()
    context = platform()
    service = build_service(settings, context)
    member = settings.member or context.member_with(Role.EXCHANGE)
    address = context.sender(member).address
    return service, Caller(member, address, context.roles.roles_of(address))


def _print_json(body: object) -> None:
    console.print_json(json.dumps(body, default=str))


@app.command()
@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="default: the host of ABS_EXCHANGE_URL")] = None,
    port: Annotated[int | None, typer.Option(help="default: the port of ABS_EXCHANGE_URL")] = None,
) -> None:
    """Serve the exchange's API (blocks; stop it with Ctrl-C or by its PID)."""
    import uvicorn

    from api.exchange.app import create_app

    settings = ExchangeSettings()
    url = urlparse(settings.url)
    uvicorn.run(create_app(settings, platform()), host=host or url.hostname or "127.0.0.1",
                port=port or url.port or 8602, log_level="info")


@app.command("api-key")
@reports_errors
def api_key(
    member: Annotated[str, typer.Argument(help="the member the key acts for")],
    address: Annotated[str | None, typer.Option(help="its account; default: the manifest's record")] = None,
) -> None:
    """Issue an API key bound to MEMBER; the key is printed once and stored only as a hash."""
    if address is None:
        address = platform().manifest.member(member).address
    console.print(issue_key(open_database(ExchangeSettings().database_url), member, address))


@app.command()
@reports_errors
def whitelist(
    investor: Annotated[str, typer.Argument(help="the investor's member name or address")],
    days: Annotated[int, typer.Option(min=1, help="the whitelisting lasts this many days")] = 365,
    qualified: Annotated[bool, typer.Option(help="a qualified investor (may hold qualified-only tranches)")] = False,
) -> None:
    """Whitelist an INVESTOR member on chain (or renew it) after the exchange's KYC."""
    service, caller = _operator()
    address = investor if investor.startswith("0x") else platform().manifest.member(investor).address
    expires = service.chain.latest_timestamp() + days * 24 * 3600
    _print_json(service.whitelist(caller, WhitelistRequest(investor=address, expires_at=expires, qualified=qualified)))


@app.command("list")
@reports_errors
def list_products() -> None:
    """The listed products."""
    service, _caller = _operator()
    table = Table(title="listed products")
    for column in ("product", "pack", "book", "periods", "tranches"):
        table.add_column(column)
    for p in service.views.products():
        tranches = ", ".join(f"{t['symbol']} {t['size']} @ {t['coupon_bps']} bps" for t in p["tranches"])
        table.add_row(str(p["product_id"]), str(p["pack_id"]), p["book"], str(p["periods_distributed"]), tranches)
    console.print(table)


@app.command()
@reports_errors
def show(product_id: int) -> None:
    """A product's terms, tranche state, risk profile and proof links, as JSON."""
    service, _caller = _operator()
    _print_json(service.views.product(product_id))


@app.command("close-book")
@reports_errors
def close_book(product_id: int) -> None:
    """Close the book: allocate (pro rata if oversubscribed), mint the units, record payments."""
    service, caller = _operator()
    result = service.book.close(caller, product_id)
    table = Table(title=f"product {product_id}: allocation")
    for column in ("tranche", "offered", "requested", "allocated", "oversubscribed", "mint tx"):
        table.add_column(column)
    for t in result["tranches"]:
        table.add_row(t["symbol"], str(t["offered"]), str(t["requested"]), str(t["allocated"]),
                      "yes" if t["oversubscribed"] else "no", t["mint_tx"] or "-")
    console.print(table)


@app.command()
@reports_errors
def distribute(
    product_id: int,
    period: Annotated[int, typer.Option(min=1)],
    interest: Annotated[int, typer.Option(min=0, help="interest collected, minor units")],
    principal: Annotated[int, typer.Option(min=0, help="principal collected, minor units")],
    defaults: Annotated[int, typer.Option(min=0, help="principal written off, minor units")] = 0,
) -> None:
    """Run one period's waterfall, pay the holders in the cash ledger, anchor it on chain."""
    service, caller = _operator()
    body = DistributionRequest(period=period, interest=interest, principal=principal, defaults=defaults)
    result = service.payments.distribute(caller, product_id, body)
    table = Table(title=f"product {product_id}, period {period} (report {result['report_hash'][:10]}...)")
    for column in ("tranche", "opening", "interest paid", "shortfall", "loss", "principal paid", "closing"):
        table.add_column(column)
    for t in result["report"]["waterfall"]["tranches"]:
        table.add_row(t["name"], str(t["opening"]), str(t["interest_paid"]), str(t["shortfall_carried"]),
                      str(t["loss"]), str(t["principal_paid"]), str(t["closing"]))
    console.print(table)
    console.print(f"residual to the financier: {result['report']['residual']['amount']}")


@app.command()
@reports_errors
def holders(product_id: int) -> None:
    """Every tranche's holders, read from the chain."""
    service, caller = _operator()
    _print_json(service.views.holders(caller, product_id))


@app.command()
@reports_errors
def subscribe(
    product_id: int,
    tranche: Annotated[int, typer.Option(min=0, help="tranche index, 0 = most senior")],
    units: Annotated[int, typer.Option(min=1, help="units (minor units of face value)")],
    url: Annotated[str, URL] = "http://127.0.0.1:8602",
    api_key_: Annotated[str | None, API_KEY] = None,
) -> None:
    """Book an order at a running exchange, as the investor whose API key is given."""
    _print_json(_client(url, api_key_).subscribe(product_id, tranche, units))


@app.command()
@reports_errors
def holdings(
    url: Annotated[str, URL] = "http://127.0.0.1:8602",
    api_key_: Annotated[str | None, API_KEY] = None,
) -> None:
    """Your positions and cash received, at a running exchange."""
    _print_json(_client(url, api_key_).holdings())


@app.command()
@reports_errors
def transactions(
    out: Annotated[Path | None, typer.Option(help="write the CSV here instead of printing it")] = None,
    url: Annotated[str, URL] = "http://127.0.0.1:8602",
    api_key_: Annotated[str | None, API_KEY] = None,
) -> None:
    """Your orders and cash movements as CSV."""
    text = _client(url, api_key_).transactions_csv()
    if out is None:
        console.print(text, end="", highlight=False, markup=False)
    else:
        out.write_text(text)
        console.print(f"{out} ({text.count(chr(10)) - 1} rows, {time.strftime('%Y-%m-%d %H:%M')})")


def _client(url: str, key: str | None) -> ExchangeClient:
    if not key:
        raise InvalidInputError("an API key is needed: --api-key or ABS_EXCHANGE_API_KEY")
    return ExchangeClient.over_http(url, key)
