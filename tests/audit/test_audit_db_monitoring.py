"""``audit db`` on the monitoring tables: a monitored product after a shock (triggers, both measures,
an accepted replacement) gives no finding; one changed field of a cycle's summary, a measure's
status, a trigger's evidence or a replacement's new root is flagged as exactly that row; a changed
cycle score or holding, which the chain holds under roots only, at the cycle's or the pool's rows."""

from __future__ import annotations

import json
import sqlite3

import pytest
from audit_support import execute
from monitoring_world import MonitoredWorld, build_monitored_world

from api.audit.db_audit import audit_databases


@pytest.fixture(scope="module")
def monitored(tmp_path_factory) -> MonitoredWorld:
    return build_monitored_world(tmp_path_factory.mktemp("monitored-world"))


def first(database, sql: str, *params):
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchone()


def tamper_cases(world: MonitoredWorld, database) -> dict[str, tuple[str, tuple, str, str]]:
    """name -> (UPDATE, params, flagged row, flagged field)."""
    product = world.product_id
    summary, = first(database, "SELECT summary FROM monitoring_cycle WHERE product_id = ? AND cycle = 2", product)
    counts = json.loads(summary)
    counts["level_counts"][4] += 1
    counts["level_counts"][5] -= 1
    rates = {**json.loads(summary), "bad_rate_ppm": json.loads(summary)["bad_rate_ppm"] + 1}
    measure_id, = first(database, "SELECT id FROM measure WHERE product_id = ? AND kind = 'weekly_reminders' "
                                  "ORDER BY id LIMIT 1", product)
    trigger_id, evidence = first(database, "SELECT id, evidence FROM monitoring_trigger WHERE product_id = ? "
                                           "ORDER BY id LIMIT 1", product)
    evidence = json.loads(evidence)
    key = next(k for k, v in evidence.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    evidence[key] += 1
    replacement_id, = first(database, "SELECT id FROM replacement WHERE product_id = ? AND status = 'accepted'",
                            product)
    loan, = first(database, "SELECT loan_id FROM cycle_score WHERE product_id = ? AND cycle = 2 ORDER BY loan_id "
                            "LIMIT 1", product)
    held, = first(database, "SELECT loan_id FROM holding WHERE product_id = ? AND status = 'live' ORDER BY loan_id "
                            "LIMIT 1", product)
    cycle = f"monitoring_cycle[product_id={product},cycle=2]"
    return {
        "level counts": ("UPDATE monitoring_cycle SET summary = ? WHERE product_id = ? AND cycle = 2",
                         (json.dumps(counts), product), cycle, "summary.level_counts"),
        "bad rate": ("UPDATE monitoring_cycle SET summary = ? WHERE product_id = ? AND cycle = 2",
                     (json.dumps(rates), product), cycle, "summary.bad_rate_ppm"),
        "measure status": ("UPDATE measure SET status = 'cancelled' WHERE id = ?", (measure_id,),
                           f"measure[id={measure_id}]", "status"),
        "trigger evidence": ("UPDATE monitoring_trigger SET evidence = ? WHERE id = ?",
                             (json.dumps(evidence), trigger_id), f"monitoring_trigger[id={trigger_id}]", "evidence"),
        "replacement root": ("UPDATE replacement SET new_root = ? WHERE id = ?", ("0x" + "ab" * 32, replacement_id),
                             f"replacement[id={replacement_id}]", "new_root"),
        # Over 256 assets the chain holds these as roots only: the cycle's and the pool's rows are named.
        "cycle score": ("UPDATE cycle_score SET score = score + 1 WHERE product_id = ? AND cycle = 2 AND loan_id = ?",
                        (product, loan), f"cycle_score[product_id={product},cycle=2] rows", "score root"),
        "holding": ("UPDATE holding SET entry_score = entry_score + 1 WHERE product_id = ? AND loan_id = ?",
                    (product, held), f"holding[product_id={product}] rows", "pool root"),
    }


def test_a_monitored_product_gives_no_finding(monitored: MonitoredWorld, tmp_path):
    urls = monitored.copy_database(tmp_path)
    report = audit_databases(monitored.w3, monitored.manifest, urls)
    assert report.findings == [], report.text()
    for table in ("monitoring_trigger", "measure", "replacement"):
        assert first(tmp_path / "orchestrator.db", f"SELECT COUNT(*) FROM {table}")[0] > 0, table


@pytest.mark.parametrize("case", ["level counts", "bad rate", "measure status", "trigger evidence",
                                  "replacement root", "cycle score", "holding"])
def test_one_changed_monitoring_field_flags_exactly_that_row(monitored: MonitoredWorld, tmp_path, case: str):
    urls = monitored.copy_database(tmp_path)
    sql, params, subject, field = tamper_cases(monitored, tmp_path / "orchestrator.db")[case]
    execute(tmp_path / "orchestrator.db", sql, *params)
    report = audit_databases(monitored.w3, monitored.manifest, urls)
    assert [(f.subject, f.field) for f in report.findings] == [(subject, field)], report.text()
