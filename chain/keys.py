"""Member keys: every consortium member signs with its own key, held locally, never by a node.

Two sources, tried in this order by :class:`MemberKeys`:

* the environment, for CI and containers: ``ABS_KEY_<NAME>`` = 0x-hex private key, where
  ``<NAME>`` is the member name upper-cased with ``-`` turned into ``_``;
* an encrypted keystore directory: one standard (Web3 Secret Storage v3) JSON file per member,
  ``<name>.json``, scrypt-encrypted with the password from ``ABS_KEYSTORE_PASSWORD`` unless one
  is passed in. Geth, Besu's ethsigner and MetaMask read these files as they are.

Private keys never appear in a message, a repr or a log line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from chain.errors import (
    InvalidMemberNameError,
    KeystoreError,
    MemberKeyExistsError,
    UnknownMemberKeyError,
)

PASSWORD_ENV = "ABS_KEYSTORE_PASSWORD"
SCRYPT_N_ENV = "ABS_KEYSTORE_SCRYPT_N"
KEY_ENV_PREFIX = "ABS_KEY_"
# Geth's "standard" scrypt cost (~1 s per key here). Tests pass a tiny cost instead.
DEFAULT_SCRYPT_N = 2**18

# Hyphens only (no underscores), so the name <-> environment variable mapping is one-to-one.
_MEMBER_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def validate_member_name(name: str) -> str:
    """Return ``name`` if it is lowercase letters and digits joined by single hyphens."""
    if not _MEMBER_NAME.fullmatch(name) or len(name) > 64:
        raise InvalidMemberNameError(
            f"member name {name!r} must be lowercase letters and digits joined by single hyphens"
        )
    return name


def env_var_for(name: str) -> str:
    """The environment variable that carries ``name``'s key: ``gov-a`` -> ``ABS_KEY_GOV_A``."""
    return KEY_ENV_PREFIX + validate_member_name(name).upper().replace("-", "_")


def account_from_hex(private_key: str, origin: str) -> LocalAccount:
    """An account from a 0x-hex key; errors name ``origin`` and never echo the key."""
    try:
        return Account.from_key(private_key.strip())
    except Exception:  # eth-keys raises several types, some quoting their input
        raise KeystoreError(f"{origin} does not hold a valid 32-byte hex private key") from None


@dataclass(frozen=True)
class MemberKey:
    """A member's name, address and signing account (excluded from repr and comparisons)."""

    name: str
    address: str
    account: LocalAccount = field(repr=False, compare=False)


class EnvironmentKeys:
    """Member keys from ``ABS_KEY_<NAME>`` variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def names(self) -> list[str]:
        found = []
        for variable in self._environ:
            if variable.startswith(KEY_ENV_PREFIX) and len(variable) > len(KEY_ENV_PREFIX):
                found.append(variable[len(KEY_ENV_PREFIX) :].lower().replace("_", "-"))
        return sorted(name for name in found if _MEMBER_NAME.fullmatch(name))

    def has(self, name: str) -> bool:
        return env_var_for(name) in self._environ

    def load(self, name: str) -> MemberKey:
        variable = env_var_for(name)
        if variable not in self._environ:
            raise UnknownMemberKeyError(f"no key for member {name!r}: {variable} is not set")
        account = account_from_hex(self._environ[variable], variable)
        return MemberKey(name, account.address, account)


class Keystore:
    """A directory of encrypted keystore files, one per member."""

    def __init__(
        self,
        directory: Path | str,
        password: str | None = None,
        scrypt_n: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._password = password
        self._scrypt_n = scrypt_n or int(os.environ.get(SCRYPT_N_ENV, DEFAULT_SCRYPT_N))
        if self._scrypt_n < 2 or self._scrypt_n & (self._scrypt_n - 1):
            raise KeystoreError(f"scrypt cost must be a power of two >= 2, got {self._scrypt_n}")

    def __repr__(self) -> str:
        return f"Keystore({str(self.directory)!r})"

    def path_for(self, name: str) -> Path:
        return self.directory / f"{validate_member_name(name)}.json"

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if _MEMBER_NAME.fullmatch(p.stem))

    def has(self, name: str) -> bool:
        return self.path_for(name).exists()

    def address_of(self, name: str) -> str:
        """The member's address, read from the file without decrypting it."""
        return to_checksum_address(self._read(name)["address"])

    def addresses(self) -> dict[str, str]:
        """Every member name and address, without decrypting anything."""
        return {name: self.address_of(name) for name in self.names()}

    def generate(self, name: str) -> MemberKey:
        """Create a fresh key for ``name`` and store it encrypted; refuses to overwrite."""
        path = self.path_for(name)
        if path.exists():
            raise MemberKeyExistsError(f"keystore {self.directory} already holds a key for {name!r}")
        return self._store(path, name, Account.create())

    def import_key(self, name: str, private_key: str) -> MemberKey:
        """Store an existing key (e.g. a validator operator's) for ``name``; refuses to overwrite."""
        path = self.path_for(name)
        if path.exists():
            raise MemberKeyExistsError(f"keystore {self.directory} already holds a key for {name!r}")
        return self._store(path, name, account_from_hex(private_key, f"the key given for {name!r}"))

    def load(self, name: str) -> MemberKey:
        """Decrypt ``name``'s key."""
        document = self._read(name)
        try:
            private_key = Account.decrypt(document, self._require_password())
        except ValueError:
            raise KeystoreError(f"cannot decrypt the key of {name!r}: wrong keystore password?") from None
        account = Account.from_key(private_key)
        if account.address.lower() != "0x" + document["address"].lower().removeprefix("0x"):
            raise KeystoreError(f"keystore file of {name!r} names another address than its key")
        return MemberKey(name, account.address, account)

    def _require_password(self) -> str:
        password = self._password if self._password is not None else os.environ.get(PASSWORD_ENV)
        if not password:
            raise KeystoreError(f"no keystore password: pass one or set {PASSWORD_ENV}")
        return password

    def _read(self, name: str) -> dict:
        path = self.path_for(name)
        if not path.exists():
            raise UnknownMemberKeyError(f"no key for member {name!r} in keystore {self.directory}")
        try:
            document = json.loads(path.read_text())
            document["address"]  # noqa: B018  # a v3 file always names its address
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeystoreError(f"keystore file {path} is unreadable: {exc}") from None
        return document

    def _store(self, path: Path, name: str, account: LocalAccount) -> MemberKey:
        password = self._require_password()
        document = Account.encrypt(account.key, password, kdf="scrypt", iterations=self._scrypt_n)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        # Owner-only from the first byte: the file is encrypted, but it is still a key.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle)
        os.replace(tmp, path)
        return MemberKey(name, account.address, account)


class MemberKeys:
    """Member keys from the environment first, then the keystore (if any)."""

    def __init__(self, keystore: Keystore | None = None, environment: EnvironmentKeys | None = None) -> None:
        self.keystore = keystore
        self.environment = environment or EnvironmentKeys()

    def names(self) -> list[str]:
        stored = self.keystore.names() if self.keystore else []
        return sorted(set(stored) | set(self.environment.names()))

    def load(self, name: str) -> MemberKey:
        if self.environment.has(name):
            return self.environment.load(name)
        if self.keystore is not None:
            return self.keystore.load(name)
        raise UnknownMemberKeyError(f"no key for member {name!r}: set {env_var_for(name)} or use a keystore")

    def generate(self, name: str) -> MemberKey:
        if self.keystore is None:
            raise KeystoreError("keys can only be generated into a keystore directory")
        if self.environment.has(name):
            raise MemberKeyExistsError(f"{env_var_for(name)} already provides a key for {name!r}")
        return self.keystore.generate(name)

    def ensure(self, name: str) -> MemberKey:
        """``name``'s key, generated into the keystore on first use."""
        if self.environment.has(name) or (self.keystore is not None and self.keystore.has(name)):
            return self.load(name)
        return self.generate(name)
