"""What a crash or an unavailable chain interrupts is settled later, never done twice."""

from __future__ import annotations

import time

from sqlmodel import Session, select

from api.iot.models import CollateralWarning, CreditFreeze
from api.iot.schemas import CollateralSpec
from chain.leaves import asset_id
from iot_support import SITE, register, signed, unique_code

AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}


class ChainDown(ConnectionError):
    pass


class FlakyChain:
    """The real chain port, except the calls named in ``failing`` raise until cleared."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.failing: set[str] = set()
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            if name in self.failing:
                raise ChainDown(f"{name}: no chain answers")
            return method(*args, **kwargs)

        return call


def test_a_freeze_that_failed_to_send_is_sent_later(make_service, device_key, consortium):
    service = make_service(start_workers=False)
    flaky = FlakyChain(service.chain)
    for part in (service.disposal, service.reviews, service.anchorer, service.registry):
        part.chain = flaky
    key = device_key()
    code = register(service, key)
    service.ingestor.ingest([signed(key, 1, "location", AWAY)], via="http")
    flaky.failing = {"freeze"}
    try:
        service.evaluator.run_once(everything=True)
    except ChainDown:
        pass
    with Session(service.engine) as session:
        (warning,) = session.exec(select(CollateralWarning).where(CollateralWarning.collateral_code == code)).all()
        freeze = session.get(CreditFreeze, f"{code}-L1")
    assert warning.status == "open" and warning.chain_warning_id and freeze.status == "pending"
    registry = consortium.contract("CollateralRegistry")
    assert registry.functions.freezeOf(asset_id(f"{code}-L1")).call()[1] == 0

    flaky.failing = set()
    service.disposal.settle_pending()
    assert registry.functions.freezeOf(asset_id(f"{code}-L1")).call()[1] == 10_000
    with Session(service.engine) as session:
        assert session.get(CreditFreeze, f"{code}-L1").status == "active"
    service.disposal.settle_pending()  # nothing left: no second transaction
    assert flaky.calls.count("freeze") == 2 and flaky.calls.count("raise_warning") == 1


def test_a_warning_raised_on_chain_before_a_crash_is_found_not_raised_again(make_service, device_key, consortium):
    service = make_service(start_workers=False)
    flaky = FlakyChain(service.chain)
    service.disposal.chain = flaky
    key = device_key()
    code = register(service, key)
    service.ingestor.ingest([signed(key, 1, "location", AWAY)], via="http")
    (finding,) = service.evaluator.findings(code, int(time.time() * 1000))

    original = service.disposal._settle_on_chain

    def crash_after_the_transaction(warning, *, recovering=False):
        evidence = bytes.fromhex(warning.evidence_hash[2:])
        flaky.inner.raise_warning(warning.collateral_code, warning.level, warning.rule, evidence, warning.observed_at_ms)
        raise ChainDown("the process died before recording the warning id")

    service.disposal._settle_on_chain = crash_after_the_transaction
    try:
        service.disposal.raise_warning(code, finding)
    except ChainDown:
        pass
    service.disposal._settle_on_chain = original
    count_before = consortium.contract("CollateralRegistry").functions.warningCount().call()

    restarted = make_service(start_workers=False)  # start() settles the raising warning
    with Session(restarted.engine) as session:
        (warning,) = session.exec(select(CollateralWarning).where(CollateralWarning.collateral_code == code)).all()
    assert warning.status == "open" and warning.chain_warning_id == count_before
    assert consortium.contract("CollateralRegistry").functions.warningCount().call() == count_before
    assert consortium.contract("CollateralRegistry").functions.freezeOf(asset_id(f"{code}-L1")).call()[1] == 10_000


def test_a_pledge_already_on_chain_from_a_crashed_attempt_is_taken_over(make_service, consortium):
    service = make_service(start_workers=False)
    code = unique_code("RETRY")
    spec = CollateralSpec(code=code, kind="equipment", industry="construction",
                          loans=[{"loan_id": f"{code}-L1", "borrower_id": "B", "credit_line_minor": 10}])
    service.chain.register_collateral("financier", code, [f"{code}-L1"], b"\x01" * 32)  # then the process died
    row = service.registry.register_collateral(spec)
    assert row.code == code and row.tx_hash is None
