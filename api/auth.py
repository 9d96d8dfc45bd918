"""Who is calling: an API key bound to a consortium member, whose on-chain roles decide what
it may do. Roles are read from the MemberRegistry (through a RoleSource) and cached briefly,
so a governance removal takes effect within the cache's lifetime without a restart."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, select

from api.errors import AuthenticationError, ForbiddenError
from api.orchestrator.models import ApiKey, utcnow

API_KEY_PREFIX = "abs_"


@dataclass(frozen=True)
class Member:
    """The authenticated caller."""

    name: str
    address: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class RoleSource(Protocol):
    """Where a member's roles come from: the chain in production, a fake in unit tests."""

    def roles_of(self, address: str) -> frozenset[str]: ...


class CachedRoleSource:
    """Caches another RoleSource's answers for `ttl_seconds`."""

    def __init__(self, inner: RoleSource, ttl_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self._inner = inner
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def roles_of(self, address: str) -> frozenset[str]:
        key = address.lower()
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self._ttl:
                return hit[1]
        roles = self._inner.roles_of(address)
        with self._lock:
            self._cache[key] = (now, roles)
        return roles

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_api_key(session: Session, member_name: str, member_address: str) -> str:
    """Create a key for a member; the plaintext is returned once and never stored."""
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(key_hash=hash_key(api_key), member_name=member_name, member_address=member_address))
    return api_key


def revoke_api_keys(session: Session, member_name: str) -> int:
    keys = session.exec(select(ApiKey).where(ApiKey.member_name == member_name, ApiKey.revoked_at.is_(None))).all()
    for key in keys:
        key.revoked_at = utcnow()
        session.add(key)
    return len(keys)


def authenticate(session: Session, api_key: str | None, roles: RoleSource) -> Member:
    if not api_key:
        raise AuthenticationError("missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(api_key))).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API key")
    member_roles = roles.roles_of(row.member_address)
    if not member_roles:
        raise ForbiddenError(f"member {row.member_name!r} holds no role in the consortium")
    return Member(name=row.member_name, address=row.member_address, roles=member_roles)


def require_any_role(member: Member, *roles: str) -> Member:
    if not member.has(*roles):
        raise ForbiddenError(
            f"member {member.name!r} needs one of the roles {', '.join(roles)}",
            details={"member": member.name, "needed": list(roles), "held": sorted(member.roles)},
        )
    return member
