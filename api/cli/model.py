"""``absctl model``: train a scoring model from a labelled CSV, register it on chain, retire it, show it.

``train`` needs no chain. ``register``, ``retire`` and ``show`` use the platform the environment
describes (``ABS_CHAIN_URL``, ``ABS_MANIFEST_PATH``, keys from ``ABS_KEY_<NAME>`` or the keystore).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import console, errors, platform, reports_errors
from api.errors import InvalidInputError
from api.services.model_registry import (
    ESTIMATORS, RegisteredModel, model_directory, read_model, register_model, retire_model,
)
from chain.roles import Role
from scoring.errors import ScoringError
from scoring.grading import LevelEdges
from scoring.model.train import TRAINING_STEPS, train_and_report

app = typer.Typer(
    help="Scoring models: train from a labelled CSV, register on chain, retire, show.",
    no_args_is_help=True,
)


def _parse_edges(text: str | None) -> LevelEdges:
    if text is None:
        return LevelEdges()
    try:
        edges = LevelEdges(tuple(int(part) for part in text.split(",")))
    except ValueError as exc:  # ScoringValueError is a ValueError too
        raise typer.BadParameter(f"{text!r}: {exc}", param_hint="--edges") from None
    if edges.level_count != 10:
        raise typer.BadParameter(f"the registry takes 10 levels, got {edges.level_count}", param_hint="--edges")
    return edges


@app.command()
@reports_errors
def train(
    data: Annotated[Path, typer.Option("--data", exists=True, dir_okay=False, help="labelled training CSV")],
    target: Annotated[str, typer.Option("--target", help="the 0/1 (or --target-bad-value) default column")],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="output directory")],
    mapping: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="JSON column mapping")] = None,
    test_data: Annotated[Path | None, typer.Option("--test-data", exists=True, dir_okay=False,
                                                   help="held-out CSV with the same columns")] = None,
    target_bad_value: Annotated[str | None, typer.Option("--target-bad-value",
                                                         help="target label meaning default, e.g. bad")] = None,
    edges: Annotated[str | None, typer.Option(help="highest score of levels 1..10, comma-separated "
                                                   "(default 10,20,...,100)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the folds and the challenger")] = 0,
    folds: Annotated[int, typer.Option(min=2, help="stratified cross-validation folds")] = 5,
) -> None:
    """Train the scorecard and the challenger; write both artifacts, metrics.json and the report."""
    level_edges = _parse_edges(edges)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=False) as progress:
        task = progress.add_task("training", total=len(TRAINING_STEPS))

        def advance(step: str) -> None:
            progress.update(task, description=step, completed=TRAINING_STEPS.index(step))

        try:
            result = train_and_report(data, target, mapping, test_data, out_dir=out, seed=seed, folds=folds,
                                      target_bad_value=target_bad_value, edges=level_edges, progress=advance)
        except ScoringError as exc:  # unusable data: a message for the user, not a traceback
            raise InvalidInputError(str(exc)) from None
        progress.update(task, description="done", completed=len(TRAINING_STEPS))

    table = Table(title=f"{result.metrics['data']['rows']} loans, {folds}-fold CV")
    for column in ("model", "CV AUC", "CV KS", "test AUC", "test KS", "artifact hash"):
        table.add_column(column)
    for name in ESTIMATORS:
        m = result.metrics[name]
        table.add_row(name, f"{m['cv_auc']:.4f}", f"{m['cv_ks']:.4f}",
                      f"{m['test_auc']:.4f}" if "test_auc" in m else "-",
                      f"{m['test_ks']:.4f}" if "test_ks" in m else "-", m["model_hash"][:18] + "...")
    console.print(table)
    console.print(f"wrote {out / 'metrics.json'}, {out / 'report.md'}, calibration and level_table (.png, .svg), "
                  f"and the models in {out / 'scorecard'} and {out / 'challenger'}", soft_wrap=True)


def _print_model(model: RegisteredModel) -> None:
    metrics = model.metrics
    for label, value in (
        ("model", model.model_id), ("name", model.name), ("status", "active" if model.active else "retired"),
        ("artifact hash", model.artifact_hash), ("feature schema hash", model.feature_schema_hash),
        ("scorer", model.scorer), ("registered at", model.registered_at),
        ("cv AUC", f"{metrics.cv_auc_ppm / 1e6:.4f}"), ("KS", f"{metrics.ks_ppm / 1e6:.4f}"),
        ("Brier", f"{metrics.brier_ppm / 1e6:.4f}"), ("history", f"{metrics.sample_size} loans"),
    ):
        console.print(f"{label:>20}  {value}", highlight=False, soft_wrap=True)
    table = Table(title="level table")
    for column in ("level", "scores", "bad rate (ppm)"):
        table.add_column(column, justify="right")
    for level, ((lowest, highest), rate) in enumerate(zip(model.edges.segments(), model.level_bad_rates_ppm), 1):
        table.add_row(str(level), f"{lowest}-{highest}", str(rate))
    console.print(table)


MemberOption = Annotated[str | None, typer.Option("--as", help="member whose key signs (default: the manifest's "
                                                              "first SCORER)")]


@app.command()
@reports_errors
def register(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                              help="a training --out directory, or one model folder in it")],
    member: MemberOption = None,
    estimator: Annotated[str, typer.Option("--model", help="which model of a training directory")] = "scorecard",
    name: Annotated[str | None, typer.Option(help="name on chain (default: <directory>/<model>)")] = None,
) -> None:
    """Register a trained model in the ModelRegistry (again: prints the existing registration)."""
    context = platform()
    signer = member or context.member_with(Role.SCORER)
    registered = register_model(context.sender(signer), context.contract("ModelRegistry"),
                                model_directory(directory, estimator), name=name)
    if registered.tx_hash is None:
        console.print(f"already registered as model {registered.model_id}", highlight=False)
    else:
        console.print(f"registered as model {registered.model_id} by {signer} in {registered.tx_hash}",
                      highlight=False, soft_wrap=True)
    _print_model(registered)


@app.command()
@reports_errors
def retire(
    model_id: Annotated[int, typer.Argument(min=1, help="the model id")],
    member: MemberOption = None,
) -> None:
    """Retire a model: no score batch may name it any more."""
    context = platform()
    signer = member or context.member_with(Role.SCORER)
    retired = retire_model(context.sender(signer), context.contract("ModelRegistry"), model_id)
    done = "already retired" if retired.tx_hash is None else f"retired by {signer} in {retired.tx_hash}"
    console.print(f"model {model_id} {done}", highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def show(model_id: Annotated[int, typer.Argument(min=1, help="the model id")]) -> None:
    """Show a registered model as the chain holds it."""
    _print_model(read_model(platform().contract("ModelRegistry"), model_id))
