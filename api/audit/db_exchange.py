"""``audit db`` for the exchange's tables: products, tranches, subscriptions (against the tranche
tokens' balances) and distributions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from api.audit.db_context import DbContext, differs, row_name
from chain.audit.findings import Finding

LISTED, RECORDED, ALLOCATED = "listed", "recorded", "allocated"


def compare_exchange(ctx: DbContext) -> list[Finding]:
    if not ctx.has("exchange_product"):
        return []
    found: list[Finding] = []
    for product in ctx.rows("exchange_product", ("id",)):
        subject = row_name("exchange_product", product, "id")
        chain = ctx.state.products.get(product["id"])
        if chain is None:
            found.append(Finding("db", subject, "id", None, product["id"], "no such product on chain"))
            continue
        found += differs(subject, "pack_id", chain.pack_id, product["pack_id"])
        found += differs(subject, "financier", chain.financier, product["financier"])
        found += differs(subject, "issuance_key", chain.issuance_key, product["issuance_key"])
        if product["state"] == LISTED or chain.state == "Listed":
            found += differs(subject, "state", chain.state.lower(), product["state"])
            found += differs(subject, "listing_ref", chain.listing_ref, product["listing_ref"])
    if ctx.has("exchange_tranche"):
        found += _tranches(ctx)
    if ctx.has("exchange_subscription"):
        found += _holdings(ctx)
    if ctx.has("exchange_distribution"):
        found += _distributions(ctx)
    return found


def _tranches(ctx: DbContext) -> list[Finding]:
    found: list[Finding] = []
    registry = ctx.contract("ProductRegistry")
    for tranche in ctx.rows("exchange_tranche", ("id",)):
        subject = row_name("exchange_tranche", tranche, "id")
        chain = ctx.state.products.get(tranche["product_id"])
        if chain is None:
            continue
        terms = registry.functions.tranches(chain.product_id).call()
        if tranche["idx"] >= len(terms):
            found.append(Finding("db", subject, "idx", len(terms) - 1, tranche["idx"], "no such tranche on chain"))
            continue
        found += differs(subject, "size", terms[tranche["idx"]][0][2], tranche["size"])
        if chain.tokens:
            found += differs(subject, "token", chain.tokens[tranche["idx"]], tranche["token"])
        last = max(chain.distributions) if chain.distributions else None
        outstanding = chain.distributions[last]["tranche_outstanding"][tranche["idx"]] if last else tranche["size"]
        found += differs(subject, "outstanding", outstanding, tranche["outstanding"],
                         f"after period {last}" if last else "no distribution yet: the tranche's size")
    return found


def _holdings(ctx: DbContext) -> list[Finding]:
    """Units allocated to each investor in each tranche against the token's balance of that investor."""
    groups: dict[tuple[int, int, str], list[Any]] = defaultdict(list)
    for sub in ctx.rows("exchange_subscription", ("id",)):
        if sub["status"] == ALLOCATED and sub["allocated"]:
            groups[(sub["product_id"], sub["tranche_idx"], sub["investor_address"])].append(sub)
    found: list[Finding] = []
    for (product_id, idx, investor), subs in groups.items():
        product = ctx.state.products.get(product_id)
        if product is None or idx >= len(product.tokens):
            continue
        token = ctx.state.tokens.get(product.tokens[idx])
        held = token.balances.get(investor, 0) if token else 0
        allocated = sum(s["allocated"] for s in subs)
        if held != allocated:
            for sub in subs:  # one row when the investor subscribed once: exactly that row
                found += differs(row_name("exchange_subscription", sub, "id"), "allocated",
                                 held - (allocated - sub["allocated"]), sub["allocated"],
                                 f"units of tranche {idx} of product {product_id} the token credits this investor")
    return found


def _distributions(ctx: DbContext) -> list[Finding]:
    found: list[Finding] = []
    for dist in ctx.rows("exchange_distribution", ("id",)):
        if dist["state"] != RECORDED:
            continue
        subject = row_name("exchange_distribution", dist, "id")
        product = ctx.state.products.get(dist["product_id"])
        chain = product.distributions.get(dist["period"]) if product else None
        if chain is None:
            found.append(Finding("db", subject, "period", None, dist["period"], "no such distribution on chain"))
            continue
        found += differs(subject, "report_hash", chain["report_hash"], dist["report_hash"])
    return found
