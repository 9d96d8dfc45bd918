"""API keys of the bureau: consortium members read records with a ``read`` key, the bureau's
own operators publish batches with a ``write`` key. Only a key's sha256 is stored; the
plaintext is shown once, when issued (``absctl bureau api-key NAME``)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.bureau.models import READ_SCOPE, WRITE_SCOPE, BureauApiKey, utcnow
from api.db.engine import session_scope
from api.errors import AuthenticationError, ForbiddenError, InvalidInputError

KEY_PREFIX = "bur_"
SCOPES = (READ_SCOPE, WRITE_SCOPE)


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_key(engine: Engine, name: str, scope: str = READ_SCOPE) -> str:
    """A new key for ``name`` (a member or operator); returns the plaintext, never stored."""
    if scope not in SCOPES:
        raise InvalidInputError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if not name or len(name) > 64:
        raise InvalidInputError("a key's name is 1 to 64 characters")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        session.add(BureauApiKey(name=name, key_hash=hash_key(api_key), scope=scope))
    return api_key


def revoke_keys(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        keys = session.exec(select(BureauApiKey).where(BureauApiKey.name == name,
                                                       BureauApiKey.revoked_at.is_(None))).all()
        for key in keys:
            key.revoked_at = utcnow()
            session.add(key)
    return len(keys)


def authenticate(engine: Engine, api_key: str | None, scope: str) -> BureauApiKey:
    """The key's row if it is live and allows ``scope``; raises 401 or 403 otherwise."""
    if not api_key:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    with Session(engine) as session:
        row = session.exec(select(BureauApiKey).where(BureauApiKey.key_hash == hash_key(api_key))).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API key")
    if scope == WRITE_SCOPE and row.scope != WRITE_SCOPE:
        raise ForbiddenError(f"key {row.name!r} may only read; publishing batches needs a write key")
    return row
