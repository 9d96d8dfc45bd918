"""A pipeline stopped at any point resumes to Committed without a duplicate on-chain record.

Each checkpoint sits between a step's stored result and its chain transition, or right after a
transition; the run stops there as if the process died (its lease is left to expire), then a
new app on the same database picks the pack up. The chain must then hold exactly one
submission, one score batch, one transition per state and one commit for the pack.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from api.orchestrator.pipeline.runner import CHECKPOINTS
from support import pack_csv, pack_frame

CSV = {"Content-Type": "text/csv"}


def chain_records(world, chain_pack_id: int) -> dict[str, int]:
    asset_pack = world.consortium.contract("AssetPack")
    scores = world.consortium.contract("ScoreRegistry")
    by_pack = {"packId": chain_pack_id}
    return {
        "submitted": len(asset_pack.events.PackSubmitted.get_logs(from_block=0, argument_filters=by_pack)),
        "transitions": len(asset_pack.events.PackStateChanged.get_logs(from_block=0, argument_filters=by_pack)),
        "score_batches": len(scores.events.ScoreBatchCommitted.get_logs(from_block=0, argument_filters=by_pack)),
        "committed": len(asset_pack.events.PackCommitted.get_logs(from_block=0, argument_filters=by_pack)),
    }


EXACTLY_ONCE = {"submitted": 1, "transitions": 6, "score_batches": 1, "committed": 1}


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_a_pipeline_stopped_at_any_checkpoint_completes_with_no_duplicate_on_chain(make_api, world, tmp_path,
                                                                                   checkpoint):
    seed = 5000 + CHECKPOINTS.index(checkpoint)
    frame = pack_frame(120, seed=seed, financier=f"crash{seed}")
    world.seed(frame, missing_rows=np.array([0]))
    first = make_api(pipeline_hold_at=checkpoint, pipeline_lease_seconds=0.5)
    response = first.post("/v1/packs/csv?expected_bad_rate=0.05", key="crash", content=pack_csv(frame), headers=CSV)
    pack_id = response.json()["id"]
    assert first.app.state.jobs.wait_idle(60)
    stopped = first.get(f"/v1/packs/{pack_id}").json()
    assert stopped["status"] == "running" and stopped["progress_pct"] < 100, "it stopped mid-way"

    time.sleep(0.6)  # the dead run's lease expires
    second = make_api()  # same database: its startup resumes the pack
    view = second.wait(pack_id)
    assert view["status"] == "done", view["error"]
    assert view["chain"]["state"] == "Committed"
    assert chain_records(world, view["chain"]["pack_id"]) == EXACTLY_ONCE
    txs = second.get(f"/v1/packs/{pack_id}/report").json()["transactions"]
    assert len({tx["step"] for tx in txs}) == len(txs) == 7, "each transaction recorded once"
