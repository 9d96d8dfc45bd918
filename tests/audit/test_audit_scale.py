"""Bundle scale (slow, opt-in: ``ABS_AUDIT_SCALE=1 pytest tests/audit/test_audit_scale.py -s``): a pack
of 10,000 assets through the real pipeline; the size of its bundle as served by the API (with
bureau evidence), plain and gzipped, and the time of ``audit pack`` and of ``audit db`` with it.
Prints the figures; asserts only that both audits are clean."""

from __future__ import annotations

import gzip
import os
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "api"))

from audit_support import _submit  # noqa: E402
from support import admit_second_financier, api_key, make_world  # noqa: E402
from testbed import build_consortium  # noqa: E402

from api.audit.bundle import iter_text_lines, read_pack_bundle  # noqa: E402
from api.audit.db_audit import audit_databases  # noqa: E402
from api.audit.db_bundles import BundleSource  # noqa: E402
from api.audit.pack_audit import audit_pack  # noqa: E402
from api.orchestrator.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402

ASSETS = int(os.environ.get("ABS_AUDIT_SCALE_ASSETS", "10000"))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("ABS_AUDIT_SCALE"), reason="opt-in: set ABS_AUDIT_SCALE=1")]


def test_bundle_size_and_audit_time_at_scale(tmp_path):
    consortium = build_consortium(connect("embedded"))
    admit_second_financier(consortium)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'orchestrator.db'}", chain_url="embedded",
                        reports_dir=tmp_path / "reports", models_dir=tmp_path / "models")
    world = make_world(consortium, settings, tmp_path / "models", f"sqlite:///{tmp_path / 'bureau.db'}")
    app = create_app(settings, orchestrator=world.orchestrator(settings))
    started = time.perf_counter()
    with TestClient(app) as client:
        financier = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'financier')}"}
        pack_id = _submit(client, financier, world, ASSETS, 9301)
        built = time.perf_counter() - started
        auditor = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'auditor')}"}
        started = time.perf_counter()
        answer = client.get(f"/v1/audit/packs/{pack_id}/bundle", headers=auditor)
        served = time.perf_counter() - started
    assert answer.status_code == 200
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
    zipped = gzip.compress(body, 6)
    print(f"\n{ASSETS} assets (pipeline {built:.1f} s): bundle {len(body) / 1e6:.2f} MB "
          f"({len(body) / ASSETS:.0f} B/asset), gzip -6 {len(zipped) / 1e6:.2f} MB; served in {served:.1f} s, "
          f"parsed in {parsed:.1f} s; audit pack {audited:.1f} s; audit db with the bundle {db_audited:.1f} s")
    assert report.findings == [], report.text()
    assert db_report.findings == [], db_report.text()
