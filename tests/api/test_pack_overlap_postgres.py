"""On PostgreSQL a step's store and chain transition run behind the next step's computing, and
the credit check starts while the submission is being stored. Neither may change what ends up
stored or on chain: a run stopped at any checkpoint of the overlapped steps still resumes to
exactly one record of everything, and the bureau is asked once per pack."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from api.orchestrator.pipeline.runner import CHECKPOINTS
from support import PostgresSchema, pack_csv, pack_frame
from test_pack_resume import EXACTLY_ONCE, chain_records

CSV = {"Content-Type": "text/csv"}
BEHIND = CHECKPOINTS[CHECKPOINTS.index("after_credit_stored"):CHECKPOINTS.index("before_commit")]


@pytest.fixture
def postgres_url():
    schema = PostgresSchema("overlap")
    yield schema.url
    schema.close()


@pytest.mark.parametrize("checkpoint", BEHIND)
def test_a_run_stopped_behind_resumes_with_no_duplicate_on_chain(make_api, world, postgres_url, checkpoint):
    seed = 7100 + BEHIND.index(checkpoint)
    frame = pack_frame(150, seed=seed, financier=f"behind{seed}")
    world.seed(frame, missing_rows=np.array([1]))
    first = make_api(database_url=postgres_url, pipeline_hold_at=checkpoint, pipeline_lease_seconds=0.5)
    pack_id = first.post("/v1/packs/csv?expected_bad_rate=0.05", key="behind", content=pack_csv(frame),
                         headers=CSV).json()["id"]
    assert first.app.state.jobs.wait_idle(60)
    stopped = first.get(f"/v1/packs/{pack_id}").json()
    assert stopped["status"] == "running" and stopped["progress_pct"] < 100, "it stopped mid-way"

    time.sleep(0.6)  # the dead run's lease expires
    view = make_api(database_url=postgres_url).wait(pack_id)
    assert view["status"] == "done", view["error"]
    assert chain_records(world, view["chain"]["pack_id"]) == EXACTLY_ONCE


def test_stores_run_behind_the_next_step_and_the_bureau_is_asked_once(make_api, world, postgres_url):
    frame = pack_frame(200, seed=7200, financier="overlap")
    world.seed(frame)
    api = make_api(database_url=postgres_url)
    credit = api.orchestrator.credit
    asked: list[int] = []
    real_check = credit.check_columns
    credit.check_columns = lambda borrowers, **kw: asked.append(len(borrowers)) or real_check(borrowers, **kw)
    threads: dict[str, str] = {}
    api.app.state.jobs.pipeline.checkpoint = lambda name: threads.setdefault(name, threading.current_thread().name)

    response = api.post("/v1/packs/csv?expected_bad_rate=0.05", key="overlap", content=pack_csv(frame), headers=CSV)
    view = api.wait(response.json()["id"])

    assert view["status"] == "done", view["error"]
    assert len(asked) == 1, "the pipeline took the credit check started during the submission"
    behind = {name for name, thread in threads.items() if "-store" in thread}
    assert set(BEHIND) <= behind, f"these ran in the pipeline's own thread: {sorted(set(BEHIND) - behind)}"
    assert not {"before_submit", "before_commit", "committed_sent"} & behind


def test_a_failure_behind_is_the_one_reported_even_if_the_next_step_fails_too(make_api, world, postgres_url):
    frame = pack_frame(120, seed=7300, financier="twofail")
    world.seed(frame)
    api = make_api(database_url=postgres_url)
    pipeline = api.app.state.jobs.pipeline

    def checkpoint(name: str) -> None:
        if name == "after_credit_stored":
            raise RuntimeError("the credit step's store failed")
    pipeline.checkpoint = checkpoint
    api.orchestrator.models.load = lambda *_a, **_k: (_ for _ in ()).throw(RuntimeError("scoring failed too"))

    response = api.post("/v1/packs/csv?expected_bad_rate=0.05", key="twofail", content=pack_csv(frame), headers=CSV)
    view = api.wait(response.json()["id"])
    assert view["status"] == "failed"
    assert "the credit step's store failed" in view["error"]["message"]
