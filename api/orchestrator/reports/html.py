"""The report as one self-contained HTML page: summary tables, the three charts inline (SVG) and
the removed and excluded assets with their reasons."""

from __future__ import annotations

from html import escape

from api.orchestrator.reports.charts import CHARTS, render

PCT = 10_000


def _pct(ppm: int | None) -> str:
    return "-" if ppm is None else f"{ppm / PCT:.4g}%"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _svg(name: str, report: dict) -> str:
    svg = render(name, report, "svg").decode()
    return svg[svg.index("<svg"):]  # drop the XML prolog: the SVG sits inside HTML


def render_html(report: dict) -> str:
    pack, plan, credit, grade, commit = (report["pack"], report["filter"], report["credit_check"], report["grade"],
                                         report["commitment"])
    links = report["links"]
    summary = _table(["", "value"], [
        ["financier", pack["financier"]], ["status / step", f"{pack['status']} / {pack['step']}"],
        ["on-chain pack", f"{commit['chain_pack_id']} ({commit['state']})"],
        ["assets submitted", pack["asset_count"]], ["excluded by the credit check", credit["excluded_count"]],
        ["removed by filtering", plan["removed_count"]], ["kept", plan["kept_count"]],
        ["expected bad rate", _pct(pack["expected_bad_rate_ppm"])],
        ["mode / weights", f"{plan['mode']} / by {plan['weight_by']}"],
        ["judged by", plan["judged_by"]],
        ["model", f"{report['model']['model_id']} {report['model']['model_name']}"],
    ])
    estimates = _table(["estimate", "before", "after"], [
        [f"{kind} by {plan['weight_by']}", _pct(plan["before"][kind]["ppm"]), _pct(plan["after"][kind]["ppm"])]
        for kind in ("level_based", "pd_based")
    ] + [["recorded on chain", _pct(commit["bad_rate_before_ppm"]), _pct(commit["bad_rate_after_ppm"])]])
    grades = _table(["level", "bad rate", "count", "count share", "balance share"], [
        [level + 1, _pct(grade["level_bad_rates_ppm"][level]), grade["level_counts"][level],
         _pct(grade["count_shares_ppm"][level]), _pct(grade["balance_shares_ppm"][level])]
        for level in range(len(grade["level_counts"]))
    ])
    roots = _table(["commitment", "value"], [[k, v] for k, v in commit.items()])
    removed = _table(["rank", "loan id", "score", "level", "balance", "reason"], [
        [a["removal_rank"], a["loan_id"], a["score"], a["level"], a["outstanding_balance_minor"], a["reason"]]
        for a in report["removed_assets"]["listed"]
    ])
    excluded = _table(["row", "loan id", "borrower", "balance", "reason"], [
        [a["row"], a["loan_id"], a["borrower_id"], a["outstanding_balance_minor"], a["reason"]]
        for a in report["excluded_assets"]["listed"]
    ])
    txs = _table(["step", "transaction", "block"], [[t["step"], t["tx_hash"], t["block_number"]]
                                                     for t in report["transactions"]])
    charts = "".join(
        f"<figure>{_svg(name, report)}<figcaption><a href='{escape(links[name + '_png'])}'>PNG</a> · "
        f"<a href='{escape(links[name + '_svg'])}'>SVG</a></figcaption></figure>" for name in CHARTS
    )
    exports = " · ".join(f"<a href='{escape(links[k + '_csv'])}'>{k}.csv</a>" for k in ("kept", "removed", "excluded"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pack {pack['id']} report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse;
margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem;text-align:left}}
figure{{margin:1rem 0}}svg{{max-width:100%;height:auto}}code{{font-size:.85rem}}</style></head><body>
<h1>Asset pack {pack['id']}: risk report</h1>
{summary}
<h2>Bad rate</h2><p>{escape(report['estimates_note'])}</p>{estimates}
<h2>Charts</h2>{charts}
<h2>Grading (claims 5-6)</h2>{grades}
<h2>On-chain commitment</h2>{roots}
<h2>Removed assets ({report['removed_assets']['count']}, first {len(report['removed_assets']['listed'])})</h2>{removed}
<h2>Excluded before scoring ({report['excluded_assets']['count']}, first {len(report['excluded_assets']['listed'])})</h2>
{excluded}
<h2>Transactions</h2>{txs}
<p>Full lists: {exports}</p>
</body></html>
"""
