"""Collaterals, their loans and their devices: in the database, on chain, and cached in memory.

Registration is chain first, then database: a collateral or device the chain already holds
(a retry after a crash between the two) is taken over when the chain's record matches, and
refused when it belongs to someone else. The in-memory caches (devices with their last
sequence, collateral profiles) serve ingestion and evaluation without a query per event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.errors import ConflictError, InvalidInputError, NotFoundError
from api.iot.chain_port import CollateralChain
from api.iot.models import Collateral, CollateralLoan, CreditFreeze, Device, Loan
from api.iot.records import Clock, now_ms, record_action
from api.iot.schemas import CollateralSpec, DeviceSpec
from chain.errors import ContractCustomError
from chain.leaves import collateral_id, record_hash, to_hex32
from chain.roles import Role
from scoring.errors import ScoringValueError
from scoring.iot.disposal import LoanLine
from scoring.iot.geo import fence_from_dict
from scoring.iot.rules import CollateralProfile
from scoring.iot.thresholds import Thresholds, profile_for, thresholds_for


@dataclass
class DeviceState:
    address: str
    collateral_code: str
    gateway: str
    active: bool
    last_seq: int


@dataclass(frozen=True)
class CollateralRules:
    """What evaluation needs of a collateral."""

    code: str
    profile: CollateralProfile
    thresholds: Thresholds


class Registry:
    def __init__(self, engine: Engine, chain: CollateralChain, *, clock: Clock, overrides: dict | None = None,
                 default_member: Callable[[Role], str] | None = None) -> None:
        self.engine = engine
        self.chain = chain
        self.clock = clock
        self.overrides = overrides or {}
        self.default_member = default_member  # the member acting for a role when a request names none
        self.devices: dict[str, DeviceState] = {}
        self.rules: dict[str, CollateralRules] = {}
        self.lock = threading.RLock()

    def _default(self, role: Role) -> str:
        if self.default_member is None:
            raise InvalidInputError(f"no {role.name} member named and none configured")
        return self.default_member(role)

    def load(self) -> None:
        with Session(self.engine) as session:
            devices = session.exec(select(Device)).all()
            collaterals = session.exec(select(Collateral)).all()
        with self.lock:
            self.devices = {d.address: DeviceState(d.address, d.collateral_code, d.gateway, d.active, d.last_seq)
                            for d in devices}
            self.rules = {c.code: self._rules_of(c) for c in collaterals}

    def _rules_of(self, c: Collateral) -> CollateralRules:
        fence = fence_from_dict(c.fence) if c.fence else None
        temperature = (c.temp_min_mc, c.temp_max_mc) if c.temp_min_mc is not None else None
        home = (c.home["lat_e7"], c.home["lon_e7"]) if c.home else None
        profile = CollateralProfile(fence=fence, temperature_range=temperature, stationary=c.stationary, home=home)
        return CollateralRules(c.code, profile, thresholds_for(c.profile, self.overrides))

    # ------------------------------------------------------------ collaterals

    def register_collateral(self, spec: CollateralSpec) -> Collateral:
        try:
            profile = profile_for(spec.industry)
            if spec.fence is not None:
                fence_from_dict(spec.fence)
        except (ScoringValueError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"collateral {spec.code}: {exc}") from None
        financier = spec.financier or self._default(Role.FINANCIER)
        with Session(self.engine) as session:
            if session.get(Collateral, spec.code) is not None:
                raise ConflictError(f"collateral {spec.code} is already registered")
        document = spec.model_dump(mode="json", exclude={"financier"})
        for loan in document["loans"]:
            loan.pop("drawn_minor")  # the drawn amount changes; the pledge does not
        profile_hash = record_hash(document)
        tx_hash = self._chain_register(financier, spec, profile_hash)
        at = now_ms(self.clock)
        row = Collateral(
            code=spec.code, chain_id=to_hex32(collateral_id(spec.code)), kind=spec.kind, industry=spec.industry,
            profile=profile, description=spec.description, financier=financier, fence=spec.fence,
            temp_min_mc=spec.temperature_range.min_milli_c if spec.temperature_range else None,
            temp_max_mc=spec.temperature_range.max_milli_c if spec.temperature_range else None,
            stationary=spec.stationary, home=spec.home.model_dump() if spec.home else None,
            valuation=spec.valuation.model_dump(mode="json") if spec.valuation else None,
            profile_hash=to_hex32(profile_hash), tx_hash=tx_hash, registered_at_ms=at,
        )
        with session_scope(self.engine) as session:
            session.add(row)
            for loan in spec.loans:
                existing = session.get(Loan, loan.loan_id)
                if existing is None:
                    session.add(Loan(**loan.model_dump()))
                session.add(CollateralLoan(collateral_code=spec.code, loan_id=loan.loan_id))
            record_action(session, "collateral_registered", at, collateral_code=spec.code, tx_hash=tx_hash,
                          detail={"financier": financier, "loans": [loan.loan_id for loan in spec.loans]})
        with self.lock:
            self.rules[row.code] = self._rules_of(row)
        return row

    def _chain_register(self, financier: str, spec: CollateralSpec, profile_hash: bytes) -> str | None:
        try:
            return self.chain.register_collateral(financier, spec.code, [loan.loan_id for loan in spec.loans], profile_hash)
        except ContractCustomError as exc:
            if exc.name != "CollateralRegistryCollateralExists":
                raise InvalidInputError(f"the chain refused collateral {spec.code}: {exc.name}{exc.args}") from None
        # on chain already: an earlier attempt that crashed before the database commit, if it is ours
        if self.chain.collateral_financier(spec.code) != self.chain.member_address(financier):
            raise ConflictError(f"collateral {spec.code} is pledged on chain by another financier")
        return None

    def collateral(self, code: str) -> Collateral:
        with Session(self.engine) as session:
            row = session.get(Collateral, code)
        if row is None:
            raise NotFoundError(f"no collateral {code}")
        return row

    def loan_lines(self, session: Session, code: str) -> list[LoanLine]:
        """The collateral's loans with their undrawn credit and the share frozen now."""
        rows = session.exec(
            select(Loan, CreditFreeze)
            .join(CollateralLoan, CollateralLoan.loan_id == Loan.loan_id)
            .join(CreditFreeze, CreditFreeze.loan_id == Loan.loan_id, isouter=True)
            .where(CollateralLoan.collateral_code == code)
        ).all()
        return [
            LoanLine(loan.loan_id, loan.borrower_id, loan.credit_line_minor - loan.drawn_minor,
                     freeze.frozen_bps if freeze is not None and freeze.status != "lifted" else 0)
            for loan, freeze in rows
        ]

    def set_drawn(self, loan_id: str, drawn_minor: int) -> Loan:
        with session_scope(self.engine) as session:
            loan = session.get(Loan, loan_id)
            if loan is None:
                raise NotFoundError(f"no loan {loan_id}")
            if drawn_minor > loan.credit_line_minor:
                raise InvalidInputError(f"drawn {drawn_minor} exceeds the credit line {loan.credit_line_minor}")
            loan.drawn_minor = drawn_minor
            session.add(loan)
            return loan

    # ------------------------------------------------------------ devices

    def register_device(self, code: str, spec: DeviceSpec) -> Device:
        self.collateral(code)
        address = spec.address.lower()
        gateway = spec.gateway or self._default(Role.IOT_GATEWAY)
        with Session(self.engine) as session:
            if session.get(Device, address) is not None:
                raise ConflictError(f"device {address} is already registered")
        try:
            tx_hash = self.chain.register_device(gateway, address, code)
        except ContractCustomError as exc:
            if exc.name != "CollateralRegistryDeviceExists":
                raise InvalidInputError(f"the chain refused device {address}: {exc.name}{exc.args}") from None
            if self.chain.device_record(address) != (self.chain.member_address(gateway), collateral_id(code)):
                raise ConflictError(f"device {address} is registered on chain elsewhere") from None
            tx_hash = None
        at = now_ms(self.clock)
        row = Device(address=address, collateral_code=code, gateway=gateway, label=spec.label, registered_at_ms=at,
                     tx_hash=tx_hash)
        with session_scope(self.engine) as session:
            session.add(row)
            record_action(session, "device_registered", at, collateral_code=code, tx_hash=tx_hash,
                          detail={"device": address, "gateway": gateway})
        with self.lock:
            self.devices[address] = DeviceState(address, code, gateway, True, -1)
        return row

    def revoke_device(self, address: str) -> Device:
        address = address.lower()
        with Session(self.engine) as session:
            row = session.get(Device, address)
        if row is None:
            raise NotFoundError(f"no device {address}")
        if not row.active:
            raise ConflictError(f"device {address} is already revoked")
        with self.lock:  # refuse its events from now on, before the chain confirms
            self.devices[address].active = False
        try:
            tx_hash = self.chain.revoke_device(row.gateway, address)
        except ContractCustomError as exc:
            if exc.name != "CollateralRegistryDeviceRevoked":
                with self.lock:
                    self.devices[address].active = True
                raise InvalidInputError(f"the chain refused to revoke {address}: {exc.name}{exc.args}") from None
            tx_hash = None
        at = now_ms(self.clock)
        with session_scope(self.engine) as session:
            row = session.get(Device, address)
            row.active, row.revoked_at_ms = False, at
            session.add(row)
            record_action(session, "device_revoked", at, collateral_code=row.collateral_code, tx_hash=tx_hash,
                          detail={"device": address})
        return row
