"""Monitoring charts (PNG or SVG): the level mix over the cycles, and predicted against
realised bad rate per cycle with the expected rate as a line."""

from __future__ import annotations

from matplotlib import colormaps

from api.orchestrator.reports.charts import FORMATS, PCT, _figure, _render

MONITORING_CHARTS = ("level_mix", "bad_rate")
# The risky levels 1-3 in warm colours, the rest from a cool sequential map (darker is safer).
_LEVEL_COLOURS = ("#d62728", "#ff7f0e", "#ffbb78", *(colormaps["GnBu"](0.3 + 0.1 * i) for i in range(7)))


def level_mix(product_id: int, cycles: list[dict], fmt: str) -> bytes:
    figure, axes = _figure(7.5, 4.2)
    labels = [str(c["cycle"]) for c in cycles]
    bottom = [0.0] * len(cycles)
    for level in range(10):
        shares = [100.0 * c["level_counts"][level] / max(1, c["live_count"]) for c in cycles]
        axes.bar(labels, shares, bottom=bottom, label=f"level {level + 1}", color=_LEVEL_COLOURS[level])
        bottom = [b + s for b, s in zip(bottom, shares)]
    axes.axhline(10, color="black", linewidth=1, linestyle=":", label="10% (levels 1-3 rule)")
    axes.set_xlabel("cycle")
    axes.set_ylabel("share of live assets, %")
    axes.set_title(f"Product {product_id}: level mix by cycle (level 1 riskiest, at the bottom)")
    axes.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _render(figure, fmt)


def bad_rate(product_id: int, cycles: list[dict], fmt: str) -> bytes:
    figure, axes = _figure(7.5, 4.2)
    x = [c["cycle"] for c in cycles]
    axes.plot(x, [c["bad_rate_ppm"] / PCT for c in cycles], marker="o", label="predicted (level-based, live assets)")
    axes.plot(x, [c["realised_bad_rate_ppm"] / PCT for c in cycles], marker="s", label="realised (cumulative defaults)")
    if cycles:
        axes.axhline(cycles[0]["expected_bad_rate_ppm"] / PCT, color="#d62728", linewidth=1.2,
                     label=f"expected {cycles[0]['expected_bad_rate_ppm'] / PCT:g}%")
    axes.set_xlabel("cycle")
    axes.set_ylabel("bad rate, %")
    axes.set_title(f"Product {product_id}: predicted and realised bad rate")
    axes.legend(fontsize=8)
    return _render(figure, fmt)


def render(name: str, product_id: int, cycles: list[dict], fmt: str) -> bytes:
    return {"level_mix": level_mix, "bad_rate": bad_rate}[name](product_id, cycles, fmt)


__all__ = ["FORMATS", "MONITORING_CHARTS", "render"]
