"""The test consortium: a deployed platform with one member per role, on any backend.

Used by the fixtures of ``tests/conftest.py`` (Hardhat) and ``tests/chain/conftest.py``
(embedded). Member keys are derived from the member's name, so addresses are the same in
every run; they are test keys, never used for anything real.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from chain.contracts import PlatformContracts
from chain.deploy import Seat, deploy_platform, platform_specs, seat_consortium
from chain.manifest import Manifest
from chain.roles import Role
from chain.sender import Sender

GOVERNORS = ("gov-a", "gov-b", "gov-c")
QUORUM = 2
MEMBER_ROLES: dict[str, tuple[Role, ...]] = {
    "gov-a": (Role.GOVERNOR,),
    "gov-b": (Role.GOVERNOR,),
    "gov-c": (Role.GOVERNOR,),
    "financier": (Role.FINANCIER,),
    "bureau": (Role.CREDIT_BUREAU,),
    "scorer": (Role.SCORER,),
    "exchange": (Role.EXCHANGE,),
    "investor": (Role.INVESTOR,),
    "iot-gateway": (Role.IOT_GATEWAY,),
    "auditor": (Role.AUDITOR,),
}
BOOTSTRAPPED = (*GOVERNORS, "financier")  # the rest is admitted through governance
PROPOSAL_LIFETIME = 24 * 3600


def account_for(name: str) -> LocalAccount:
    """A test key derived from ``name``: stable addresses across runs, never used for real."""
    return Account.from_key(keccak(b"abs-risk-platform test key:" + name.encode()))


@dataclass
class Consortium:
    """A deployed platform with a seated consortium and a sender for every party.

    ``senders`` holds ``deployer`` (the bootstrapper), every member of ``MEMBER_ROLES`` and
    ``outsider`` (no membership at all).
    """

    w3: Web3
    manifest: Manifest
    contracts: PlatformContracts
    senders: dict[str, Sender] = field(default_factory=dict)

    def sender(self, name: str) -> Sender:
        return self.senders[name]

    def address(self, name: str) -> str:
        return self.senders[name].address

    @property
    def registry(self) -> Contract:
        return self.contracts.member_registry

    @property
    def governors(self) -> list[Sender]:
        return [self.senders[name] for name in GOVERNORS]

    @property
    def outsider(self) -> Sender:
        return self.senders["outsider"]

    def contract(self, name: str) -> Contract:
        return self.contracts[name]

    def resync(self) -> None:
        """Forget cached nonces (after a snapshot revert rewound the chain)."""
        for sender in self.senders.values():
            sender.resync_nonce()


def build_consortium(w3: Web3, *, proposal_lifetime: int = PROPOSAL_LIFETIME) -> Consortium:
    """Deploy the platform on ``w3`` and seat the test consortium (2-of-3 governors)."""
    names = ["deployer", *MEMBER_ROLES, "outsider"]
    senders = {name: Sender(w3, account_for(name), name=name) for name in names}
    manifest = deploy_platform(w3, senders["deployer"], platform_specs(proposal_lifetime))
    seats = {name: Seat(name, senders[name].address, roles) for name, roles in MEMBER_ROLES.items()}
    seat_consortium(
        manifest,
        senders["deployer"],
        [seats[name] for name in BOOTSTRAPPED],
        QUORUM,
        admissions=[seat for name, seat in seats.items() if name not in BOOTSTRAPPED],
        governors=[senders[name] for name in GOVERNORS],
    )
    return Consortium(w3, manifest, PlatformContracts(w3, manifest), senders)
