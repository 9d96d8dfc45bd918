"""The synthetic world behind a simulated product: a year of months in seconds.

A simulated product records how its pack was generated (``generate_pack`` arguments) and the
world's seed; the world (``scoring.data.world.SyntheticWorld``) is rebuilt from them and kept
between cycles as a pickle under ``var_dir/monitoring``. One simulated cycle:

1. the world advances a month (drifting records, defaults, prepayments, shocks);
2. on a dev chain (embedded or Hardhat) the chain's clock moves to the month's date; the
   bureau publishes the fresh records as a new batch and commits its root on chain, on a
   clock set to the month's date (the bureau refuses records dated after its today);
3. the reminders due during the month are sent, then the servicer's performance report (status and balance of every changed loan) is recorded;
4. the monitoring cycle runs on that date.

Steps 1-3 are saved with the world only once all three are done; a crash in between repeats
them, and the bureau's batch is then simply superseded by the repeat's (latest record wins).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from api.errors import ConflictError, InvalidInputError
from api.monitoring import outbox
from api.monitoring.models import MonitoringCycle
from api.monitoring.performance import record_performance
from chain.backends import advance_time
from chain.errors import BackendCapabilityError
from scoring.data.synthetic import DriftShock, generate_pack
from scoring.data.world import SyntheticWorld

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService


class RecordPublisher(Protocol):
    def publish(self, records: pd.DataFrame, as_of: date) -> Any:
        """Publish and commit one batch of credit records dated ``as_of``."""
        ...


class InProcessBureauPublisher:
    """The bureau's own service (its database and its CREDIT_BUREAU key), with the month's date as its today."""

    def __init__(self, bureau: Any) -> None:
        self._bureau = bureau

    def publish(self, records: pd.DataFrame, as_of: date) -> Any:
        from api.bureau.service import BureauService

        dated = BureauService(self._bureau.engine, self._bureau.anchor, self._bureau.settings, today=lambda: as_of)
        return dated.ingest(records, as_of=as_of, source=f"simulated world {as_of}")


@dataclass(frozen=True)
class WorldSpec:
    """How the product's pack was generated, and the world's own settings."""

    n: int
    pack_seed: int
    financier: str
    pack_as_of: date
    world_seed: int = 1
    volatility: float = 0.05

    def to_dict(self) -> dict:
        return {**self.__dict__, "pack_as_of": self.pack_as_of.isoformat()}

    @classmethod
    def from_dict(cls, data: dict) -> WorldSpec:
        try:
            return cls(**{**data, "pack_as_of": date.fromisoformat(data["pack_as_of"])})
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"simulation settings are incomplete or wrong: {exc}") from None


def shock_of(data: dict | None) -> tuple[DriftShock, int | None] | None:
    if not data:
        return None
    try:
        shock = DriftShock(region=data.get("region"), industry=data.get("industry"),
                           stress_multiplier=float(data.get("stress_multiplier", 2.0)))
    except ValueError as exc:
        raise InvalidInputError(f"shock: {exc}") from None
    return shock, data.get("from_cycle")


class WorldStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, product_id: int) -> Path:
        return self.directory / f"world-product-{product_id}.pkl"

    def load(self, product_id: int) -> SyntheticWorld | None:
        path = self.path(product_id)
        return pickle.loads(path.read_bytes()) if path.exists() else None

    def save(self, product_id: int, world: SyntheticWorld) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path(product_id).with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(world))
        tmp.replace(self.path(product_id))  # atomic: a crash leaves the previous month's world


def build_world(spec: WorldSpec, loan_ids: set[str], start: date) -> SyntheticWorld:
    frame = generate_pack(spec.n, seed=spec.pack_seed, financier=spec.financier, as_of=spec.pack_as_of,
                          include_true_pd=True)
    frame = frame[frame["loan_id"].isin(loan_ids)].reset_index(drop=True)
    if len(frame) != len(loan_ids):
        raise ConflictError(f"the simulation settings regenerate {len(frame)} of the pool's {len(loan_ids)} loans")
    return SyntheticWorld(frame, seed=spec.world_seed, start=start, volatility=spec.volatility)


def bring_chain_to(w3: Any, day: date) -> None:
    """Move a dev chain's clock to noon UTC of ``day`` (the chain refuses records dated after its time)."""
    target = int(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc).timestamp())
    latest = w3.eth.get_block("latest")["timestamp"]
    if latest >= target:
        return
    try:
        advance_time(w3, target - latest)
    except BackendCapabilityError:
        raise ConflictError(f"a simulated month ({day}) lies ahead of the chain's clock, and this chain cannot travel "
                            "in time: simulate on the embedded chain or a Hardhat node") from None


def simulate_cycle(service: MonitoringService, product_id: int, publisher: RecordPublisher, store: WorldStore, *,
                   spec: WorldSpec | None = None, shock: dict | None = None) -> MonitoringCycle:
    product = service.enrol(product_id, simulation=spec.to_dict() if spec else None)
    if not product.simulation:
        raise ConflictError(f"product {product_id} is not simulated: give the generator settings when it is first run")
    world = store.load(product_id)
    if world is None:
        from sqlmodel import Session

        from api.monitoring.holdings import load_holdings

        with Session(service.o.engine) as session:
            loans = set(load_holdings(session, product_id)["loan_id"])
        world = build_world(WorldSpec.from_dict(product.simulation), loans, product.start_date)
    scheduled = shock_of(shock)
    if scheduled is not None:
        world.shock(scheduled[0], scheduled[1])
    target = product.cycles_done + 1
    if world.cycle < target:
        month = world.advance()
        bring_chain_to(service.o.platform.w3, month.as_of)
        publisher.publish(month.records, month.as_of)
        # The month has passed: the reminders due in it went out before its defaults were reported.
        outbox.dispatch(service, product_id, up_to=month.as_of - timedelta(days=1))
        changed = month.performance[month.performance["changed"] | (month.performance["status"] == "performing")]
        rows = [{"loan_id": r.loan_id, "status": r.status, "outstanding_balance_minor": int(r.outstanding_balance_minor)}
                for r in changed.itertuples(index=False)]
        if rows:
            record_performance(service.o.engine, service.product(product_id), rows, only_live=True)
        store.save(product_id, world)
    elif scheduled is not None:
        store.save(product_id, world)
    return service.run_cycle(product_id, as_of=world.as_of)
