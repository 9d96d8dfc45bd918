"""``absctl pack ...``: a financier's asset packs, through the orchestrator API over HTTP.

The API's address and the caller's key come from ``--url`` / ``ABS_API_URL`` and ``--api-key`` /
``ABS_API_KEY``. ``issue_key`` (wired as ``absctl members api-key NAME``) is the one command
that talks to the orchestrator's database instead: it mints a member's API key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from api.cli.common import console, errors

app = typer.Typer(help="Asset packs: submit, follow, report (through the orchestrator API).")

DEFAULT_URL = "http://127.0.0.1:8600"
URL = Annotated[str, typer.Option("--url", envvar="ABS_API_URL", help="the orchestrator API")]
KEY = Annotated[str, typer.Option("--api-key", envvar="ABS_API_KEY", help="your API key")]
CHUNK = 1 << 20


def client(url: str, api_key: str) -> httpx.Client:
    """The HTTP client of every command (tests swap in one bound to an in-process app)."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=600.0)


def _fail(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:500]}
    errors.print(f"[red]error {response.status_code}:[/red] {body.get('message', body)}", highlight=False)
    problems = (body.get("details") or {}).get("problems") if isinstance(body.get("details"), dict) else None
    if problems:
        table = Table("row", "line", "field", "problem", title=f"first {len(problems)} of "
                      f"{body['details']['total_problems']} problems")
        for problem in problems:
            table.add_row(str(problem["row"]), str(problem.get("line", "")), problem["field"], problem["problem"])
        errors.print(table)
    raise typer.Exit(1)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _upload(path: Path, progress: Progress) -> Iterator[bytes]:
    task = progress.add_task("uploading", total=path.stat().st_size)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


def _follow(http: httpx.Client, pack_id: int, poll: float) -> dict:
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("queued", total=100)
        while True:
            response = http.get(f"/v1/packs/{pack_id}")
            _fail(response)
            pack = response.json()
            progress.update(task, completed=pack["progress_pct"], description=f"{pack['status']}: {pack['step']}")
            if pack["status"] in ("done", "failed", "withdrawn"):
                return pack
            time.sleep(poll)


def _summary(pack: dict) -> None:
    table = Table(title=f"pack {pack['id']}", show_header=False)
    chain = pack["chain"]
    rows = [("status", pack["status"]), ("step", f"{pack['step']} ({pack['progress_pct']}%)"),
            ("on-chain pack", f"{chain['pack_id']} ({chain['state']})"), ("assets", str(pack["asset_count"])),
            ("expected bad rate", f"{pack['expected_bad_rate_ppm'] / 10_000:g}%"),
            ("mode", f"{pack['filter_mode']}, weights by {pack['weight_by']}")]
    if pack.get("credit"):
        rows.append(("excluded (credit)", json.dumps(pack["credit"]["excluded_by_reason"])))
    if pack.get("filter"):
        f = pack["filter"]
        rows += [("removed", f"{f['removed_count']} ({f['share_removed_ppm'] / 10_000:.2f}%)"),
                 ("bad rate before -> after", f"{f['chain_bad_rate_before_ppm'] / 10_000:.3f}% -> "
                                              f"{f['chain_bad_rate_after_ppm'] / 10_000:.3f}% ({f['judged_by']})"),
                 ("kept root", f["kept_root"])]
    if pack.get("error"):
        rows.append(("error", pack["error"].get("message", "")))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the pack: .csv, or .json as the API takes it")],
    url: URL = DEFAULT_URL,
    api_key: KEY = "",
    expected_bad_rate: Annotated[str | None, typer.Option(help="target as a fraction, e.g. 0.05")] = None,
    mode: Annotated[str, typer.Option(help="global | per-level")] = "global",
    weight_by: Annotated[str, typer.Option(help="balance | count")] = "balance",
    idempotency_key: Annotated[str | None, typer.Option(help="default: derived from the file and the options, "
                                                             "so re-running the command never makes a second pack")] = None,
    wait: Annotated[bool, typer.Option(help="follow the pipeline to its end")] = True,
    poll: Annotated[float, typer.Option(help="seconds between status polls")] = 0.5,
) -> None:
    """Submit a pack (CSV streamed with a progress bar) and follow its pipeline."""
    options = {"expected_bad_rate": expected_bad_rate, "filter_mode": mode, "weight_by": weight_by}
    key = idempotency_key or "cli-" + hashlib.sha256(
        (_file_digest(file) + json.dumps(options, sort_keys=True)).encode()).hexdigest()[:40]
    with client(url, api_key) as http:
        if file.suffix.lower() == ".json":
            body: dict[str, Any] = json.loads(file.read_text())
            body.update({k: v for k, v in options.items() if v is not None})
            response = http.post("/v1/packs", json=body, headers={"Idempotency-Key": key})
        else:
            params = {k: v for k, v in options.items() if v is not None}
            with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                          console=console) as progress:
                response = http.post("/v1/packs/csv", params=params, content=_upload(file, progress),
                                     headers={"Idempotency-Key": key, "Content-Type": "text/csv"})
        _fail(response)
        pack = response.json()
        console.print(f"pack {pack['id']} {'accepted' if response.status_code == 202 else 'already submitted'} "
                      f"(Idempotency-Key {key})")
        if wait:
            pack = _follow(http, pack["id"], poll)
        _summary(pack)
        if pack["status"] == "failed":
            raise typer.Exit(1)


@app.command()
def status(pack_id: int, url: URL = DEFAULT_URL, api_key: KEY = "",
           watch: Annotated[bool, typer.Option(help="follow until the pipeline ends")] = False) -> None:
    """A pack's step, percent done and results so far."""
    with client(url, api_key) as http:
        if watch:
            pack = _follow(http, pack_id, 0.5)
        else:
            response = http.get(f"/v1/packs/{pack_id}")
            _fail(response)
            pack = response.json()
    _summary(pack)


@app.command()
def report(pack_id: int, out: Annotated[Path, typer.Option(help="directory to write into")],
           url: URL = DEFAULT_URL, api_key: KEY = "") -> None:
    """Write the report (JSON, HTML), its charts (PNG, SVG) and the CSV exports into OUT."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"report.json": f"/v1/packs/{pack_id}/report", "report.html": f"/v1/packs/{pack_id}/report.html"}
    for chart in ("bad_rate_curve", "level_mix", "removals"):
        for fmt in ("png", "svg"):
            files[f"{chart}.{fmt}"] = f"/v1/packs/{pack_id}/charts/{chart}.{fmt}"
    for outcome in ("kept", "removed", "excluded"):
        files[f"{outcome}.csv"] = f"/v1/packs/{pack_id}/export/{outcome}.csv"
    with client(url, api_key) as http:
        for name, path in files.items():
            with http.stream("GET", path) as response:
                if not response.is_success:
                    response.read()
                    _fail(response)
                with (out / name).open("wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
    console.print(f"report of pack {pack_id} written to {out} ({len(files)} files; open {out / 'report.html'})")


@app.command("list")
def list_packs(url: URL = DEFAULT_URL, api_key: KEY = "") -> None:
    """The packs you may see."""
    with client(url, api_key) as http:
        response = http.get("/v1/packs", params={"limit": 100})
        _fail(response)
    table = Table("id", "financier", "status", "step", "%", "assets", "chain id", "state")
    for pack in response.json()["packs"]:
        table.add_row(str(pack["id"]), pack["financier"], pack["status"], pack["step"], str(pack["progress_pct"]),
                      str(pack["asset_count"]), str(pack["chain"]["pack_id"]), str(pack["chain"]["state"]))
    console.print(table)


def issue_key(name: Annotated[str, typer.Argument(help="the member, as the deployment manifest names it")],
              address: Annotated[str | None, typer.Option(help="the member's address (default: the manifest's)")]
              = None) -> None:
    """Mint an API key for a member of the consortium (printed once; only its hash is stored)."""
    from sqlmodel import Session

    from api.auth import issue_api_key
    from api.cli.common import platform
    from api.db.engine import make_engine
    from api.orchestrator.wiring import migrate

    context = platform()
    if address is None:
        record = context.manifest.members.get(name)
        if record is None:
            errors.print(f"[red]error:[/red] the manifest names no member {name!r}; pass --address")
            raise typer.Exit(1)
        address = record.address
    migrate(context.settings.database_url)
    with Session(make_engine(context.settings.database_url)) as session:
        key = issue_api_key(session, name, address)
        session.commit()
    console.print(key, highlight=False)
