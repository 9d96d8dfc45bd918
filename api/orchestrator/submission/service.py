"""Submitting a pack: idempotency, validation with a per-row report, and one all-or-nothing store.

Order of work, cheapest refusal first:

1. the ``Idempotency-Key`` is looked up: the same key with the same body returns the pack
   already made; with another body it is a conflict (409). Keys are per financier.
2. every row is validated; any problem refuses the whole pack (422) and nothing is stored.
3. pack, loan claims and assets are written in ONE transaction. ``loan_claim`` has the loan id
   as primary key, so a loan already in a live pack makes the insert fail, even under a race;
   the rows at fault are then looked up for the refusal report.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow.compute as pc
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.auth import Member
from api.db.bulk import insert_columns, is_postgres, select_rows
from api.errors import ConflictError, InvalidInputError
from api.orchestrator.models import Pack
from api.orchestrator.pipeline.chain_sync import submission_key
from api.orchestrator.pipeline.steps import PackColumns, borrowers_to_check
from api.orchestrator.submission.hashing import hash_assets
from api.orchestrator.submission.problems import ProblemCollector
from api.orchestrator.submission.validate import ValidAssets, check_columns
from api.orchestrator.wiring import Orchestrator
from api.settings import Settings

PPM = 1_000_000
FILTER_MODES = {"global": "global", "per-level": "per-level", "per_level": "per-level"}
WEIGHTS = ("balance", "count")
RawReader = Callable[[ProblemCollector, int], tuple[dict[str, np.ndarray], int]]


@dataclass(frozen=True)
class PackOptions:
    expected_bad_rate_ppm: int
    filter_mode: str  # global | per-level
    weight_by: str  # balance | count


def pack_options(settings: Settings, *, expected_bad_rate: str | float | None = None,
                 expected_bad_rate_ppm: int | None = None, filter_mode: str = "global",
                 weight_by: str = "balance") -> PackOptions:
    """The financier's choices, or the platform's default expected bad rate."""
    if expected_bad_rate is not None and expected_bad_rate_ppm is not None:
        raise InvalidInputError("give expected_bad_rate or expected_bad_rate_ppm, not both")
    if expected_bad_rate_ppm is None and expected_bad_rate is not None:
        try:
            rate = Decimal(str(expected_bad_rate))
        except InvalidOperation:
            raise InvalidInputError(f"expected_bad_rate must be a fraction such as 0.05, got {expected_bad_rate!r}") from None
        scaled = rate * PPM
        if not rate.is_finite() or scaled != scaled.to_integral_value():
            raise InvalidInputError(f"expected_bad_rate {expected_bad_rate} is finer than one ppm (0.000001)")
        expected_bad_rate_ppm = int(scaled)
    if expected_bad_rate_ppm is None:
        expected_bad_rate_ppm = settings.default_expected_bad_rate_ppm
    if isinstance(expected_bad_rate_ppm, bool) or not 0 <= int(expected_bad_rate_ppm) <= PPM:
        raise InvalidInputError(f"the expected bad rate must lie in 0..1 (0..{PPM} ppm), got {expected_bad_rate_ppm}")
    if filter_mode not in FILTER_MODES:
        raise InvalidInputError(f"filter mode must be 'global' or 'per-level', got {filter_mode!r}")
    if weight_by not in WEIGHTS:
        raise InvalidInputError(f"weight_by must be 'balance' or 'count', got {weight_by!r}")
    return PackOptions(int(expected_bad_rate_ppm), FILTER_MODES[filter_mode], weight_by)


@dataclass(frozen=True)
class Submission:
    source_format: str  # json | csv
    content_sha256: str
    options: PackOptions
    read: RawReader

    @property
    def body_sha256(self) -> str:
        o = self.options
        text = f"{self.source_format}\n{o.expected_bad_rate_ppm}\n{o.filter_mode}\n{o.weight_by}\n{self.content_sha256}"
        return hashlib.sha256(text.encode()).hexdigest()


def _replay(session: Session, member: Member, key: str, body_sha256: str) -> Pack | None:
    existing = session.exec(select(Pack).where(Pack.financier_name == member.name,
                                               Pack.idempotency_key == key)).first()
    if existing is None:
        return None
    if existing.body_sha256 != body_sha256:
        raise ConflictError(
            f"Idempotency-Key {key!r} was already used for pack {existing.id} with a different body",
            details={"pack_id": existing.id, "idempotency_key": key},
        )
    return existing


def submit_pack(o: Orchestrator, member: Member, key: str, submission: Submission, *,
                early_credit: bool = False) -> tuple[Pack, bool]:
    """The pack for this submission, and whether it was created now (False: an idempotent replay).

    ``early_credit``: this process runs the pack's pipeline, so its credit check starts (a pure
    read of the bureau) while the pack is being stored; the pipeline takes it from there.
    """
    if not key or len(key) > 200:
        raise InvalidInputError("the Idempotency-Key header is required (1-200 characters)")
    with Session(o.engine, expire_on_commit=False) as session:
        replay = _replay(session, member, key, submission.body_sha256)
        if replay is not None:
            return replay, False
    problems = ProblemCollector(o.settings.max_error_rows)
    raw, count = submission.read(problems, o.settings.max_assets_per_pack)
    assets = check_columns(raw, count, problems, date.today()) if count else None
    if assets is None:
        raise problems.refusal(submission.source_format, line_offset=1 if submission.source_format == "csv" else None)
    uid = uuid.uuid4().hex
    loan_ids, borrower_ids = assets.strings("loan_id"), assets.strings("borrower_id")
    if early_credit:  # the bureau and this process's verifying work while the pack is hashed and stored
        o.credit_early.start(uid, o.credit, borrowers_to_check(borrower_ids, assets.outstanding_balance_minor),
                             date.today())
    hashes = hash_assets(assets)
    pack = Pack(
        uid=uid, financier_name=member.name, financier_address=member.address, idempotency_key=key,
        body_sha256=submission.body_sha256, source_format=submission.source_format, asset_count=len(assets),
        total_balance_minor=assets.total_balance, expected_bad_rate_ppm=submission.options.expected_bad_rate_ppm,
        filter_mode=submission.options.filter_mode, weight_by=submission.options.weight_by,
        submission_key="0x" + submission_key(uid).hex(), assets_root=hashes.assets_root,
    )
    columns = PackColumns(
        row_no=np.arange(1, len(assets) + 1, dtype=np.int64), loan_id=loan_ids, borrower_id=borrower_ids,
        balance=assets.outstanding_balance_minor, asset_id=hashes.asset_ids, record_hash=hashes.record_hashes)
    with Session(o.engine, expire_on_commit=False) as session:
        try:
            session.add(pack)
            session.flush()
            _store_assets(session, pack.id, assets, hashes.asset_ids, hashes.record_hashes)
            session.commit()
        except BaseException as exc:
            o.credit_early.discard(uid)
            if not isinstance(exc, IntegrityError):
                raise
            session.rollback()
            replay = _replay(session, member, key, submission.body_sha256)  # a concurrent same-key submission won
            if replay is not None:
                return replay, False
            raise _claimed_elsewhere(session, assets, o.settings.max_error_rows) from None
    o.columns.put(pack.id, columns)
    return pack, True


def _store_assets(session: Session, pack_id: int, assets: ValidAssets, ids: np.ndarray, records: np.ndarray) -> None:
    count = len(assets)
    pack_ids = np.full(count, pack_id, dtype=np.int64)
    row_no = np.arange(1, count + 1, dtype=np.int64)
    order = pc.sort_indices(assets.loan_id)  # in key order: the claims' B-tree takes sorted keys far faster
    insert_columns(session, "loan_claim", {"loan_id": assets.loan_id.take(order), "pack_id": pack_ids,
                                           "row_no": row_no[order.to_numpy()]})
    insert_columns(session, "asset", {
        "pack_id": pack_ids,
        "row_no": row_no,
        **{name: assets.column(name) for name in ("loan_id", "borrower_id", "principal_minor",
                                                  "outstanding_balance_minor", "annual_rate_bps", "term_months",
                                                  "origination_date", "maturity_date", "collateral_ids", "industry",
                                                  "region")},
        "asset_id": ids,
        "record_hash": records,
    })


def _claimed_elsewhere(session: Session, assets: ValidAssets, limit: int) -> InvalidInputError:
    """The refusal for loan ids already held by live packs (found after the insert failed)."""
    loan_ids = assets.loan_id.to_pylist()
    held: dict[str, int] = {}
    if is_postgres(session):
        held = dict(select_rows(session, "SELECT loan_id, pack_id FROM loan_claim WHERE loan_id = ANY(:ids)",
                                {"ids": loan_ids}))
    else:
        for start in range(0, len(loan_ids), 500):
            chunk = loan_ids[start:start + 500]
            marks = ", ".join(f":i{n}" for n in range(len(chunk)))
            held.update(select_rows(session, f"SELECT loan_id, pack_id FROM loan_claim WHERE loan_id IN ({marks})",
                                    {f"i{n}": value for n, value in enumerate(chunk)}))
    problems = ProblemCollector(limit)
    problems.size_rows(len(loan_ids))
    mask = np.fromiter((loan_id in held for loan_id in loan_ids), dtype=bool, count=len(loan_ids))
    problems.add_mask(mask, "loan_id", lambda row: f"loan id {loan_ids[row]!r} is already in live pack {held[loan_ids[row]]}")
    if not problems:  # the conflict was something else (it cannot be the idempotency key: checked above)
        return InvalidInputError("the pack could not be stored: it conflicts with stored data")
    return problems.refusal("database")


def withdraw_pack(o: Orchestrator, pack: Pack) -> Pack:
    """Stop a pack that is not committed; its loan ids become free for another pack."""
    if pack.step == "committed" or pack.status == "withdrawn":
        state = "withdrawn already" if pack.status == "withdrawn" else "committed"
        raise ConflictError(f"pack {pack.id} is {state} and cannot be withdrawn")
    if pack.status == "running":
        raise ConflictError(f"pack {pack.id} is being processed right now; withdraw it once its step is over")
    with Session(o.engine, expire_on_commit=False) as session:
        row = session.get(Pack, pack.id)
        assert row is not None
        session.connection().execute(text("DELETE FROM loan_claim WHERE pack_id = :p"), {"p": pack.id})
        row.status = "withdrawn"
        session.add(row)
        session.commit()
        return row
