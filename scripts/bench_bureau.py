#!/usr/bin/env python
"""Benchmark of the credit bureau and the platform's credit check on the embedded chain.

Measured in one run, for N synthetic borrowers (default 1,000,000) in one batch:
ingest (validate + canonical JSON, salts + hashes + tree, bulk insert, commitBatch), bulk
look-up, and check_credit of every borrower in process and over HTTP (uvicorn on a free
127.0.0.1 port, in a thread of this process, stopped at the end). Prints JSON lines
{"bench": "bureau", "metric", "value", "unit"}.

Usage: .venv/bin/python scripts/bench_bureau.py [--records N] [--database URL] [--no-http]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "chain"))

from api.bureau.anchor import ChainCreditAnchor  # noqa: E402
from api.bureau.app import create_app  # noqa: E402
from api.bureau.bootstrap import build_service  # noqa: E402
from api.bureau.intake import FIELDS  # noqa: E402
from api.bureau.keys import issue_key  # noqa: E402
from api.bureau.settings import BureauSettings  # noqa: E402
from api.services.credit_check import HttpBureauClient, InProcessBureauClient, check_credit  # noqa: E402
from chain.backends import connect  # noqa: E402
from chain.node import free_port  # noqa: E402
from scoring.data.synthetic import generate_pack  # noqa: E402
from testbed import build_consortium  # noqa: E402  # the test consortium: deterministic test keys

TODAY = dt.datetime.now(dt.timezone.utc).date()


def emit(metric: str, value: float | int | str, unit: str) -> None:
    print(json.dumps({"bench": "bureau", "metric": metric, "value": value, "unit": unit}), flush=True)


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    emit(label, round(time.perf_counter() - started, 2), "s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", help="bureau database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--no-http", action="store_true", help="skip the check over HTTP")
    args = parser.parse_args()
    n, label = args.records, "1m" if args.records == 1_000_000 else str(args.records)

    with tempfile.TemporaryDirectory() as tmp:
        w3 = connect("embedded")
        consortium = build_consortium(w3)
        registry = consortium.contract("CreditRegistry")
        settings = BureauSettings(database_url=args.database or f"sqlite:///{tmp}/bureau.db")
        service = build_service(settings, anchor=ChainCreditAnchor(registry, consortium.sender("bureau")))
        frame = generate_pack(n, seed=1, as_of=TODAY)[list(FIELDS)]
        borrowers = list(frame["borrower_id"])

        stages: dict[str, float] = {}
        last = [time.perf_counter(), None]

        def stage(name: str) -> None:
            now = time.perf_counter()
            if last[1] is not None:
                stages[last[1]] = now - last[0]
            last[:] = [now, name]

        started = time.perf_counter()
        info = service.ingest(frame, source="bench", progress=stage)
        stages[last[1]] = time.perf_counter() - last[0]
        emit(f"ingest_commit_seconds_{label}", round(time.perf_counter() - started, 2), "s")
        for name, seconds in stages.items():
            emit(f"ingest_{name.replace(' ', '_')}_seconds_{label}", round(seconds, 2), "s")
        emit("batches_committed", registry.functions.batchCount().call(), "transactions")

        timed(f"lookup_seconds_{label}", lambda: InProcessBureauClient(service).lookup(borrowers, proofs=False))
        verdicts = timed(f"check_credit_in_process_seconds_{label}",
                         lambda: check_credit(InProcessBureauClient(service), registry, borrowers, today=TODAY,
                                              max_age_days=90))
        emit("eligible", sum(v.eligible for v in verdicts), "assets")
        sample = borrowers[:: max(1, n // 1000)][:1000]
        timed("check_credit_in_process_seconds_1000_of_batch",
              lambda: check_credit(InProcessBureauClient(service), registry, sample, today=TODAY, max_age_days=90))

        if not args.no_http:
            import uvicorn

            port = free_port()
            server = uvicorn.Server(uvicorn.Config(create_app(settings, service=service), host="127.0.0.1",
                                                   port=port, log_level="warning"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            try:
                key = issue_key(service.engine, "bench")
                with HttpBureauClient(f"http://127.0.0.1:{port}", key) as client:
                    over_http = timed(f"check_credit_http_seconds_{label}",
                                      lambda: check_credit(client, registry, borrowers, today=TODAY, max_age_days=90))
                emit("http_matches_in_process", over_http == verdicts, "bool")
            finally:
                server.should_exit = True
                thread.join(timeout=30)
        emit("batch_root", info.root, "hex")


if __name__ == "__main__":
    main()
