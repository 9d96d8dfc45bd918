"""The consortium's eight roles, identified on chain by ``keccak256(bytes(name))``.

The same derivation as ``contracts/lib/Roles.sol``, so no lookup table has to be kept in sync.
"""

from __future__ import annotations

from enum import Enum

from eth_utils import keccak


class Role(bytes, Enum):
    """A role; its value is the bytes32 identifier the contracts use."""

    GOVERNOR = keccak(b"GOVERNOR")
    FINANCIER = keccak(b"FINANCIER")
    CREDIT_BUREAU = keccak(b"CREDIT_BUREAU")
    SCORER = keccak(b"SCORER")
    EXCHANGE = keccak(b"EXCHANGE")
    INVESTOR = keccak(b"INVESTOR")
    IOT_GATEWAY = keccak(b"IOT_GATEWAY")
    AUDITOR = keccak(b"AUDITOR")

    @property
    def id_hex(self) -> str:
        """The identifier as 0x-hex, as JSON files and explorers show it."""
        return "0x" + bytes(self).hex()

    @classmethod
    def from_id(cls, role_id: bytes | str) -> Role:
        """The role whose identifier is ``role_id`` (bytes32 or 0x-hex); ``ValueError`` if none."""
        raw = bytes.fromhex(role_id.removeprefix("0x")) if isinstance(role_id, str) else bytes(role_id)
        try:
            return cls(raw)
        except ValueError:
            raise ValueError(f"0x{raw.hex()} is not a consortium role") from None

    @classmethod
    def from_name(cls, name: str) -> Role:
        """The role named ``name`` (case-insensitive, ``-`` or ``_``); ``ValueError`` if none."""
        try:
            return cls[name.strip().upper().replace("-", "_")]
        except KeyError:
            raise ValueError(f"{name!r} is not a consortium role") from None
