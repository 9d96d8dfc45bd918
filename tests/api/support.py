"""Building blocks of the orchestrator's tests (tests/api) and its integration tests.

A *world* is a deployed consortium with a registered scoring model and a credit bureau holding
the borrowers' records, on any chain: the embedded EVM for tests/api, the Hardhat node for
tests/integration. Packs are synthetic (``scoring.data.synthetic.generate_pack``), dated today so
that the bureau's records are fresh.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import Session

from api.auth import issue_api_key
from api.bureau.bootstrap import build_service
from api.bureau.service import BureauService
from api.bureau.settings import BureauSettings
from api.orchestrator.submission.fields import ASSET_FIELDS
from api.orchestrator.wiring import BureauCreditSource, Orchestrator, RegistryModelSource, bootstrap
from api.platform import Platform
from api.services.credit_check import InProcessBureauClient
from api.services.model_registry import register_model
from api.settings import Settings
from chain.deploy import Seat, pass_proposal, record_member
from chain.keys import EnvironmentKeys, MemberKeys, env_var_for
from chain.roles import Role
from scoring.data.schema import CREDIT_FEATURES, CREDIT_RECORD, TARGET
from scoring.data.synthetic import generate_history, generate_pack
from scoring.grading import level_table_from_history
from scoring.model.artifact import save_scorecard
from scoring.model.evaluation import evaluate_predictions
from scoring.model.scorecard import Scorecard
from testbed import Consortium, account_for

SECOND_FINANCIER = "financier-b"


def admit_second_financier(consortium: Consortium) -> None:
    """A second financier, admitted through governance, to test that packs stay private."""
    from chain.sender import Sender

    registry = consortium.registry
    sender = Sender(consortium.w3, account_for(SECOND_FINANCIER), name=SECOND_FINANCIER)
    consortium.senders[SECOND_FINANCIER] = sender
    if not registry.functions.isMember(sender.address).call():
        seat = Seat(SECOND_FINANCIER, sender.address, (Role.FINANCIER,))
        pass_proposal(registry, consortium.governors, registry.functions.proposeAdmit(
            seat.address, seat.name, [bytes(Role.FINANCIER)]))
    record_member(consortium.manifest, registry, SECOND_FINANCIER, sender.address)


def member_keys(consortium: Consortium) -> MemberKeys:
    """Every test member's key, as ``ABS_KEY_<NAME>`` variables (not the process environment)."""
    environ = {env_var_for(name): "0x" + bytes(sender.account.key).hex() for name, sender in consortium.senders.items()}
    return MemberKeys(environment=EnvironmentKeys(environ))


def train_model(directory: Path, seed: int = 5, rows: int = 20_000) -> Path:
    """A small scorecard on synthetic history, saved with its level table (seconds)."""
    history = generate_history(rows, seed=seed)
    features, target = history[list(CREDIT_FEATURES)], history[TARGET].to_numpy()
    model = Scorecard().fit(features, target)
    table = level_table_from_history(model.predict_score(features), target)
    measured = evaluate_predictions(target, model.predict_proba(features)[:, 1])
    metrics = {"cv_auc": measured["auc"], "cv_ks": measured["ks"], "cv_brier": measured["brier"]}
    save_scorecard(model, directory, table.rows(), metrics)
    return directory


def register(consortium: Consortium, directory: Path) -> int:
    return register_model(consortium.sender("scorer"), consortium.contract("ModelRegistry"), directory).model_id


def pack_frame(count: int, seed: int, financier: str = "fin", today: dt.date | None = None) -> pd.DataFrame:
    """A synthetic pack with its borrowers' credit records, dated ``today``."""
    return generate_pack(count, seed=seed, financier=financier, as_of=today or dt.date.today())


def loans(frame: pd.DataFrame) -> pd.DataFrame:
    """The submitted columns of a synthetic pack, as text a financier would send."""
    out = frame[list(ASSET_FIELDS)].copy()
    for name in ("origination_date", "maturity_date"):
        out[name] = out[name].dt.strftime("%Y-%m-%d")
    for name in ("industry", "region"):
        out[name] = out[name].astype(str)
    return out


def pack_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    loans(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def pack_json_assets(frame: pd.DataFrame) -> list[dict]:
    rows = loans(frame).to_dict(orient="records")
    for row in rows:
        row["collateral_ids"] = [c for c in row["collateral_ids"].split(";") if c]
        for name in ("principal_minor", "outstanding_balance_minor", "annual_rate_bps", "term_months"):
            row[name] = int(row[name])
    return rows


def credit_records(frame: pd.DataFrame, *, stale_rows: np.ndarray | None = None, today: dt.date | None = None,
                   ) -> pd.DataFrame:
    """The bureau's records of a pack's borrowers; ``stale_rows`` get a record 400 days old."""
    records = frame[list(CREDIT_RECORD.names)].copy()
    dates = pd.to_datetime(records["record_date"])
    if stale_rows is not None and len(stale_rows):
        old = pd.Timestamp((today or dt.date.today()) - dt.timedelta(days=400))
        dates.iloc[stale_rows] = old
    records["record_date"] = dates.dt.strftime("%Y-%m-%d")
    return records


def make_bureau(platform: Platform, database_url: str) -> BureauService:
    return build_service(BureauSettings(database_url=database_url), platform)


@dataclass
class World:
    """A consortium on some chain, its platform view, a registered model and a bureau."""

    consortium: Consortium
    platform: Platform
    models_dir: Path
    model_id: int
    bureau: BureauService

    def orchestrator(self, settings: Settings) -> Orchestrator:
        platform = Platform(settings, w3=self.consortium.w3, manifest=self.consortium.manifest,
                            keys=self.platform.keys)
        return bootstrap(settings, platform=platform,
                         credit=BureauCreditSource(platform, settings, InProcessBureauClient(self.bureau)),
                         models=RegistryModelSource(platform, settings))

    def seed(self, frame: pd.DataFrame, *, missing_rows: np.ndarray | None = None,
             stale_rows: np.ndarray | None = None) -> None:
        """Put the borrowers' records of ``frame`` at the bureau (except ``missing_rows``)."""
        records = credit_records(frame, stale_rows=stale_rows)
        if missing_rows is not None and len(missing_rows):
            records = records.drop(records.index[missing_rows])
        self.bureau.ingest(records.reset_index(drop=True), source="test")


def make_world(consortium: Consortium, settings: Settings, models_dir: Path, bureau_url: str) -> World:
    keys = member_keys(consortium)
    platform = Platform(settings, w3=consortium.w3, manifest=consortium.manifest, keys=keys)
    directory = train_model(models_dir / "scorecard")
    model_id = register(consortium, directory)
    return World(consortium, platform, models_dir, model_id, make_bureau(platform, bureau_url))


def api_key(orchestrator: Orchestrator, consortium: Consortium, member: str) -> str:
    with Session(orchestrator.engine) as session:
        key = issue_api_key(session, member, consortium.address(member))
        session.commit()
    return key


def wait_for_pack(client, pack_id: int, headers: dict, *, timeout: float = 120.0,
                  until: tuple[str, ...] = ("done", "failed", "withdrawn")) -> dict:
    """Poll GET /v1/packs/{id} until its status is one of ``until``."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/packs/{pack_id}", headers=headers).json()
        if body.get("status") in until:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"pack {pack_id} still {body.get('status')} at {body.get('step')} after {timeout} s")
        time.sleep(0.05)


PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresSchema:
    """A fresh schema in the shared ``test`` database (dropped on close): concurrent runs never meet."""

    def __init__(self, prefix: str = "t") -> None:
        import uuid

        import psycopg

        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._psycopg = psycopg
        with psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {self.name}")

    @property
    def url(self) -> str:
        return f"{PG_BASE}?options=-csearch_path%3D{self.name}"

    def close(self) -> None:
        with self._psycopg.connect("host=127.0.0.1 dbname=test user=postgres", autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
