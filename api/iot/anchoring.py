"""Anchoring: accepted events go into one Merkle tree per gateway and short window, whose root
is committed on chain; any event is then provable against its window's root.

A window is cut when the oldest pending event of a gateway has waited ``window_seconds`` or
``window_max_events`` are pending. Cutting writes the window row and the events' window id in
one transaction *before* the anchoring transaction is sent; a crash after that leaves a
``pending`` window that ``recover`` settles (already on chain under its root: recorded; not:
sent again), so no accepted event is ever left out of a window.

Leaves use ``chain.leaves.IOT_EVENT_LEAF``: (device, sequence, timestamp ms, event hash), which
``CollateralRegistry.verifyEvent`` hashes the same way. Windows are rebuilt from the database
for proofs (the tree is a pure function of the window's events in id order).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.errors import ConflictError, NotFoundError
from api.iot.chain_port import CollateralChain
from api.iot.models import DeviceEvent, EventWindow
from api.iot.records import Clock, now_ms, record_action
from chain.errors import ContractCustomError
from chain.leaves import IOT_EVENT_LEAF
from chain.merkle import StandardMerkleTree

ASSIGN_CHUNK = 500


def event_tree(devices: Sequence[str], seqs: Sequence[int], timestamps: Sequence[int],
               hashes: Sequence[str]) -> StandardMerkleTree:
    """The StandardMerkleTree of a window's events (columns in the window's id order)."""
    n = len(devices)
    columns = [
        np.frombuffer(b"".join(bytes.fromhex(d[2:]) for d in devices), np.uint8).reshape(n, 20),
        np.array(seqs, dtype=np.uint64),
        np.array(timestamps, dtype=np.uint64),
        np.frombuffer(b"".join(bytes.fromhex(h[2:]) for h in hashes), np.uint8).reshape(n, 32),
    ]
    return StandardMerkleTree.of_columns(columns, IOT_EVENT_LEAF, workers=1)


class Anchorer:
    def __init__(self, engine: Engine, chain: CollateralChain, *, clock: Clock, window_seconds: float,
                 window_max_events: int) -> None:
        self.engine = engine
        self.chain = chain
        self.clock = clock
        self.window_ms = int(window_seconds * 1000)
        self.max_events = window_max_events
        self._lock = threading.Lock()  # one anchoring pass at a time
        self._trees: OrderedDict[int, tuple[list[int], StandardMerkleTree]] = OrderedDict()
        self._trees_lock = threading.Lock()

    def run_once(self, *, force: bool = False) -> list[EventWindow]:
        """Cut and anchor every window that is due (``force``: every pending event now)."""
        done = self.recover()  # windows whose transaction failed earlier (chain unavailable) go first
        with self._lock:
            while True:
                due = self._due_gateways(force)
                if not due:
                    return done
                for gateway in due:
                    window = self._cut(gateway)
                    if window is not None:
                        done.append(self._send(window, fresh=True))

    def recover(self) -> list[EventWindow]:
        """Settle windows cut but not anchored (a crash, a failed send): record those the chain
        already holds, send the others."""
        with Session(self.engine) as session:
            pending = session.exec(select(EventWindow).where(EventWindow.status == "pending")).all()
        with self._lock:
            return [self._send(window) for window in pending]

    def pending_count(self) -> int:
        """Accepted events not yet in an anchored window (not cut yet, or cut and not yet on chain)."""
        with Session(self.engine) as session:
            uncut = session.exec(select(func.count()).select_from(DeviceEvent).where(DeviceEvent.window_id.is_(None)))
            unsent = session.exec(select(func.coalesce(func.sum(EventWindow.event_count), 0))
                                  .where(EventWindow.status == "pending"))
            return uncut.one() + unsent.one()

    def _due_gateways(self, force: bool) -> list[str]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(DeviceEvent.gateway, func.min(DeviceEvent.received_at_ms), func.count())
                .where(DeviceEvent.window_id.is_(None)).group_by(DeviceEvent.gateway)
            ).all()
        cutoff = now_ms(self.clock) - self.window_ms
        return [g for g, oldest, count in rows if force or count >= self.max_events or oldest <= cutoff]

    def _cut(self, gateway: str) -> EventWindow | None:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(DeviceEvent.id, DeviceEvent.device, DeviceEvent.seq, DeviceEvent.ts_ms, DeviceEvent.event_hash)
                .where(DeviceEvent.gateway == gateway, DeviceEvent.window_id.is_(None))
                .order_by(DeviceEvent.id).limit(self.max_events)
            ).all()
            if not rows:
                return None
            ids, devices, seqs, stamps, hashes = (list(column) for column in zip(*rows))
            tree = event_tree(devices, seqs, stamps, hashes)
            window = EventWindow(gateway=gateway, root=tree.root, event_count=len(ids), from_ts_ms=min(stamps),
                                 to_ts_ms=max(stamps), created_at_ms=now_ms(self.clock))
            session.add(window)
            session.flush()
            for start in range(0, len(ids), ASSIGN_CHUNK):
                chunk = ids[start : start + ASSIGN_CHUNK]
                session.exec(update(DeviceEvent).where(DeviceEvent.id.in_(chunk)).values(window_id=window.id))
        self._remember(window.id, ids, tree)
        return window

    def _send(self, window: EventWindow, *, fresh: bool = False) -> EventWindow:
        """Anchor ``window``; unless it was just cut, first ask whether the chain already holds it."""
        chain_id = 0 if fresh else self.chain.window_of_root(window.root)
        tx_hash = None
        if chain_id == 0:
            try:
                chain_id, tx_hash = self.chain.anchor(window.gateway, window.root, window.event_count,
                                                      window.from_ts_ms, window.to_ts_ms)
            except ContractCustomError as exc:  # anchored meanwhile by an earlier attempt
                if exc.name != "CollateralRegistryDuplicateRoot":
                    raise
                chain_id = exc.args[1]
        at = now_ms(self.clock)
        with session_scope(self.engine) as session:
            row = session.get(EventWindow, window.id)
            row.status, row.chain_window_id, row.tx_hash, row.anchored_at_ms = "anchored", chain_id, tx_hash, at
            session.add(row)
            record_action(session, "events_anchored", at, tx_hash=tx_hash,
                          detail={"window": row.id, "chain_window": chain_id, "events": row.event_count,
                                  "gateway": row.gateway, "root": row.root})
        return row

    # ------------------------------------------------------------ proofs

    def proof(self, event_id: int) -> dict:
        with Session(self.engine) as session:
            event = session.get(DeviceEvent, event_id)
            if event is None:
                raise NotFoundError(f"no event {event_id}")
            window = session.get(EventWindow, event.window_id) if event.window_id is not None else None
        if window is None or window.status != "anchored":
            raise ConflictError(f"event {event_id} is not anchored yet; its window closes within a second")
        ids, tree = self._tree(window.id)
        proof = tree.get_proof(ids.index(event_id))
        leaf = [event.device, event.seq, event.ts_ms, event.event_hash]
        on_chain = self.chain.verify_event(window.chain_window_id, event.device, event.seq, event.ts_ms,
                                           event.event_hash, proof)
        return {
            "event": {"id": event.id, "device": event.device, "seq": event.seq, "ts": event.ts_ms, "type": event.type,
                      "payload": event.payload, "signature": event.signature, "event_hash": event.event_hash},
            "leaf_encoding": list(IOT_EVENT_LEAF),
            "leaf": leaf,
            "window": {"id": window.id, "chain_window_id": window.chain_window_id, "root": window.root,
                       "event_count": window.event_count, "tx_hash": window.tx_hash, "gateway": window.gateway},
            "proof": proof,
            "verified_on_chain": bool(on_chain),
        }

    def _tree(self, window_id: int) -> tuple[list[int], StandardMerkleTree]:
        with self._trees_lock:
            if window_id in self._trees:
                self._trees.move_to_end(window_id)
                return self._trees[window_id]
        with Session(self.engine) as session:
            rows = session.exec(
                select(DeviceEvent.id, DeviceEvent.device, DeviceEvent.seq, DeviceEvent.ts_ms, DeviceEvent.event_hash)
                .where(DeviceEvent.window_id == window_id).order_by(DeviceEvent.id)
            ).all()
        ids, devices, seqs, stamps, hashes = (list(column) for column in zip(*rows))
        tree = event_tree(devices, seqs, stamps, hashes)
        self._remember(window_id, ids, tree)
        return ids, tree

    def _remember(self, window_id: int, ids: list[int], tree: StandardMerkleTree) -> None:
        with self._trees_lock:
            self._trees[window_id] = (ids, tree)
            while len(self._trees) > 16:
                self._trees.popitem(last=False)
