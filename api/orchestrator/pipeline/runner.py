"""The pack pipeline: Submitted -> CreditChecked -> Scored -> Graded -> Filtered -> Committed.

Every step first stores its result (one database transaction, with ``pack.step`` moved on),
then makes its chain transition through ``PackChain`` (which never sends a transition the
chain already has). A run therefore resumes from any crash: steps whose result is stored are
not recomputed, transitions the chain already has are not resent. Named checkpoints between
the two halves let tests (and ``ABS_PIPELINE_HOLD_AT``) stop the run at any point.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from api.errors import PlatformError
from api.orchestrator.models import Pack
from api.orchestrator.pipeline import lease
from api.orchestrator.pipeline.chain_sync import PackChain
from api.orchestrator.pipeline.stages import Stages
from api.orchestrator.pipeline.steps import STEPS, PackColumns
from api.orchestrator.pipeline.store import load_columns, touch
from api.orchestrator.wiring import Orchestrator
from scoring.errors import UnreachableTargetError

log = logging.getLogger(__name__)

# Where a run can be stopped (tests, ABS_PIPELINE_HOLD_AT), in pipeline order. "*_sent": right
# after a transaction was sent, before the database records it (the hardest place to die).
CHECKPOINTS = (
    "before_submit", "submitted_sent", "after_submit",
    "after_credit_stored", "credit_checked_sent", "after_credit_chain",
    "after_scores_stored", "score_batch_sent", "after_score_batch", "scored_sent", "after_scores_chain",
    "after_grade_stored", "graded_sent", "after_grade_chain",
    "after_filter_stored", "filtered_sent", "after_filter_chain",
    "before_commit", "committed_sent",
)


class PipelineHeld(Exception):
    """Raised at a checkpoint by a hold hook: the run stops there as if the process had died."""


def hold_at(name: str | None) -> Callable[[str], None]:
    def checkpoint(reached: str) -> None:
        if reached == name:
            raise PipelineHeld(f"pipeline held at checkpoint {name!r}")
    return checkpoint


class Pipeline:
    """Runs packs' pipelines for one worker (a thread of the API process, or ``worker.py``)."""

    def __init__(self, orchestrator: Orchestrator, *, worker: str | None = None,
                 checkpoint: Callable[[str], None] | None = None) -> None:
        self.o = orchestrator
        self.worker = worker or f"w-{uuid.uuid4().hex[:12]}"
        self.checkpoint = checkpoint or hold_at(orchestrator.settings.pipeline_hold_at)
        platform = orchestrator.platform
        self.chain = PackChain(platform.contract("AssetPack"), platform.contract("ScoreRegistry"),
                               platform.manifest.deploy_block)

    # ------------------------------------------------------------ running

    def run(self, pack_id: int, *, steal: bool = False) -> Pack | None:
        """Run (or resume) ``pack_id`` to Committed; None if another worker holds it."""
        settings = self.o.settings
        if not lease.claim(self.o.engine, pack_id, self.worker, settings.pipeline_lease_seconds, steal=steal):
            return None
        held = False
        stages = Stages(self, pack_id, self.o.columns.take(pack_id))
        try:
            try:
                for step in STEPS:
                    started = time.perf_counter()
                    getattr(stages, step)()
                    stages.timed(step, time.perf_counter() - started)
                stages.settle()
            except BaseException as exc:
                earlier = stages.failure_behind()  # a failure of the step storing behind came first
                if earlier is not None and earlier is not exc:
                    raise earlier from exc
                raise
            return self._finish(pack_id, status="done")
        except PipelineHeld:
            held = True  # as if the process had died here: the lease stays until it expires
            raise
        except UnreachableTargetError as exc:
            return self._finish(pack_id, status="failed", error=unreachable_error(exc))
        except Exception as exc:  # every failure is recorded on the pack, for the owner to see and resume
            log.exception("pipeline of pack %s failed", pack_id)
            return self._finish(pack_id, status="failed", error=failure_error(exc))
        finally:
            stages.close()
            if not held:
                lease.release(self.o.engine, pack_id, self.worker)

    def _finish(self, pack_id: int, *, status: str, error: dict | None = None) -> Pack:
        with Session(self.o.engine, expire_on_commit=False) as session:
            pack = session.get(Pack, pack_id)
            assert pack is not None
            pack.status = status
            pack.error = error
            session.add(touch(pack))
            session.commit()
            return pack

    # ------------------------------------------------------------ used by the stages

    def save(self, pack_id: int, change: Callable[[Session, Pack], Any]) -> Pack:
        """Apply ``change`` to the pack row (and whatever rows it writes) in one transaction."""
        with Session(self.o.engine, expire_on_commit=False) as session:
            pack = session.get(Pack, pack_id)
            if pack is None:
                raise PlatformError(f"pack {pack_id} vanished from the database")
            change(session, pack)
            lease.renew(session, pack, self.worker, self.o.settings.pipeline_lease_seconds)
            session.add(touch(pack))
            session.commit()
            return pack

    def columns(self, pack_id: int) -> PackColumns:
        with Session(self.o.engine) as session:
            return load_columns(session, pack_id)


def unreachable_error(exc: UnreachableTargetError) -> dict:
    return {
        "error": "unreachable_target",
        "message": str(exc),
        "expected_bad_rate_ppm": exc.expected_bad_rate_ppm,
        "best_bad_rate_ppm": exc.best_bad_rate_ppm,
        "best_removed_count": exc.best_removed_count,
        "best_share_removed_ppm": exc.best_share_removed_ppm,
        "retry": "POST /v1/packs/{id}/filter with the other mode, or withdraw the pack and resubmit "
                 "with a reachable expected bad rate",
    }


def failure_error(exc: BaseException) -> dict:
    code = getattr(exc, "code", None) or type(exc).__name__
    body = {"error": code, "message": str(exc) or type(exc).__name__, "retry": "POST /v1/packs/{id}/resume"}
    details = getattr(exc, "details", None)
    if details is not None:
        body["details"] = details
    return body
