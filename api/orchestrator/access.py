"""Who sees and changes which pack, from the caller's on-chain roles.

* a financier sees and acts on its own packs only (others' are "not found", not "forbidden",
  so their existence does not leak);
* the auditor and the scoring service read every pack; the auditor writes nothing;
* an investor or the exchange sees a pack only once it is issued as a product (a later
  capability), so none of the packs this API makes yet.
"""

from __future__ import annotations

from sqlalchemy import false, func
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Member, require_any_role
from api.errors import NotFoundError
from api.orchestrator.models import Pack
from chain.roles import Role

READ_ALL = (Role.AUDITOR.name, Role.SCORER.name)
PRODUCT_READERS = (Role.INVESTOR.name, Role.EXCHANGE.name)
ISSUED_STATES = ("Issued", "Monitoring", "Closed")


def can_read(member: Member, pack: Pack) -> bool:
    if member.has(*READ_ALL):
        return True
    if member.has(Role.FINANCIER.name) and pack.financier_address.lower() == member.address.lower():
        return True
    return member.has(*PRODUCT_READERS) and pack.chain_state in ISSUED_STATES


def readable(member: Member) -> ColumnElement[bool]:
    """The SQL condition of the packs ``member`` may list."""
    if member.has(*READ_ALL):
        return Pack.id.is_not(None)
    condition = false()
    if member.has(Role.FINANCIER.name):
        condition = condition | (func.lower(Pack.financier_address) == member.address.lower())
    if member.has(*PRODUCT_READERS):
        condition = condition | Pack.chain_state.in_(ISSUED_STATES)
    return condition


def require_readable(member: Member, pack: Pack | None, pack_id: int) -> Pack:
    if pack is None or not can_read(member, pack):
        raise NotFoundError(f"no pack {pack_id} is visible to member {member.name!r}")
    return pack


def require_owner(member: Member, pack: Pack | None, pack_id: int) -> Pack:
    """Changing a pack takes the FINANCIER role and being the financier that submitted it."""
    require_any_role(member, Role.FINANCIER.name)
    pack = require_readable(member, pack, pack_id)
    if pack.financier_address.lower() != member.address.lower():
        raise NotFoundError(f"no pack {pack_id} of member {member.name!r}")
    return pack
