#!/usr/bin/env python
"""Write the demo's synthetic inputs (deterministic seeds) for scripts/run:

- var/demo/history.csv: 20,000 historical loans with outcomes, to train the scorecard;
- var/demo/pack.csv: a 5,000-loan pack of the demo financier, as the financier submits it;
- var/demo/credit.csv: the bureau's credit records of the pack's borrowers, dated today;
- var/demo/world.json: how the pack was generated, for the monitoring simulation (first run's date).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.orchestrator.submission.fields import ASSET_FIELDS  # noqa: E402
from scoring.data.schema import CREDIT_FEATURES, CREDIT_RECORD, TARGET  # noqa: E402
from scoring.data.synthetic import generate_history, generate_pack  # noqa: E402


def main(out: Path = ROOT / "var" / "demo", size: int = 5_000) -> None:
    out.mkdir(parents=True, exist_ok=True)
    generate_history(20_000, seed=5)[[*CREDIT_FEATURES, TARGET]].to_csv(out / "history.csv", index=False)
    frame = generate_pack(size, seed=7, financier="financier", as_of=dt.date.today())
    loans = frame[list(ASSET_FIELDS)].copy()
    for name in ("origination_date", "maturity_date"):
        loans[name] = loans[name].dt.strftime("%Y-%m-%d")
    loans.to_csv(out / "pack.csv", index=False)
    records = frame[list(CREDIT_RECORD.names)].copy()
    records["record_date"] = records["record_date"].dt.strftime("%Y-%m-%d")
    records.to_csv(out / "credit.csv", index=False)
    world = out / "world.json"  # how the pack was generated: the monitoring simulation regenerates it
    if not world.exists():
        world.write_text(json.dumps({"n": size, "pack_seed": 7, "financier": "financier",
                                     "pack_as_of": dt.date.today().isoformat(), "world_seed": 7}))
    print(f"demo data in {out}: history.csv, pack.csv ({size} loans), credit.csv")


if __name__ == "__main__":
    main()
