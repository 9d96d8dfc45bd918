"""Crash test: the pipeline worker (a real process) is killed mid-pack, then restarted.

The worker runs on the Hardhat node and PostgreSQL. ``ABS_PIPELINE_HOLD_AT`` stops it at a
checkpoint; once it says so, and the chain shows the scores, the test SIGKILLs it (by PID). A new
worker takes the pack over and completes it: the chain then holds exactly one score batch and
one commit for the pack, and every state transition once.

Checkpoints: ``after_score_batch`` (the score batch is on chain, ``recordScores`` not yet sent)
and ``before_commit`` (everything but the commit is on chain).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api.orchestrator.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.keys import env_var_for  # noqa: E402
from support import PostgresSchema, api_key, loans, make_world, pack_frame, wait_for_pack  # noqa: E402

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup(hardhat_consortium, hardhat_node, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    orchestrator_db, bureau_db = PostgresSchema("orch"), PostgresSchema("bureau")
    settings = Settings(database_url=orchestrator_db.url, chain_url=hardhat_node.url, models_dir=folder / "models",
                        manifest_path=folder / "manifest.json", reports_dir=folder / "reports", pipeline_threads=0)
    world = make_world(hardhat_consortium, settings, folder / "models", bureau_db.url)
    hardhat_consortium.manifest.save(settings.manifest_path)
    env = {**os.environ, "DATABASE_URL": orchestrator_db.url, "ABS_CHAIN_URL": hardhat_node.url,
           "ABS_MANIFEST_PATH": str(settings.manifest_path), "ABS_MODELS_DIR": str(settings.models_dir),
           "ABS_BUREAU_URL": "inprocess", "ABS_BUREAU_DATABASE_URL": bureau_db.url,
           "ABS_PIPELINE_LEASE_SECONDS": "3", "PYTHONPATH": str(REPO)}
    for name in ("financier", "scorer", "bureau"):
        env[env_var_for(name)] = "0x" + bytes(hardhat_consortium.sender(name).account.key).hex()
    yield world, settings, env
    orchestrator_db.close()
    bureau_db.close()


def worker(env: dict, *extra: str, hold_at: str | None = None) -> subprocess.Popen:
    environment = {name: value for name, value in env.items() if name != "ABS_PIPELINE_HOLD_AT"}
    if hold_at:
        environment["ABS_PIPELINE_HOLD_AT"] = hold_at
    return subprocess.Popen([sys.executable, "-m", "api.orchestrator.worker", "--once", *extra], cwd=REPO,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"worker never said {needle!r}:\n{''.join(lines)}")


def on_chain(world, chain_pack_id: int) -> dict[str, int]:
    asset_pack, scores = world.consortium.contract("AssetPack"), world.consortium.contract("ScoreRegistry")
    by_pack = {"packId": chain_pack_id}
    return {
        "state": asset_pack.functions.pack(chain_pack_id).call()[6],
        "score_batches": len(scores.events.ScoreBatchCommitted.get_logs(from_block=0, argument_filters=by_pack)),
        "committed": len(asset_pack.events.PackCommitted.get_logs(from_block=0, argument_filters=by_pack)),
        "transitions": len(asset_pack.events.PackStateChanged.get_logs(from_block=0, argument_filters=by_pack)),
    }


@pytest.mark.parametrize("checkpoint, state_when_killed", [("after_score_batch", 2), ("before_commit", 5)])
def test_a_killed_worker_is_restarted_and_the_pack_completes_once(setup, tmp_path, checkpoint, state_when_killed):
    world, settings, env = setup
    seed = 8100 + state_when_killed
    frame = pack_frame(2_000, seed=seed, financier=f"kill{seed}")
    world.seed(frame, missing_rows=np.array([1, 2, 3]))
    app = create_app(settings, orchestrator=world.orchestrator(settings))  # the API only stores: no pipeline threads
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {api_key(app.state.orchestrator, world.consortium, 'financier')}"}
        response = client.post("/v1/packs/csv?expected_bad_rate=0.05", content=loans(frame).to_csv(index=False),
                               headers={**headers, "Idempotency-Key": f"kill-{seed}", "Content-Type": "text/csv"})
        assert response.status_code == 202, response.text
        pack_id = response.json()["id"]

        first = worker(env, "--pack", str(pack_id), hold_at=checkpoint)
        try:
            wait_for_line(first, "holding here", timeout=180)
            view = client.get(f"/v1/packs/{pack_id}", headers=headers).json()
            chain_id = view["chain"]["pack_id"]
            killed_at = on_chain(world, chain_id)
            assert killed_at["score_batches"] == 1 and killed_at["committed"] == 0
            assert killed_at["state"] == state_when_killed
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            first.stdout.close()
        assert first.returncode == -signal.SIGKILL
        assert client.get(f"/v1/packs/{pack_id}", headers=headers).json()["status"] == "running", "left mid-way"

        time.sleep(3.2)  # the dead worker's lease expires (ABS_PIPELINE_LEASE_SECONDS=3)
        second = worker(env)
        output, _ = second.communicate(timeout=300)
        assert second.returncode == 0, output
        view = wait_for_pack(client, pack_id, headers, timeout=10)
        assert view["status"] == "done", (view["error"], output)
        assert on_chain(world, chain_id) == {"state": 6, "score_batches": 1, "committed": 1, "transitions": 6}
        assert view["chain"]["score_batch_id"] == world.consortium.contract("ScoreRegistry").functions.batchOf(
            chain_id, 0).call()
