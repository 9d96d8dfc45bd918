"""``audit db`` on a pack of 400 assets (the chain holds its roots only): with a bundle published
before the change, one changed score, level or balance is flagged as exactly that row, with the
chain-attested value; a bundle exported after the change does not authenticate and names nothing;
a bundle whose rows were dropped still proves its leaves, from which the score is recovered."""

from __future__ import annotations

import pytest
from audit_support import AuditWorld, execute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from support import api_key
from test_audit_db import row, same_level_score

from api.audit.bundle import PackBundle, gzipped, read_pack_bundle
from api.audit.db_audit import audit_databases
from api.audit.db_bundles import BundleSource, http_fetcher
from api.audit.export import export_pack_lines


def bundle_from(database, chain_pack_id: int) -> PackBundle:
    engine = create_engine(f"sqlite:///{database}")
    try:
        return read_pack_bundle(export_pack_lines(engine, chain_pack_id))
    finally:
        engine.dispose()


def big_row(database, pack_id: int) -> tuple[int, int, int, int]:
    """(row_no, score, level, balance) of a kept asset of the big pack."""
    return row(database, "SELECT s.row_no, s.score, s.level, a.outstanding_balance_minor FROM asset_score s JOIN "
                         "asset_outcome o ON o.pack_id = s.pack_id AND o.row_no = s.row_no JOIN asset a ON "
                         "a.pack_id = s.pack_id AND a.row_no = s.row_no WHERE s.pack_id = ? AND o.outcome = 'kept' "
                         "ORDER BY s.row_no LIMIT 1 OFFSET 17", pack_id)


@pytest.fixture
def big(audit_world: AuditWorld, tmp_path):
    folder = audit_world.copy_databases(tmp_path)
    pack_id, = row(folder / "orchestrator.db", "SELECT id FROM pack WHERE chain_pack_id = ?", audit_world.big_pack)
    return folder, pack_id, bundle_from(folder / "orchestrator.db", audit_world.big_pack)


def tamper(folder, pack_id: int, case: str) -> tuple[str, str, object, object]:
    """Change one field of one row of the big pack: (flagged row, field, chain value, database value)."""
    row_no, score, level, balance = big_row(folder / "orchestrator.db", pack_id)
    key = f"pack_id={pack_id},row_no={row_no}"
    if case == "score":
        other = same_level_score(score, level)
        execute(folder / "orchestrator.db", "UPDATE asset_score SET score = ? WHERE pack_id = ? AND row_no = ?",
                other, pack_id, row_no)
        return f"asset_score[{key}]", "score", score, other
    if case == "level":
        other = 10 if level != 10 else 9
        execute(folder / "orchestrator.db", "UPDATE asset_score SET level = ? WHERE pack_id = ? AND row_no = ?",
                other, pack_id, row_no)
        return f"asset_score[{key}]", "level", level, other
    execute(folder / "orchestrator.db", "UPDATE asset SET outstanding_balance_minor = ? WHERE pack_id = ? AND "
                                        "row_no = ?", balance - 1, pack_id, row_no)
    return f"asset[{key}]", "outstanding_balance_minor", balance, balance - 1


def test_with_its_bundle_a_clean_big_pack_gives_no_finding(audit_world: AuditWorld, big):
    folder, _, bundle = big
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder),
                             bundles=BundleSource([bundle]))
    assert report.findings == [], report.text()


@pytest.mark.parametrize("case", ["score", "level", "balance"])
def test_a_bundle_published_before_names_the_changed_row(audit_world: AuditWorld, big, case: str):
    folder, pack_id, bundle = big
    subject, field, chain_value, db_value = tamper(folder, pack_id, case)
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder),
                             bundles=BundleSource([bundle]))
    assert [(f.subject, f.field, f.expected, f.actual) for f in report.findings] == [
        (subject, field, chain_value, db_value)], report.text()


def test_a_gzipped_bundle_file_kept_by_the_auditor_names_the_row(audit_world: AuditWorld, big, tmp_path):
    folder, pack_id, _ = big
    engine = create_engine(f"sqlite:///{folder / 'orchestrator.db'}")
    kept = tmp_path / "pack.jsonl.gz"
    kept.write_bytes(b"".join(gzipped(export_pack_lines(engine, audit_world.big_pack))))
    engine.dispose()
    subject, field, chain_value, db_value = tamper(folder, pack_id, "score")
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder),
                             bundles=BundleSource.from_files([kept]))
    assert [(f.subject, f.field, f.expected, f.actual) for f in report.findings] == [
        (subject, field, chain_value, db_value)], report.text()


def test_a_bundle_exported_after_the_change_names_no_row(audit_world: AuditWorld, big):
    folder, pack_id, _ = big
    tamper(folder, pack_id, "score")
    after = bundle_from(folder / "orchestrator.db", audit_world.big_pack)
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder),
                             bundles=BundleSource([after]))
    assert {f.subject for f in report.findings} == {f"pack[id={pack_id}] rows"}, report.text()
    assert "score root (asset_score)" in {f.field for f in report.findings}
    assert all("exported after the change" in f.detail for f in report.findings)


def test_the_leaves_alone_recover_the_committed_score(audit_world: AuditWorld, big):
    folder, pack_id, bundle = big
    subject, field, chain_value, db_value = tamper(folder, pack_id, "score")
    leaves_only = PackBundle(bundle.header, rows=[], leaves=bundle.leaves)
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder),
                             bundles=BundleSource([leaves_only]))
    assert [(f.subject, f.field, f.expected, f.actual) for f in report.findings] == [
        (subject, field, chain_value, db_value)], report.text()


def test_bundles_fetched_from_the_api_name_the_row(audit_world: AuditWorld, big):
    """The platform serves bundles from its live database; the auditor fetched them before the change."""
    folder, pack_id, _ = big
    application = audit_world.orchestrator_app(folder / "orchestrator.db")
    with TestClient(application) as client:
        key = api_key(application.state.orchestrator, audit_world.consortium, "auditor")
        client.headers["Authorization"] = f"Bearer {key}"
        source = BundleSource(fetch=http_fetcher(client))
        assert source.get(audit_world.big_pack) is not None and source.get(999) is None
    subject, field, _, _ = tamper(folder, pack_id, "level")
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder), bundles=source)
    assert [(f.subject, f.field) for f in report.findings] == [(subject, field)], report.text()
