"""Background pipeline jobs inside the API process: a small thread pool fed by submissions.

On start it picks up every pack left queued, or running under an expired lease (the process
that ran it died), so a restarted API resumes where the last one stopped.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from api.orchestrator.pipeline import lease
from api.orchestrator.pipeline.runner import Pipeline, PipelineHeld
from api.orchestrator.wiring import Orchestrator

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, orchestrator: Orchestrator, threads: int | None = None) -> None:
        self.o = orchestrator
        threads = orchestrator.settings.pipeline_threads if threads is None else threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="pipeline") if threads else None
        self._pipeline: Pipeline | None = None
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        with self._lock:
            if self._pipeline is None:
                self._pipeline = Pipeline(self.o)
            return self._pipeline

    @property
    def enabled(self) -> bool:
        return self._pool is not None

    def enqueue(self, pack_id: int) -> None:
        if self._pool is None:
            return  # an external worker (api.orchestrator.worker) runs the pipelines
        future = self._pool.submit(self._run, pack_id)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, pack_id: int) -> None:
        try:
            self.pipeline.run(pack_id)
        except PipelineHeld as held:
            log.warning("pack %s: %s", pack_id, held)
        except Exception:  # the pipeline records its failures; this is a bug in recording them
            log.exception("pipeline job of pack %s crashed", pack_id)

    def resume_unfinished(self) -> list[int]:
        if self._pool is None:
            return []
        pending = lease.runnable_packs(self.o.engine)
        for pack_id in pending:
            self.enqueue(pack_id)
        return pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job is running (tests); True if idle within ``timeout``."""
        with self._lock:
            futures = set(self._futures)
        done, not_done = wait(futures, timeout=timeout)
        return not not_done

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
