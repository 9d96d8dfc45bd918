"""``audit db``: an untampered platform gives no finding; one field changed in one row of each
table is flagged as exactly that row, with the database's and the chain's values."""

from __future__ import annotations

import json
import sqlite3

import pytest
from audit_support import AuditWorld, execute
from typer.testing import CliRunner

from api.audit.db_audit import audit_databases
from api.cli import audit as audit_cli
from api.cli.main import app
from chain.audit.pack_facts import level_of


def row(database, sql: str, *params):
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchone()


def small_pack_row(world: AuditWorld, outcome: str) -> tuple[int, int, int, int]:
    """(pack db id, row_no, score, level) of an asset of the small pack with this outcome."""
    return row(world.db("orchestrator"),
               "SELECT s.pack_id, s.row_no, s.score, s.level FROM asset_score s JOIN asset_outcome o ON "
               "o.pack_id = s.pack_id AND o.row_no = s.row_no JOIN pack p ON p.id = s.pack_id WHERE "
               "p.chain_pack_id = ? AND o.outcome = ? ORDER BY s.row_no LIMIT 1", world.small_pack, outcome)


def same_level_score(score: int, level: int) -> int:
    """Another score in the same level (default edges: tens)."""
    edges = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
    other = score + 1 if score + 1 <= edges[level - 1] else score - 1
    assert level_of(other, edges) == level
    return other


def tamper_cases(world: AuditWorld) -> dict[str, tuple[str, str, tuple, str, str]]:
    """name -> (database, UPDATE, params, flagged row, flagged field)."""
    pack_id, row_no, score, level = small_pack_row(world, "kept")
    _, removed_row, _, _ = small_pack_row(world, "removed")
    other_level = 10 if level != 10 else 9
    tx_id, events = row(world.db("orchestrator"), "SELECT id, events FROM chain_tx WHERE step = 'graded' "
                                                  "ORDER BY id LIMIT 1")
    events = json.loads(events)
    events[0]["args"]["badRateByCountPpm"] += 1
    tranche_id, = row(world.db("exchange"), "SELECT id FROM exchange_tranche ORDER BY id LIMIT 1")
    sub_id, = row(world.db("exchange"), "SELECT id FROM exchange_subscription WHERE status = 'allocated' LIMIT 1")
    event_id, = row(world.db("iot"), "SELECT id FROM iot_event ORDER BY id LIMIT 1")
    warning_id, = row(world.db("iot"), "SELECT id FROM iot_warning LIMIT 1")
    loan_id, = row(world.db("iot"), "SELECT loan_id FROM iot_freeze LIMIT 1")
    key = f"pack_id={pack_id},row_no={row_no}"
    return {
        "score": ("orchestrator", "UPDATE asset_score SET score = ? WHERE pack_id = ? AND row_no = ?",
                  (same_level_score(score, level), pack_id, row_no), f"asset_score[{key}]", "score"),
        "level": ("orchestrator", "UPDATE asset_score SET level = ? WHERE pack_id = ? AND row_no = ?",
                  (other_level, pack_id, row_no), f"asset_score[{key}]", "level"),
        "loan balance": ("orchestrator", "UPDATE asset SET outstanding_balance_minor = outstanding_balance_minor + 1 "
                         "WHERE pack_id = ? AND row_no = ?", (pack_id, row_no), f"asset[{key}]", "record"),
        "outcome": ("orchestrator", "UPDATE asset_outcome SET outcome = 'kept' WHERE pack_id = ? AND row_no = ?",
                    (pack_id, removed_row), f"asset_outcome[pack_id={pack_id},row_no={removed_row}]", "outcome"),
        "pack state": ("orchestrator", "UPDATE pack SET chain_state = 'Graded' WHERE id = ?", (pack_id,),
                       f"pack[id={pack_id}]", "chain_state"),
        "event": ("orchestrator", "UPDATE chain_tx SET events = ? WHERE id = ?", (json.dumps(events), tx_id),
                  f"chain_tx[id={tx_id}]", "events"),
        "tranche outstanding": ("exchange", "UPDATE exchange_tranche SET outstanding = outstanding - 1 WHERE id = ?",
                                (tranche_id,), f"exchange_tranche[id={tranche_id}]", "outstanding"),
        "holding": ("exchange", "UPDATE exchange_subscription SET allocated = allocated + 7 WHERE id = ?", (sub_id,),
                    f"exchange_subscription[id={sub_id}]", "allocated"),
        "product": ("exchange", "UPDATE exchange_product SET pack_id = pack_id + 1 WHERE id = ?", (world.product_id,),
                    f"exchange_product[id={world.product_id}]", "pack_id"),
        "iot event": ("iot", "UPDATE iot_event SET payload = '{\"lat_e7\": 1, \"lon_e7\": 2}' WHERE id = ?",
                      (event_id,), f"iot_event[id={event_id}]", "event_hash"),
        "warning level": ("iot", "UPDATE iot_warning SET level = 1 WHERE id = ?", (warning_id,),
                          f"iot_warning[id={warning_id}]", "level"),
        "freeze": ("iot", "UPDATE iot_freeze SET frozen_bps = 5000 WHERE loan_id = ?", (loan_id,),
                   f"iot_freeze[loan_id={loan_id}]", "frozen_bps"),
    }


CASES = ("score", "level", "loan balance", "outcome", "pack state", "event", "tranche outstanding", "holding",
         "product", "iot event", "warning level", "freeze")


def test_an_untampered_platform_gives_no_finding(audit_world: AuditWorld, tmp_path):
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(audit_world.copy_databases(
        tmp_path)))
    assert report.findings == [], report.text()
    assert report.checked["tables"] > 20


@pytest.mark.parametrize("case", CASES)
def test_one_changed_field_flags_exactly_that_row(audit_world: AuditWorld, tmp_path, case: str):
    folder = audit_world.copy_databases(tmp_path)
    database, sql, params, subject, field = tamper_cases(audit_world)[case]
    execute(folder / f"{database}.db", sql, *params)
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder))
    assert [(f.subject, f.field) for f in report.findings] == [(subject, field)], report.text()
    body = report.to_dict()["findings"][0]
    assert body["database_value"] != body["chain_value"]


def test_a_big_packs_changed_score_is_flagged_at_its_roots(audit_world: AuditWorld, tmp_path):
    """Over 256 assets the chain holds roots only: the pack's score and kept/removed roots are named."""
    folder = audit_world.copy_databases(tmp_path)
    pack_id, = row(folder / "orchestrator.db", "SELECT id FROM pack WHERE chain_pack_id = ?", audit_world.big_pack)
    row_no, score, level = row(folder / "orchestrator.db", "SELECT row_no, score, level FROM asset_score WHERE "
                               "pack_id = ? ORDER BY row_no LIMIT 1", pack_id)
    execute(folder / "orchestrator.db", "UPDATE asset_score SET score = ? WHERE pack_id = ? AND row_no = ?",
            same_level_score(score, level), pack_id, row_no)
    report = audit_databases(audit_world.w3, audit_world.manifest, audit_world.urls(folder))
    assert {f.subject for f in report.findings} == {f"pack[id={pack_id}] rows"}
    assert "score root (asset_score)" in {f.field for f in report.findings}


def test_absctl_audit_db_lists_the_row_and_exits_1(audit_world: AuditWorld, tmp_path, monkeypatch):
    folder = audit_world.copy_databases(tmp_path)
    audit_world.manifest.save(tmp_path / "deployment.json")
    monkeypatch.setattr(audit_cli, "connect_chain", lambda _url: audit_world.w3)
    args = ["audit", "db", "--manifest", str(tmp_path / "deployment.json")]
    for url in audit_world.urls(folder):
        args += ["--database-url", url]
    clean = CliRunner().invoke(app, args)
    assert clean.exit_code == 0, clean.output
    assert "CLEAN" in clean.output
    execute(folder / "iot.db", "UPDATE iot_warning SET level = 2")
    flagged = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "report.json")])
    assert flagged.exit_code == 1, flagged.output
    assert "database 2, chain 3" in flagged.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "findings" and report["findings"][0]["field"] == "level"
