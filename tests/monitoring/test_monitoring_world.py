"""A stable world trips nothing over 12 cycles; a regional shock trips the levels 1-3 rule in the
cycle it starts, sends weekly reminders to exactly the affected borrowers, instructs the financier
to replace exactly the affected assets, and escalates when the instruction's deadline passes."""

from __future__ import annotations

from datetime import date

from monitoring_support import issue_product, level_share, make_app, simulate
from sqlmodel import Session, select

from api.monitoring.chain_port import rule_key
from api.monitoring.models import CycleScore, Holding, Notice
from api.monitoring.tree import subject_tree
from chain.leaves import asset_id

SHOCK = {"region": "east", "stress_multiplier": 8.0, "from_cycle": 3}  # a severe regional downturn


def test_stable_world_trips_nothing_over_twelve_cycles(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=2000, seed=45)
        cycles = [simulate(api, issued) for _ in range(12)]
        status = api.get(f"/v1/monitoring/products/{issued.product_id}", as_="investor").json()
        measures = api.get(f"/v1/monitoring/products/{issued.product_id}/measures", as_="exchange").json()
    assert [c["cycle"] for c in cycles] == list(range(1, 13))
    assert [c["triggers"] for c in cycles] == [[]] * 12
    assert all(c["psi"] < 0.1 and c["psi_band"] == "stable" for c in cycles)
    assert all(c["bad_rate_ppm"] <= c["expected_bad_rate_ppm"] and level_share(c) <= 0.10 for c in cycles)
    assert cycles[-1]["realised_bad_rate_ppm"] > 0  # the world does default, just not beyond what was priced
    assert status["status"] == "normal" and status["cycles_done"] == 12
    assert measures == {"triggers": [], "measures": [], "replacements": []}
    monitor = api.orchestrator.platform.contract("PackMonitor")
    assert monitor.functions.cycleCount(issued.chain_pack_id).call() == 12
    report, _ = monitor.functions.cycle(issued.chain_pack_id, 12).call()
    assert list(report[1]) == cycles[-1]["level_counts"] and report[3] == cycles[-1]["bad_rate_ppm"]
    assert report[7] == cycles[-1]["live_count"]


def test_shock_trips_the_levels_rule_in_its_cycle_and_takes_both_measures(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=2000, seed=44)
        product = issued.product_id
        cycles = [simulate(api, issued, shock=SHOCK if k == 0 else None) for k in range(3)]
        measures = api.get(f"/v1/monitoring/products/{product}/measures", as_="investor").json()
        fourth = simulate(api, issued)
        after = api.get(f"/v1/monitoring/products/{product}/measures", as_="exchange").json()
        status = api.get(f"/v1/monitoring/products/{product}", as_="investor").json()
    assert [c["triggers"] for c in cycles[:2]] == [[], []]
    assert "risky_levels" in [t["rule_id"] for t in cycles[2]["triggers"]]
    assert level_share(cycles[1]) <= 0.10 < level_share(cycles[2])

    monitor = api.orchestrator.platform.contract("PackMonitor")
    pack = issued.chain_pack_id
    assert monitor.functions.triggerFired(pack, 3, rule_key("risky_levels")).call()
    assert not monitor.functions.triggerFired(pack, 2, rule_key("risky_levels")).call()

    engine = api.orchestrator.engine
    with Session(engine) as session:
        risky = {s.loan_id for s in session.exec(select(CycleScore).where(
            CycleScore.product_id == product, CycleScore.cycle == 3, CycleScore.level <= 3)).all()}
        borrower = {h.loan_id: h.borrower_id for h in session.exec(select(Holding).where(
            Holding.product_id == product)).all()}
    assert len(risky) > 30  # a downturn, not a few stragglers (the count depends on the start date)
    by_kind = {(m["kind"], m["rule_id"]): m for m in measures["measures"]}
    reminders = by_kind[("weekly_reminders", "risky_levels")]
    instruction = by_kind[("replacement_instruction", "risky_levels")]
    assert set(reminders["loan_ids"]) == risky and set(instruction["loan_ids"]) == risky

    # On chain: the instruction with its subjects' root, its deadline and its status.
    onchain = monitor.functions.measure(instruction["chain_measure_id"]).call()
    assert (onchain[2], onchain[5], onchain[6]) == (1, bytes.fromhex(instruction["subject_root"][2:]), len(risky))
    tree = subject_tree([asset_id(loan) for loan in instruction["loan_ids"]])
    inside = instruction["loan_ids"][0]
    outsider = next(loan for loan in borrower if loan not in risky)
    proof = [bytes.fromhex(p[2:]) for p in tree.get_proof((asset_id(inside),))]
    assert monitor.functions.verifyMeasureSubject(instruction["chain_measure_id"], asset_id(inside), proof).call()
    assert not monitor.functions.verifyMeasureSubject(instruction["chain_measure_id"], asset_id(outsider), proof).call()

    # Weekly reminders went to exactly the affected borrowers; everyone else stayed monthly.
    with Session(engine) as session:
        reminders_sent = session.exec(select(Notice).where(Notice.product_id == product,
                                                           Notice.kind == "repayment_reminder")).all()
        to_financier = session.exec(select(Notice).where(Notice.kind == "replacement_instruction",
                                                         Notice.subject == f"measure-{instruction['id']}")).all()
        escalations = session.exec(select(Notice).where(Notice.kind == "escalation",
                                                        Notice.subject == f"measure-{instruction['id']}")).all()
    third, fourth_day = date.fromisoformat(cycles[2]["as_of"]), date.fromisoformat(fourth["as_of"])
    between = [n for n in reminders_sent if third < n.due_on < fourth_day]  # the weeks between cycles 3 and 4
    assert {n.recipient for n in between} == {f"borrower:{borrower[loan]}" for loan in risky}
    assert all(n.body["cadence"] == "weekly" for n in between)
    assert len(between) >= 3 * len(risky)  # weekly, not once a month
    assert len(to_financier) == 1 and set(to_financier[0].body["loan_ids"]) == risky
    assert to_financier[0].status == "sent"
    assert {n.status for n in between} == {"sent"}

    # A month later the instruction's 14-day deadline has passed with nothing replaced: escalated.
    escalated = next(m for m in after["measures"] if m["id"] == instruction["id"])
    assert escalated["status"] == "escalated" and fourth["cycle"] == 4
    assert monitor.functions.measure(instruction["chain_measure_id"]).call()[3] == 3  # MeasureStatus.Escalated
    assert {n.recipient.split(":")[0] for n in escalations} == {"exchange", "investors", "financier"}
    assert status["status"] == "escalated"
