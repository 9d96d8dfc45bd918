"""``absctl bureau``: run the credit bureau, publish credit records, issue bureau API keys.

The bureau's database is ``ABS_BUREAU_DATABASE_URL``; the chain, manifest and keys are the
platform's (``ABS_CHAIN_URL``, ``ABS_MANIFEST_PATH``, ``ABS_KEY_<NAME>`` or the keystore). Batches
are signed by ``ABS_BUREAU_MEMBER``, by default the manifest's first CREDIT_BUREAU member.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from api.bureau.entries import BatchInfo
from api.bureau.intake import FIELDS, frame_from_csv, parse_as_of
from api.bureau.models import READ_SCOPE, WRITE_SCOPE
from api.bureau.service import BureauService, utc_today
from api.bureau.settings import BureauSettings
from api.cli.common import console, errors, platform, reports_errors
from api.errors import InvalidInputError

app = typer.Typer(help="The credit bureau: serve it, publish credit records on chain, issue API keys.",
                  no_args_is_help=True)

CSV_LINE_OFFSET = 2


def bureau_service() -> BureauService:
    """The bureau as the environment describes it (tests replace this function)."""
    from api.bureau.bootstrap import build_service

    return build_service(BureauSettings(), platform())


def _publish(service: BureauService, frame, as_of: dt.date | None, source: str, line_offset: int | None = None) -> BatchInfo:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task(f"{len(frame):,} records", total=None)

        def stage(name: str) -> None:
            progress.update(task, description=f"{len(frame):,} records: {name}")

        info = service.ingest(frame, as_of=as_of, source=source, line_offset=line_offset, progress=stage)
    console.print(f"committed batch [bold]{info.batch_id}[/bold]: {info.record_count:,} records as of {info.as_of}, "
                  f"root {info.root}, tx {info.tx_hash}", highlight=False)
    return info


def _show_refusal(exc: InvalidInputError) -> None:
    for problem in (exc.details or {}).get("errors", []):
        where = f"line {problem['line']}" if "line" in problem else f"row {problem['row']}"
        errors.print(f"  {where}, {problem['field']}: {problem['problem']}", highlight=False)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8100,
    host: Annotated[str, typer.Option(help="interface to bind; keep 127.0.0.1 unless behind a proxy")] = "127.0.0.1",
) -> None:
    """Run the bureau's HTTP API (uvicorn); pending batches are finished at start-up."""
    import uvicorn

    from api.bureau.app import create_app

    uvicorn.run(create_app(service=bureau_service()), host=host, port=port, log_level="info")


@app.command()
@reports_errors
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of credit records with a header")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="batch as-of date (default: newest record date)")] = None,
) -> None:
    """Validate a CSV of credit records, commit it on chain as one batch and store it."""
    service = bureau_service()
    frame = frame_from_csv(file.read_bytes())
    try:
        _publish(service, frame, parse_as_of(as_of), f"cli:{file.name}", CSV_LINE_OFFSET)
    except InvalidInputError as exc:
        _show_refusal(exc)
        raise


@app.command("publish-synthetic")
@reports_errors
def publish_synthetic(
    n: Annotated[int, typer.Option("--n", min=1, help="number of borrowers")],
    seed: Annotated[int, typer.Option("--seed", help="seed of the synthetic pack or history")],
    financier: Annotated[str, typer.Option(help="financier of the pack (its ids start with FINANCIER-SEED-)")] = "fin",
    id_prefix: Annotated[str | None, typer.Option("--id-prefix", help="id prefix of the pack, if it set one")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="the pack's as-of date (default: today, UTC)")] = None,
    history: Annotated[bool, typer.Option("--history", help="the borrowers of generate_history, not of a pack")] = False,
) -> None:
    """Publish the credit records of the borrowers of a synthetic pack (or history), same ids and values."""
    from scoring.data.synthetic import generate_history, generate_pack

    if history:
        frame = generate_history(n, seed, id_prefix=id_prefix or "hist-")
        source = f"synthetic:history:{n}:{seed}"
    else:
        day = parse_as_of(as_of) or utc_today()
        frame = generate_pack(n, seed, financier=financier, id_prefix=id_prefix, as_of=day)
        source = f"synthetic:pack:{financier}:{n}:{seed}"
    _publish(bureau_service(), frame[list(FIELDS)], None, source)


@app.command("api-key")
@reports_errors
def api_key(
    name: Annotated[str, typer.Argument(help="who the key is for, e.g. a consortium member's name")],
    write: Annotated[bool, typer.Option("--write", help="may also publish batches (bureau operators)")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="revoke every live key of NAME instead")] = False,
) -> None:
    """Issue a bureau API key (printed once; only its hash is stored), or revoke a name's keys."""
    from api.bureau.bootstrap import open_database
    from api.bureau.keys import issue_key, revoke_keys

    engine = open_database(BureauSettings().database_url)
    if revoke:
        console.print(f"revoked {revoke_keys(engine, name)} key(s) of {name}")
        return
    key = issue_key(engine, name, WRITE_SCOPE if write else READ_SCOPE)
    errors.print(f"{'write' if write else 'read'} key for {name} (shown once; send as 'Authorization: Bearer <key>'):")
    console.print(key, highlight=False, soft_wrap=True)
