"""The IoT service, wired: the one place that builds its adapters (database, chain, MQTT, notifier).

``IotService(settings, platform)`` migrates its database and builds every part; ``start`` loads
the caches, settles whatever a crash left half-done (windows cut but not anchored, warnings and
freezes not yet on chain) and starts the worker threads; ``stop`` ends them, and when graceful
anchors every pending event first. Tests pass an embedded-chain ``Platform``, their own
settings and a notifier that records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from api.db.engine import make_engine
from api.db.migrate import upgrade
from api.iot.anchoring import Anchorer
from api.iot.chain_port import CollateralChain, Web3CollateralChain
from api.iot.disposal import Disposal
from api.iot.evaluation import Evaluator
from api.iot.ingest import Ingestor
from api.iot.models import ReviewCase
from api.iot.mqtt import MqttIngest
from api.iot.notifier import LoggingNotifier, Notifier, Outbox
from api.iot.records import Clock
from api.iot.registry import Registry
from api.iot.reviews import Reviews
from api.iot.settings import IotSettings, get_iot_settings
from api.iot.telemetry_cache import TelemetryCache
from api.platform import Platform
from chain.roles import Role
from scoring.iot.disposal import DisposalPolicy

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("api.iot")


class IotService:
    def __init__(self, settings: IotSettings | None = None, platform: Platform | None = None, *,
                 chain: CollateralChain | None = None, notifier: Notifier | None = None,
                 clock: Clock = time.time) -> None:
        self.settings = settings or get_iot_settings()
        self.platform = platform or Platform()
        self.clock = clock
        upgrade(MIGRATIONS, self.settings.database_url)
        self.engine = make_engine(self.settings.database_url)
        s = self.settings
        self.chain = chain or Web3CollateralChain(self.platform, risk_member=s.risk_member,
                                                  reviewer_member=s.reviewer_member)
        self.registry = Registry(self.engine, self.chain, clock=clock, overrides=s.threshold_overrides,
                                 default_member=self.member_for)
        self.cache = TelemetryCache(self.engine, lambda code: self.registry.rules[code].thresholds)
        self.disposal = Disposal(self.engine, self.chain, self.registry, clock=clock,
                                 policy=DisposalPolicy(s.yellow_freeze_bps))
        self.evaluator = Evaluator(self.registry, self.cache, self.disposal, clock=clock,
                                   interval_s=s.evaluation_interval_s, urgent_gap_s=s.urgent_gap_s,
                                   sweep_interval_s=s.sweep_interval_s)
        self.ingestor = Ingestor(self.engine, self.registry, clock=clock, max_future_skew_s=s.max_future_skew_s,
                                 max_past_skew_s=s.max_past_skew_s, on_accepted=self.evaluator.touch)
        self.anchorer = Anchorer(self.engine, self.chain, clock=clock, window_seconds=s.window_seconds,
                                 window_max_events=s.window_max_events)
        self.reviews = Reviews(self.engine, self.chain, self.disposal, clock=clock)
        self.notifier = notifier or LoggingNotifier()
        self.outbox = Outbox(self.engine, self.notifier, clock=clock)
        self.mqtt: MqttIngest | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = False

    # ------------------------------------------------------------ life cycle

    def start(self) -> None:
        s = self.settings
        self.registry.load()
        self.disposal.load()
        self.anchorer.recover()
        self.disposal.recover()
        self._stopping.clear()
        if s.start_workers:
            self._spawn("iot-anchor", self._anchor_loop)
            self._spawn("iot-evaluate", self._evaluate_loop)
        if s.mqtt_enabled:
            gateways = s.mqtt_gateways or self.gateway_members()
            self.mqtt = MqttIngest(self.ingestor, host=s.mqtt_host, port=s.mqtt_port, client_id=s.mqtt_client_id,
                                   prefix=s.mqtt_topic_prefix, gateways=gateways,
                                   session_expiry_s=s.mqtt_session_expiry_s, receive_maximum=s.mqtt_receive_maximum)
            self.mqtt.start()
        self.started = True

    def stop(self, *, graceful: bool = True) -> None:
        """Stop; ``graceful=False`` drops everything in flight at once, as a crash would."""
        if self.mqtt is not None:
            self.mqtt.stop(graceful=graceful)
            self.mqtt = None
        self._stopping.set()
        self.evaluator.wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        if graceful:
            try:
                self.anchorer.run_once(force=True)
            except Exception:  # the chain is unavailable: the next start anchors them
                log.exception("could not anchor the pending events while stopping")
        self.started = False

    def member_for(self, role: Role) -> str:
        """The member acting for ``role`` when a request names none (settings, else the manifest's first)."""
        if role == Role.IOT_GATEWAY and self.settings.gateway_member:
            return self.settings.gateway_member
        return self.platform.member_with(role)

    def reviews_open(self) -> list[ReviewCase]:
        """Open review cases, oldest first."""
        with Session(self.engine) as session:
            return list(session.exec(select(ReviewCase).where(ReviewCase.status == "open").order_by(ReviewCase.id)))

    def gateway_members(self) -> list[str]:
        return sorted(name for name, record in self.platform.manifest.members.items() if record.has(Role.IOT_GATEWAY))

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _anchor_loop(self) -> None:
        self._repeat(self.anchorer.run_once, 0.02)

    def _evaluate_loop(self) -> None:
        last_chores = 0.0

        def step() -> None:
            nonlocal last_chores
            self.evaluator.wake.wait(0.05)
            self.evaluator.wake.clear()
            self.evaluator.run_once()
            if time.monotonic() - last_chores >= 1.0:
                last_chores = time.monotonic()
                self.disposal.settle_pending()
                self.outbox.dispatch()
                self.reviews.sweep_deadlines()

        self._repeat(step, 0.0)

    def _repeat(self, step: Callable[[], object], pause: float) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                step()
                failures = 0
            except Exception:  # a worker must outlive a chain or database hiccup
                failures += 1
                log.exception("IoT worker step failed (%d in a row)", failures)
                self._stopping.wait(min(5.0, 0.2 * failures))
                continue
            if pause:
                self._stopping.wait(pause)
