"""Who is calling the exchange: an API key bound to a consortium member, whose roles are read
from the MemberRegistry (cached briefly, so a governance removal takes effect within seconds).

The exchange keeps its own key table in its own database; ``api.auth`` does the same for the
orchestrator's. Only a key's sha256 is stored; the plaintext is shown once, when issued.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web3 import Web3

from api.db.engine import session_scope
from api.errors import AuthenticationError, ForbiddenError, InvalidInputError
from api.exchange.models import ExchangeApiKey, utcnow

KEY_PREFIX = "exc_"


class RoleSource(Protocol):
    def roles_of(self, address: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Caller:
    """The authenticated member and the role names it holds on chain now."""

    name: str
    address: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def require(self, *roles: str) -> Caller:
        if not self.has(*roles):
            raise ForbiddenError(
                f"member {self.name!r} needs one of the roles {', '.join(roles)}",
                details={"member": self.name, "needed": list(roles), "held": sorted(self.roles)},
            )
        return self


class CachedRoles:
    """Another RoleSource's answers, kept for ``ttl`` seconds."""

    def __init__(self, inner: RoleSource, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._inner, self._ttl, self._clock = inner, ttl, clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def roles_of(self, address: str) -> frozenset[str]:
        key, now = address.lower(), self._clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        roles = self._inner.roles_of(address)
        with self._lock:
            self._cache[key] = (now, roles)
        return roles


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_key(engine: Engine, member_name: str, member_address: str) -> str:
    """A new key for a member; returns the plaintext, which is never stored."""
    if not member_name or len(member_name) > 64:
        raise InvalidInputError("a member name is 1 to 64 characters")
    if not Web3.is_address(member_address):
        raise InvalidInputError(f"{member_address!r} is not an account address")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        session.add(ExchangeApiKey(key_hash=hash_key(api_key), member_name=member_name,
                                   member_address=Web3.to_checksum_address(member_address)))
    return api_key


def revoke_keys(engine: Engine, member_name: str) -> int:
    with session_scope(engine) as session:
        keys = session.exec(select(ExchangeApiKey).where(ExchangeApiKey.member_name == member_name,
                                                         ExchangeApiKey.revoked_at.is_(None))).all()
        for key in keys:
            key.revoked_at = utcnow()
            session.add(key)
    return len(keys)


def authenticate(engine: Engine, api_key: str | None, roles: RoleSource) -> Caller:
    if not api_key:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    with Session(engine) as session:
        row = session.exec(select(ExchangeApiKey).where(ExchangeApiKey.key_hash == hash_key(api_key))).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API key")
    held = roles.roles_of(row.member_address)
    if not held:
        raise ForbiddenError(f"member {row.member_name!r} holds no role in the consortium")
    return Caller(row.member_name, row.member_address, held)
