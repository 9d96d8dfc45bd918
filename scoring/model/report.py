"""The training report: metrics.json, calibration and level-table figures (PNG and SVG), report.md.

Figures are drawn with matplotlib's Agg backend (no display needed) and written
without timestamps and with a fixed SVG id salt, so the same training run writes
the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FIGURE_FORMATS = ("png", "svg")
_COLOURS = {"scorecard": "#1f77b4", "challenger": "#ff7f0e"}


def _save(figure: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "abs-risk-report"}):
        for fmt in FIGURE_FORMATS:
            path = out_dir / f"{stem}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(path, format=fmt, dpi=110, metadata=metadata, bbox_inches="tight")
            paths.append(path)
    plt.close(figure)
    return paths


def write_metrics(out_dir: Path, metrics: dict) -> Path:
    path = out_dir / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return path


def plot_calibration(out_dir: Path, calibrations: dict[str, pd.DataFrame], title: str) -> list[Path]:
    """Mean predicted PD against observed default rate per decile, one line per model."""
    figure, axis = plt.subplots(figsize=(5.5, 5.0))
    top = 0.0
    for name, table in calibrations.items():
        axis.plot(table["predicted"], table["observed"], marker="o", label=name, color=_COLOURS.get(name))
        top = max(top, float(table["predicted"].max()), float(table["observed"].max()))
    axis.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    axis.set_xlabel("mean predicted PD (decile)")
    axis.set_ylabel("observed default rate")
    axis.set_title(title)
    axis.legend()
    axis.grid(alpha=0.3)
    return _save(figure, out_dir, "calibration")


def plot_level_tables(out_dir: Path, level_tables: dict[str, list[dict]]) -> list[Path]:
    """Historical bad rate per risk level as bars, with the full table underneath."""
    names = list(level_tables)
    figure, (bars, table_axis) = plt.subplots(2, 1, figsize=(8.0, 7.5), gridspec_kw={"height_ratios": [1.2, 1.0]})
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        rows = level_tables[name]
        levels = [r["level"] + (i - (len(names) - 1) / 2) * width for r in rows]
        rates = [(r["bad_rate_ppm"] or 0) / 10_000 for r in rows]
        bars.bar(levels, rates, width=width, label=name, color=_COLOURS.get(name))
    bars.set_xticks(range(1, len(next(iter(level_tables.values()))) + 1))
    bars.set_xlabel("risk level (1 = riskiest, 10 = safest)")
    bars.set_ylabel("historical bad rate (%)")
    bars.set_title("Level table: defaulted / total among historical loans per level")
    bars.legend()
    bars.grid(axis="y", alpha=0.3)

    table_axis.axis("off")
    header = ["level", "scores"] + [f"{n}\n{c}" for n in names for c in ("loans", "bad rate")]
    body = []
    for j, row in enumerate(level_tables[names[0]]):
        cells = [str(row["level"]), f"{row['min_score']}-{row['max_score']}"]
        for name in names:
            other = level_tables[name][j]
            rate = "-" if other["bad_rate_ppm"] is None else f"{other['bad_rate_ppm'] / 10_000:.2f}%"
            cells += [str(other["count"]), rate]
        body.append(cells)
    rendered = table_axis.table(cellText=body, colLabels=header, loc="center", cellLoc="center")
    rendered.auto_set_font_size(False)
    rendered.set_fontsize(8)
    rendered.scale(1.0, 1.25)
    for column in range(len(header)):
        rendered[0, column].set_height(rendered[0, column].get_height() * 1.8)
    return _save(figure, out_dir, "level_table")


def write_markdown(out_dir: Path, metrics: dict, level_tables: dict[str, list[dict]]) -> Path:
    lines = ["# Model training report", ""]
    data = metrics.get("data", {})
    lines += [f"Data: {data.get('rows')} loans, bad rate {data.get('bad_rate', 0):.2%}, "
              f"{data.get('features')} features, {data.get('folds')}-fold stratified CV (seed {data.get('seed')}).", ""]
    lines += ["| model | CV AUC | CV KS | CV Gini | CV Brier | test AUC | test KS | model hash |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("scorecard", "challenger"):
        m = metrics[name]
        test_auc = f"{m['test_auc']:.4f}" if "test_auc" in m else "-"
        test_ks = f"{m['test_ks']:.4f}" if "test_ks" in m else "-"
        lines.append(f"| {name} | {m['cv_auc']:.4f} | {m['cv_ks']:.4f} | {m['cv_gini']:.4f} | {m['cv_brier']:.4f} "
                     f"| {test_auc} | {test_ks} | `{m['model_hash'][:18]}...` |")
    lines += ["", "![calibration](calibration.svg)", "", "![level table](level_table.svg)", "",
              "## Level tables (bad rate in ppm)", "",
              "Measured on the training history with the final models. The boosted challenger fits its",
              "training loans more closely than the scorecard, so its extreme levels look sharper here",
              "than they will on new loans; the cross-validated figures above are the fair comparison.", ""]
    for name, rows in level_tables.items():
        lines += [f"### {name}", "", "| level | scores | count | defaults | bad rate (ppm) |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['level']} | {r['min_score']}-{r['max_score']} | {r['count']} | {r['defaults']} "
                  f"| {'-' if r['bad_rate_ppm'] is None else r['bad_rate_ppm']} |" for r in rows]
        lines.append("")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path
