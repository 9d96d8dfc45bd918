"""The cash ledger: records who paid whom, in minor units, and moves no real money.

Double entry: a movement is two ``CashEntry`` rows, the payer's negative and the payee's
positive, so every movement and the whole ledger sum to zero. Accounts are named
``investor:<address>``, ``financier:<address>`` and ``pool:<product id>`` (the product's
collection account, which each distribution fills and empties).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from api.exchange.models import CashEntry


def investor_account(address: str) -> str:
    return f"investor:{address}"


def financier_account(address: str) -> str:
    return f"financier:{address}"


def pool_account(product_id: int) -> str:
    return f"pool:{product_id}"


def record_movement(
    session: Session,
    movement: str,
    *,
    payer: str,
    payee: str,
    amount: int,
    kind: str,
    product_id: int,
    tranche_idx: int | None = None,
    period: int | None = None,
    units: int | None = None,
    subscription_id: int | None = None,
    tx_hash: str | None = None,
) -> None:
    """``payer`` pays ``payee`` ``amount`` (both legs in ``session``); nothing for a zero amount."""
    if amount < 0:
        raise ValueError("a movement's amount is not negative; swap payer and payee")
    if amount == 0:
        return
    common = dict(movement=movement, kind=kind, product_id=product_id, tranche_idx=tranche_idx, period=period,
                  units=units, subscription_id=subscription_id, tx_hash=tx_hash)
    session.add(CashEntry(account=payer, amount=-amount, **common))
    session.add(CashEntry(account=payee, amount=amount, **common))


def movement_recorded(session: Session, movement: str) -> bool:
    return session.exec(select(CashEntry.id).where(CashEntry.movement == movement).limit(1)).first() is not None


def balance(session: Session, account: str) -> int:
    total = session.exec(select(func.coalesce(func.sum(CashEntry.amount), 0)).where(CashEntry.account == account)).one()
    return int(total)


def entries_of(session: Session, account: str) -> list[CashEntry]:
    return list(session.exec(select(CashEntry).where(CashEntry.account == account).order_by(CashEntry.id)).all())
