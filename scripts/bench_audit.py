#!/usr/bin/env python
"""Benchmark of the auditor at scale, on the embedded chain.

A pack of N assets (default 10,000) goes through the real pipeline; then, in one run: the size
of its export bundle as the API serves it (with the bureau evidence), plain and gzipped; the
time to serve and to parse it; ``audit pack`` (every root rebuilt from the bundle, every level,
the bad rates and the filter recomputed); ``audit db`` naming rows through the bundle; and, as
the peer, the naive check of the kept assets one by one (``AssetPack.verifyAsset`` per asset, as
an eth_call with its Merkle proof). Prints JSON lines {"bench": "audit", "metric", "value", "unit"}.

Usage: .venv/bin/python scripts/bench_audit.py [--assets N] [--peer-sample K]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("", "tests/chain", "tests/api", "tests/audit"):
    sys.path.insert(0, str(ROOT / folder))

from audit_support import _submit  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402
from support import admit_second_financier, api_key, make_world  # noqa: E402
from testbed import build_consortium  # noqa: E402

from api.audit.bundle import iter_text_lines, read_pack_bundle  # noqa: E402
from api.audit.db_audit import audit_databases  # noqa: E402
from api.audit.db_bundles import BundleSource  # noqa: E402
from api.audit.pack_audit import audit_pack  # noqa: E402
from api.orchestrator.app import create_app  # noqa: E402
from api.orchestrator.models import Pack  # noqa: E402
from api.orchestrator.reports.proofs import _cached_tree  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402
from chain.leaves import from_hex32  # noqa: E402


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "audit", "metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--peer-sample", type=int, default=500, help="kept assets verified one by one")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    consortium = build_consortium(connect("embedded"))
    admit_second_financier(consortium)
    settings = Settings(database_url=f"sqlite:///{folder / 'orchestrator.db'}", chain_url="embedded",
                        reports_dir=folder / "reports", models_dir=folder / "models")
    world = make_world(consortium, settings, folder / "models", f"sqlite:///{folder / 'bureau.db'}")
    app = create_app(settings, orchestrator=world.orchestrator(settings))
    with TestClient(app) as client:
        financier = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'financier')}"}
        pack_id = _submit(client, financier, world, args.assets, 9301)
        auditor = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'auditor')}"}
        started = time.perf_counter()
        answer = client.get(f"/v1/audit/packs/{pack_id}/bundle", headers={**auditor, "Accept-Encoding": "identity"})
        served = time.perf_counter() - started
        with Session(app.state.orchestrator.engine) as session:
            pack = next(p for p in session.query(Pack).all() if p.chain_pack_id == pack_id)
            kept, _ = _cached_tree(session, pack, "kept")
    body = answer.content
    started = time.perf_counter()
    bundle = read_pack_bundle(iter_text_lines([body]))
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    report = audit_pack(consortium.w3, consortium.manifest, pack_id, bundle)
    audited = time.perf_counter() - started
    started = time.perf_counter()
    db_report = audit_databases(consortium.w3, consortium.manifest, [settings.database_url],
                                bundles=BundleSource([bundle]))
    db_audited = time.perf_counter() - started
    asset_pack = consortium.contract("AssetPack")
    sample = min(args.peer_sample, len(kept))
    started = time.perf_counter()
    for index in range(sample):
        asset, record, score, level = kept.at(index)
        proof = [from_hex32(node) for node in kept.get_proof(index)]
        assert asset_pack.functions.verifyAsset(pack_id, True, asset, record, int(score), int(level), proof).call()
    per_asset = (time.perf_counter() - started) / sample
    zipped = gzip.compress(body, 6)
    clean = not report.findings and not db_report.findings
    emit("audit_bundle_bytes", len(body), "B", assets=args.assets, per_asset=round(len(body) / args.assets))
    emit("audit_bundle_gzip_bytes", len(zipped), "B", ratio=round(len(body) / len(zipped), 2))
    emit("audit_bundle_serve_seconds", round(served, 2), "s", parse_seconds=round(parsed, 2))
    emit("audit_pack_seconds", round(audited, 2), "s", assets=args.assets, clean=clean)
    emit("audit_db_seconds", round(db_audited, 2), "s", clean=clean)
    emit("peer_verify_each_kept_asset_seconds", round(per_asset * len(kept), 1), "s", kept=len(kept),
         measured_on=sample, per_asset_ms=round(per_asset * 1000, 2))
    if not clean:
        raise SystemExit(f"the audit found something:\n{report.text()}\n{db_report.text()}")


if __name__ == "__main__":
    main()
