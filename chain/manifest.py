"""The deployment manifest: the one file that says where the platform lives on a chain.

It records the chain id, the kind of endpoint, every contract (address, ABI hash, deploy
transaction and block), the first deploy block (where an auditor's event replay starts) and
the consortium's members with their roles. Everything else reads it; only
:mod:`chain.deploy` writes it. Saved as JSON, atomically, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_utils import is_address, to_checksum_address

from chain.errors import ManifestError, UnknownContractError
from chain.roles import Role

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ContractRecord:
    """One deployed contract."""

    name: str
    address: str
    abi_hash: str
    deploy_tx: str
    deploy_block: int

    def __post_init__(self) -> None:
        if not is_address(self.address):
            raise ManifestError(f"contract {self.name}: {self.address!r} is not an address")
        object.__setattr__(self, "address", to_checksum_address(self.address))


@dataclass(frozen=True)
class MemberRecord:
    """One consortium member as last seen on chain: its account and role names."""

    name: str
    address: str
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_address(self.address):
            raise ManifestError(f"member {self.name}: {self.address!r} is not an address")
        object.__setattr__(self, "address", to_checksum_address(self.address))
        try:
            names = tuple(Role.from_name(role).name for role in self.roles)
        except ValueError as exc:
            raise ManifestError(f"member {self.name}: {exc}") from None
        object.__setattr__(self, "roles", names)

    def has(self, role: Role) -> bool:
        return role.name in self.roles


@dataclass
class Manifest:
    """Where the platform lives on one chain."""

    chain_id: int
    rpc_kind: str
    deploy_block: int = 0
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    members: dict[str, MemberRecord] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    # ------------------------------------------------------------ lookups

    def contract(self, name: str) -> ContractRecord:
        try:
            return self.contracts[name]
        except KeyError:
            known = ", ".join(sorted(self.contracts)) or "none"
            raise UnknownContractError(f"the manifest has no contract {name!r} (known: {known})") from None

    def member(self, name: str) -> MemberRecord:
        try:
            return self.members[name]
        except KeyError:
            raise ManifestError(f"the manifest has no member {name!r}") from None

    def member_at(self, address: str) -> MemberRecord | None:
        wanted = address.lower()
        return next((m for m in self.members.values() if m.address.lower() == wanted), None)

    def contract_at(self, address: str) -> ContractRecord | None:
        wanted = address.lower()
        return next((c for c in self.contracts.values() if c.address.lower() == wanted), None)

    # ------------------------------------------------------------ changes (chain.deploy only)

    def record_contract(self, record: ContractRecord) -> None:
        self.contracts[record.name] = record
        blocks = [c.deploy_block for c in self.contracts.values()]
        self.deploy_block = min(blocks)

    def record_member(self, record: MemberRecord) -> None:
        self.members[record.name] = record

    # ------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "chain_id": self.chain_id,
            "rpc_kind": self.rpc_kind,
            "deploy_block": self.deploy_block,
            "contracts": {name: asdict(c) for name, c in sorted(self.contracts.items())},
            "members": {
                name: {**asdict(m), "roles": list(m.roles)} for name, m in sorted(self.members.items())
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        try:
            version = int(data.get("version", MANIFEST_VERSION))
            if version != MANIFEST_VERSION:
                raise ManifestError(f"manifest version {version} is not supported ({MANIFEST_VERSION} is)")
            contracts = {name: ContractRecord(**c) for name, c in data.get("contracts", {}).items()}
            members = {
                name: MemberRecord(m["name"], m["address"], tuple(m.get("roles", ())))
                for name, m in data.get("members", {}).items()
            }
            return cls(
                chain_id=int(data["chain_id"]),
                rpc_kind=str(data["rpc_kind"]),
                deploy_block=int(data.get("deploy_block", 0)),
                contracts=contracts,
                members=members,
                version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ManifestError):
                raise
            raise ManifestError(f"malformed manifest: {exc!r}") from None

    @classmethod
    def load(cls, path: Path | str) -> Manifest:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ManifestError(f"no deployment manifest at {path}: deploy the platform first") from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read manifest {path}: {exc}") from None
        return cls.from_dict(data)

    def save(self, path: Path | str) -> None:
        """Write atomically: a temporary file in the same directory, then a rename."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(self.to_dict(), handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
