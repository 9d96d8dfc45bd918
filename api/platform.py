"""The platform as one process sees it: chain connection, deployment manifest, contract handles,
member keys and one Sender per member.

Every service (orchestrator, bureau, exchange, IoT) and every ``absctl`` command builds one
``Platform`` from ``Settings`` and asks it for what it needs; nothing else opens connections or
loads keys. Each member's Sender is made once and reused, so its nonce cache stays right when
one process sends for the same member from several threads.
"""

from __future__ import annotations

import threading
from functools import cached_property

from web3 import Web3
from web3.contract import Contract

from api.errors import ChainUnavailableError, NotFoundError
from api.settings import Settings, get_settings
from chain.backends import connect
from chain.contracts import PlatformContracts
from chain.keys import Keystore, MemberKeys
from chain.manifest import Manifest
from chain.roles import Role
from chain.sender import Sender


class ChainRoleSource:
    """A member's roles, as the MemberRegistry reports them now (see ``api.auth``)."""

    def __init__(self, registry: Contract) -> None:
        self._registry = registry

    def roles_of(self, address: str) -> frozenset[str]:
        role_ids = self._registry.functions.rolesOf(Web3.to_checksum_address(address)).call()
        return frozenset(Role.from_id(role_id).name for role_id in role_ids)


class Platform:
    """Lazily connected: nothing touches the chain or the keystore until first asked."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        w3: Web3 | None = None,
        manifest: Manifest | None = None,
        keys: MemberKeys | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._w3 = w3
        self._manifest = manifest
        self._keys = keys
        self._senders: dict[str, Sender] = {}
        self._lock = threading.Lock()

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            try:
                self._w3 = connect(self.settings.chain_url)
                self._w3.eth.chain_id  # noqa: B018  # fail here, with the URL, if nothing answers
            except Exception as exc:  # web3 raises many kinds for an unreachable node
                raise ChainUnavailableError(f"no chain answers at {self.settings.chain_url}: {exc}") from None
        return self._w3

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.load(self.settings.manifest_path)
        return self._manifest

    @property
    def keys(self) -> MemberKeys:
        if self._keys is None:
            self._keys = MemberKeys(Keystore(self.settings.keystore_dir))
        return self._keys

    @cached_property
    def contracts(self) -> PlatformContracts:
        return PlatformContracts(self.w3, self.manifest)

    def contract(self, name: str) -> Contract:
        return self.contracts[name]

    @cached_property
    def roles(self) -> ChainRoleSource:
        return ChainRoleSource(self.contracts.member_registry)

    def sender(self, member: str) -> Sender:
        """The Sender that signs for ``member`` with its own key (made once per process)."""
        with self._lock:
            if member not in self._senders:
                self._senders[member] = Sender(self.w3, self.keys.load(member).account, name=member)
            return self._senders[member]

    def member_with(self, role: Role) -> str:
        """The name of the first manifest member holding ``role`` (a process acting for a party)."""
        for name, record in sorted(self.manifest.members.items()):
            if record.has(role):
                return name
        raise NotFoundError(f"the manifest names no member with the role {role.name}")
