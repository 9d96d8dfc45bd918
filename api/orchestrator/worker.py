"""The pipeline as its own process: ``python -m api.orchestrator.worker [--pack ID] [--once]``.

Runs every runnable pack (queued, or running under an expired lease) to its end, then polls for
more (``--once``: exits when none is left). Settings come from the environment like the API's;
run the API with ``ABS_PIPELINE_THREADS=0`` when workers run the pipelines instead.
``--steal`` takes a pack over even while another worker's lease is valid (use it only when that
worker is known dead, e.g. right after killing it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from api.orchestrator.pipeline import lease
from api.orchestrator.pipeline.runner import Pipeline, PipelineHeld
from api.orchestrator.wiring import bootstrap
from api.settings import Settings

log = logging.getLogger("api.orchestrator.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=int, help="run only this pack")
    parser.add_argument("--once", action="store_true", help="exit when no runnable pack is left")
    parser.add_argument("--steal", action="store_true", help="take the pack over despite a valid lease")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks for new packs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    orchestrator = bootstrap(Settings())
    pipeline = Pipeline(orchestrator)
    log.info("worker %s started", pipeline.worker)
    while True:
        packs = [args.pack] if args.pack else lease.runnable_packs(orchestrator.engine)
        for pack_id in packs:
            try:
                pack = pipeline.run(pack_id, steal=args.steal)
            except PipelineHeld as held:
                log.warning("pack %s: %s; holding here until killed", pack_id, held)
                while True:  # the crash tests kill the process now (SIGKILL): nothing after this runs
                    time.sleep(3600)
            if pack is not None:
                log.info("pack %s: %s at step %s", pack_id, pack.status, pack.step)
        if args.once or args.pack:
            return 0
        time.sleep(args.poll)


if __name__ == "__main__":
    sys.exit(main())
