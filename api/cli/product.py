"""``absctl product``: the financier structures a product from a Committed pack and issues it.

``structure`` reads the pack from the chain, splits its kept balance into tranches and hashes
the documents into a plan file; ``issue`` registers the plan's manifest in the ProductRegistry
(once: the plan's issuance key makes it idempotent) and asks the exchange to list it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import AS_MEMBER, console, platform, reports_errors
from api.errors import InvalidInputError
from api.exchange.client import ExchangeClient
from api.exchange.onchain import ChainReader
from api.exchange.schemas import LevelMix
from api.services.issuance import DocumentFile, IssuanceService, ProductDesign, ProductPlan, senior_subordinated

app = typer.Typer(help="Products: structure one from a Committed pack, register and issue it.",
                  no_args_is_help=True)

DOCUMENT = typer.Option(exists=True, dir_okay=False)


def _service(member: str, exchange: ExchangeClient | None = None) -> IssuanceService:
    context = platform()
    return IssuanceService(ChainReader(context.w3, context.contracts), context.sender(member), exchange)


def _documents(prospectus: Path | None, servicing_agreement: Path | None) -> list[DocumentFile]:
    files = [("prospectus", prospectus), ("servicing_agreement", servicing_agreement)]
    return [DocumentFile(kind, path.name, path.read_bytes()) for kind, path in files if path is not None]


@app.command()
@reports_errors
def structure(
    pack_id: int,
    member: Annotated[str, AS_MEMBER],
    maturity: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="final maturity date")],
    prospectus: Annotated[Path, DOCUMENT],
    servicing_agreement: Annotated[Path, DOCUMENT],
    out: Annotated[Path, typer.Option(help="where to write the plan (JSON)")],
    senior_share_bps: Annotated[int, typer.Option(min=1, max=9_999, help="senior share of the kept balance")] = 8_000,
    senior_coupon_bps: Annotated[int, typer.Option(min=0, max=10_000)] = 450,
    junior_coupon_bps: Annotated[int, typer.Option(min=0, max=10_000)] = 900,
    junior_qualified_only: Annotated[bool, typer.Option(help="subordinated units for qualified investors only")] = True,
    payments_per_year: Annotated[int, typer.Option(help="1, 2, 4 or 12")] = 12,
    level_mix: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                   help='kept level mix: {"counts": [10], "balances": [10]}')] = None,
) -> None:
    """Plan a senior/subordinated product on PACK_ID (a Committed pack of the --as financier)."""
    if payments_per_year not in (1, 2, 4, 12):
        raise InvalidInputError("payments per year must be 1, 2, 4 or 12")
    design = ProductDesign(
        senior_subordinated(pack_id, senior_share_bps=senior_share_bps, senior_coupon_bps=senior_coupon_bps,
                            junior_coupon_bps=junior_coupon_bps, junior_qualified_only=junior_qualified_only),
        maturity.date(), payments_per_year,
    )
    mix = LevelMix(**json.loads(level_mix.read_text())) if level_mix else None
    plan = _service(member).structure(pack_id, design, _documents(prospectus, servicing_agreement), mix)
    out.write_text(plan.to_json())
    table = Table(title=f"pack {pack_id}: kept {plan.kept_count} assets, balance {plan.kept_balance}")
    for column in ("tranche", "symbol", "size", "coupon bps", "qualified only"):
        table.add_column(column)
    for t in plan.tranches:
        table.add_row(t.name, t.symbol, str(t.size), str(t.coupon_bps), "yes" if t.qualified_only else "no")
    console.print(table)
    console.print(f"plan written to {out} (issuance key {plan.issuance_key})")


@app.command()
@reports_errors
def issue(
    plan_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    member: Annotated[str, AS_MEMBER],
    url: Annotated[str, typer.Option("--url", envvar="ABS_EXCHANGE_URL", help="the exchange's API")]
    = "http://127.0.0.1:8602",
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="ABS_EXCHANGE_API_KEY")] = None,
    prospectus: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                    help="send the file too (hash checked)")] = None,
    servicing_agreement: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
) -> None:
    """Register the plan's manifest on chain and ask the exchange to list it."""
    if not api_key:
        raise InvalidInputError("an API key at the exchange is needed: --api-key or ABS_EXCHANGE_API_KEY")
    plan = ProductPlan.from_json(plan_file.read_text())
    service = _service(member, ExchangeClient.over_http(url, api_key))
    result = service.issue(plan, _documents(prospectus, servicing_agreement))
    console.print_json(json.dumps(result, default=str))
