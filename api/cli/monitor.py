"""``absctl monitor ...``: post-issuance monitoring of products, through the orchestrator API.

``run`` runs a product's next cycle now (``--cycles N`` runs N in a row); with ``--simulate``
the product's synthetic world advances a month first (on a dev chain), optionally with a
regional or industry shock, so a year of monitoring takes seconds. The API's address and the
caller's key come from ``--url`` / ``ABS_API_URL`` and ``--api-key`` / ``ABS_API_KEY``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import console
from api.cli import pack as pack_cli
from api.cli.pack import KEY, URL, _fail

app = typer.Typer(help="Monitoring of issued products: cycles, measures, replacements (through the API).")


def _cycle_row(cycle: dict) -> tuple[str, ...]:
    counts = cycle["level_counts"]
    risky = sum(counts[:3]) / max(1, cycle["live_count"])
    triggers = ", ".join(t["rule_id"] for t in cycle["triggers"]) or "-"
    return (str(cycle["cycle"]), cycle["as_of"], f"{cycle['live_count']:,}", f"{risky:.1%}",
            f"{cycle['bad_rate_ppm'] / 1e4:.2f}%", f"{cycle['expected_bad_rate_ppm'] / 1e4:.2f}%",
            f"{cycle['realised_bad_rate_ppm'] / 1e4:.2f}%", f"{cycle['psi']:.4f} {cycle['psi_band']}", triggers)


def _table(title: str) -> Table:
    return Table("cycle", "as of", "live", "levels 1-3", "bad rate", "expected", "realised", "PSI", "triggers",
                 title=title)


@app.command()
def run(
    product_id: int,
    url: URL = "http://127.0.0.1:8600",
    api_key: KEY = "",
    cycles: Annotated[int, typer.Option(min=1, max=120, help="cycles to run in a row")] = 1,
    as_of: Annotated[str | None, typer.Option(help="the cycle's date (YYYY-MM-DD); default start + k months")] = None,
    simulate: Annotated[bool, typer.Option(help="advance the product's synthetic world a month first")] = False,
    world: Annotated[Path | None, typer.Option(help="JSON: how the pack was generated (first simulated cycle)")] = None,
    shock_region: Annotated[str | None, typer.Option(help="shock the borrowers of this region")] = None,
    shock_industry: Annotated[str | None, typer.Option(help="shock the borrowers of this industry")] = None,
    shock_multiplier: Annotated[float, typer.Option(help="their stress is multiplied by this")] = 3.0,
    shock_from: Annotated[int | None, typer.Option(help="from this cycle on (default: the next)")] = None,
) -> None:
    """Run the product's next cycle(s) now and show what each found."""
    body: dict = {"simulate": simulate}
    if as_of:
        body["as_of"] = date.fromisoformat(as_of).isoformat()
    if world is not None:
        body["simulation"] = json.loads(world.read_text())
    if shock_region or shock_industry:
        body["shock"] = {"region": shock_region, "industry": shock_industry, "stress_multiplier": shock_multiplier,
                         "from_cycle": shock_from}
    table = _table(f"product {product_id}")
    with pack_cli.client(url, api_key) as http:
        for _ in range(cycles):
            response = http.post(f"/v1/monitoring/products/{product_id}/cycles", json=body)
            _fail(response)
            table.add_row(*_cycle_row(response.json()))
            body.pop("shock", None)
            body.pop("as_of", None)
    console.print(table)


@app.command()
def status(product_id: int, url: URL = "http://127.0.0.1:8600", api_key: KEY = "") -> None:
    """The product's monitoring status, every cycle, and its open measures."""
    with pack_cli.client(url, api_key) as http:
        view = http.get(f"/v1/monitoring/products/{product_id}")
        _fail(view)
        cycles = http.get(f"/v1/monitoring/products/{product_id}/cycles")
        _fail(cycles)
    product = view.json()
    console.print(f"product {product_id}: [bold]{product['status']}[/bold], {product['cycles_done']} cycle(s) since "
                  f"{product['start_date']}, expected bad rate {product['expected_bad_rate_ppm'] / 1e4:.2f}%")
    table = _table("cycles")
    for cycle in cycles.json():
        if cycle["status"] == "done":
            table.add_row(*_cycle_row(cycle))
    console.print(table)
    measures = Table("id", "cycle", "kind", "rule", "status", "deadline", "loans", title="open measures")
    for m in product["open_measures"]:
        measures.add_row(str(m["id"]), str(m["cycle"]), m["kind"], m["rule_id"], m["status"], m["deadline"],
                         str(m["loan_count"]))
    console.print(measures)


@app.command()
def charts(product_id: int, out: Annotated[Path, typer.Option(help="directory to write into")],
           url: URL = "http://127.0.0.1:8600", api_key: KEY = "") -> None:
    """Write the level-mix and bad-rate charts (PNG and SVG) of the product's cycles."""
    out.mkdir(parents=True, exist_ok=True)
    with pack_cli.client(url, api_key) as http:
        for name in ("level_mix", "bad_rate"):
            for fmt in ("png", "svg"):
                response = http.get(f"/v1/monitoring/products/{product_id}/charts/{name}.{fmt}")
                _fail(response)
                (out / f"{name}.{fmt}").write_bytes(response.content)
    console.print(f"charts of product {product_id} in {out}")


@app.command()
def replace(product_id: int, file: Path, key: Annotated[str, typer.Option("--key", help="Idempotency-Key")],
            url: URL = "http://127.0.0.1:8600", api_key: KEY = "") -> None:
    """Propose substitutes (JSON: {measure_id, swaps: [{out_loan_id, in: {loan}}]}); shows the decision."""
    with pack_cli.client(url, api_key) as http:
        response = http.post(f"/v1/monitoring/products/{product_id}/replacements", json=json.loads(file.read_text()),
                             headers={"Idempotency-Key": key})
    body = response.json()
    decision = body.get("decision") or (body.get("details") or {})
    if response.is_success:
        console.print(f"replacement {body['id']} accepted: bad rate {decision['bad_rate_before_ppm'] / 1e4:.2f}% -> "
                      f"{decision['bad_rate_after_ppm'] / 1e4:.2f}%, new root {body['new_root']} "
                      f"(on-chain replacement {body['chain_replacement_id']})")
        return
    for problem in decision.get("problems") or []:
        console.print(f"  {problem.get('loan_id') or '-'}  {problem['field']}: {problem['problem']}")
    _fail(response)
