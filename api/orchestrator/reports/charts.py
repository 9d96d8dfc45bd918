"""The report's charts, as PNG or SVG: the bad-rate curve against the share removed with the target
line (patent fig. 6), the level mix before and after (fig. 7), and the removals by reason."""

from __future__ import annotations

import io
from collections import Counter

from matplotlib.figure import Figure  # not pyplot: its global state is not safe across request threads

CHARTS = ("bad_rate_curve", "level_mix", "removals")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
PCT = 10_000  # ppm per percent


def _figure(width: float, height: float) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def bad_rate_curve(report: dict, fmt: str) -> bytes:
    plan = report["filter"]
    curve = plan["curve"]
    x = [point["removed_share_ppm"] / PCT for point in curve]
    figure, axes = _figure(7.5, 4.2)
    axes.plot(x, [p["level_based_ppm"] / PCT for p in curve], label="level-based (claim 6)", color="#1f77b4")
    axes.plot(x, [p["pd_based_ppm"] / PCT for p in curve], label="PD-based", color="#ff7f0e", linestyle="--")
    axes.axhline(plan["expected_bad_rate_ppm"] / PCT, color="#d62728", linewidth=1.2,
                 label=f"expected {plan['expected_bad_rate_ppm'] / PCT:g}%")
    axes.axvline(plan["share_removed_ppm"] / PCT, color="#2ca02c", linewidth=1, linestyle=":",
                 label=f"removed {plan['share_removed_ppm'] / PCT:.2f}% ({plan['mode']})")
    axes.set_xlabel(f"share of the pack removed, riskiest first ({plan['mode']} order), %")
    axes.set_ylabel(f"bad rate of the rest, weighted by {plan['weight_by']}, %")
    axes.set_title(f"Pack {report['pack']['id']}: bad rate against share removed")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _render(figure, fmt)


def level_mix(report: dict, fmt: str) -> bytes:
    plan = report["filter"]
    by = "balance" if plan["weight_by"] == "balance" else "count"
    rows = plan["level_mix"]
    levels = [row["level"] for row in rows]
    before = [row[f"{by}_share_before_ppm"] / PCT for row in rows]
    after = [row[f"{by}_share_after_ppm"] / PCT for row in rows]
    figure, axes = _figure(7.5, 4.2)
    width = 0.4
    axes.bar([level - width / 2 for level in levels], before, width, label="before filtering", color="#9ecae1")
    axes.bar([level + width / 2 for level in levels], after, width, label="after filtering", color="#3182bd")
    axes.set_xticks(levels, [f"{row['level']}\n{row['min_score']}-{row['max_score']}" for row in rows], fontsize=8)
    axes.set_xlabel("risk level (scores); level 1 is the riskiest")
    axes.set_ylabel(f"share of the pack by {by}, %")
    axes.set_title(f"Pack {report['pack']['id']}: level mix before and after")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8)
    return _render(figure, fmt)


def removals(report: dict, fmt: str) -> bytes:
    credit = report["credit_check"]
    plan = report["filter"]
    removed_by_level = Counter()
    for row in plan["level_mix"]:
        removed_by_level[f"removed, level {row['level']}"] = row["count_before"] - row["count_after"]
    bars = {f"excluded: {reason}": count for reason, count in credit["excluded_by_reason"].items()}
    bars.update({label: count for label, count in removed_by_level.items() if count})
    figure, axes = _figure(7.5, max(2.5, 0.35 * len(bars) + 1.2))
    labels = list(bars) or ["nothing removed or excluded"]
    values = list(bars.values()) or [0]
    colors = ["#d62728" if label.startswith("excluded") else "#ff7f0e" for label in labels]
    axes.barh(labels, values, color=colors)
    axes.invert_yaxis()
    axes.set_xlabel("assets")
    axes.set_title(f"Pack {report['pack']['id']}: {credit['excluded_count']} excluded before scoring, "
                   f"{plan['removed_count']} removed by filtering", fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    return _render(figure, fmt)


def render(name: str, report: dict, fmt: str) -> bytes:
    return {"bad_rate_curve": bad_rate_curve, "level_mix": level_mix, "removals": removals}[name](report, fmt)
