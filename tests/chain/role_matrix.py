"""The role x function matrix: how every state-changing platform function refuses an outsider.

``test_role_matrix.py`` walks the ABIs of every deployable contract of ``contracts/`` and looks
each non-view function up in ``DENIALS``. A function without a row fails the suite, and so
does a row without a function, so the table always describes the contracts as they are.

Adding a contract: deploy it in ``chain.deploy.platform_specs`` and add one row per function,
usually ``"NewContract.doThing": guarded(Role.SCORER)``. The outsider calls each function with
arguments generated from the ABI (``dummy_args``); pass ``args=`` to a row when the denial
needs particular arguments to be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chain.roles import Role

OUTSIDER = "<outsider>"  # stands for the calling outsider's address in expected error args
DUMMY_ADDRESS = "0x00000000000000000000000000000000000000A1"  # checksummed


@dataclass(frozen=True)
class Denial:
    """The custom error an outsider gets, its expected args, and optional call arguments."""

    error: str
    expected_args: tuple[Any, ...] | None = None  # None: the name alone is checked
    args: Callable[[dict], tuple] | None = None  # from the ABI entry; default: dummy_args

    def expected(self, outsider: str) -> tuple[Any, ...] | None:
        if self.expected_args is None:
            return None
        return tuple(outsider if value == OUTSIDER else value for value in self.expected_args)


def guarded(role: Role) -> Denial:
    """A ``ConsortiumGuarded`` write gated by ``role``."""
    return Denial("ConsortiumGuardedUnauthorizedAccount", (OUTSIDER, bytes(role)))


def member_registry(error: str, *args: Any) -> Denial:
    return Denial(f"MemberRegistry{error}", args)


DENIALS: dict[str, Denial] = {
    # MemberRegistry: governance is for governors, bootstrap for the deployer, roles never direct.
    "MemberRegistry.bootstrap": member_registry("NotBootstrapper", OUTSIDER),
    "MemberRegistry.proposeAdmit": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposeRemove": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposeGrantRole": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposeRevokeRole": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposeSetQuorum": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposePause": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.proposeUnpause": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.approve": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.execute": member_registry("NotGovernor", OUTSIDER),
    "MemberRegistry.grantRole": member_registry("DirectRoleChangeDisabled"),
    "MemberRegistry.revokeRole": member_registry("DirectRoleChangeDisabled"),
    "MemberRegistry.renounceRole": member_registry("DirectRoleChangeDisabled"),
    # CreditRegistry
    "CreditRegistry.commitBatch": guarded(Role.CREDIT_BUREAU),
    # ModelRegistry
    "ModelRegistry.registerModel": guarded(Role.SCORER),
    "ModelRegistry.retireModel": guarded(Role.SCORER),
    # ScoreRegistry
    "ScoreRegistry.submitScoreBatch": guarded(Role.SCORER),
    "ScoreRegistry.submitScoreBatchWithScores": guarded(Role.SCORER),
    # AssetPack
    "AssetPack.submitPack": guarded(Role.FINANCIER),
    "AssetPack.recordCreditCheck": guarded(Role.SCORER),
    "AssetPack.recordScores": guarded(Role.SCORER),
    "AssetPack.recordGrade": guarded(Role.SCORER),
    "AssetPack.recordFilter": guarded(Role.SCORER),
    "AssetPack.commitPack": guarded(Role.FINANCIER),
    "AssetPack.markIssued": guarded(Role.EXCHANGE),
    "AssetPack.startMonitoring": guarded(Role.SCORER),
    # CollateralRegistry: financiers pledge, gateways report, the risk service (SCORER) warns and
    # freezes, an auditor records review outcomes.
    "CollateralRegistry.registerCollateral": guarded(Role.FINANCIER),
    "CollateralRegistry.linkLoan": guarded(Role.FINANCIER),
    "CollateralRegistry.registerDevice": guarded(Role.IOT_GATEWAY),
    "CollateralRegistry.revokeDevice": guarded(Role.IOT_GATEWAY),
    "CollateralRegistry.anchorEvents": guarded(Role.IOT_GATEWAY),
    "CollateralRegistry.raiseWarning": guarded(Role.SCORER),
    "CollateralRegistry.freezeCredit": guarded(Role.SCORER),
    "CollateralRegistry.recordReview": guarded(Role.AUDITOR),
    # Issuance: financiers register products, the exchange whitelists, lists, mints, freezes and
    # records distributions. The deployed TrancheToken is the template clones are made from: it
    # refuses initialisation to anyone, and its ERC-20 writes refuse whoever is not eligible.
    "InvestorRegistry.whitelistInvestor": guarded(Role.EXCHANGE),
    "InvestorRegistry.removeInvestor": guarded(Role.EXCHANGE),
    "ProductRegistry.registerProduct": guarded(Role.FINANCIER),
    "ProductRegistry.listProduct": guarded(Role.EXCHANGE),
    "ProductRegistry.recordDistribution": guarded(Role.EXCHANGE),
    "TrancheToken.initialize": Denial("TrancheTokenAlreadyInitialized", ()),
    "TrancheToken.mintAllocation": guarded(Role.EXCHANGE),
    "TrancheToken.forcedTransfer": guarded(Role.EXCHANGE),
    "TrancheToken.setAccountFrozen": guarded(Role.EXCHANGE),
    "TrancheToken.setFrozenAmount": guarded(Role.EXCHANGE),
    "TrancheToken.approve": Denial("TrancheTokenNotEligible", (OUTSIDER, 1)),  # 1: NotInvestor
    "TrancheToken.transfer": Denial("TrancheTokenNotEligible", (DUMMY_ADDRESS, 1)),
    "TrancheToken.transferFrom": Denial("ERC20InsufficientAllowance", (OUTSIDER, 0, 1)),
    # Monitoring: the platform's monitoring service (SCORER) records cycles, triggers, measures
    # and replacements.
    "PackMonitor.recordCycle": guarded(Role.SCORER),
    "PackMonitor.recordTrigger": guarded(Role.SCORER),
    "PackMonitor.openMeasure": guarded(Role.SCORER),
    "PackMonitor.setMeasureStatus": guarded(Role.SCORER),
    "PackMonitor.recordReplacement": guarded(Role.SCORER),
    # Audit: only an AUDITOR key submits (and the signature must be an AUDITOR member's too).
    "AttestationRegistry.attest": guarded(Role.AUDITOR),
}


def is_state_changing(entry: dict) -> bool:
    """Every function but views: ``pure`` ones count, as they may be disabled writes."""
    return entry.get("type") == "function" and entry.get("stateMutability") != "view"


def function_key(contract: str, entry: dict) -> str:
    return f"{contract}.{entry['name']}"


def dummy_value(abi_input: dict) -> Any:
    """A well-formed, non-zero value of the input's ABI type."""
    abi_type: str = abi_input["type"]
    if abi_type.endswith("]"):
        element = {**abi_input, "type": abi_type[: abi_type.rindex("[")]}
        size = abi_type[abi_type.rindex("[") + 1 : -1]
        return [dummy_value(element) for _ in range(int(size) if size else 1)]
    if abi_type == "tuple":
        return tuple(dummy_value(component) for component in abi_input["components"])
    if abi_type.startswith(("uint", "int")):
        return 1
    if abi_type == "address":
        return DUMMY_ADDRESS
    if abi_type == "bool":
        return True
    if abi_type == "string":
        return "x"
    if abi_type == "bytes":
        return b"\x01"
    if abi_type.startswith("bytes"):
        return b"\x01" * int(abi_type[5:])
    raise ValueError(f"no dummy value for ABI type {abi_type}")


def dummy_args(entry: dict) -> tuple:
    return tuple(dummy_value(i) for i in entry.get("inputs", ()))


def dummy_call(contract: Any, function_name: str) -> Any:
    """``contract.function_name(...)`` bound to ABI-generated arguments (one overload only)."""
    (entry,) = [e for e in contract.abi if e.get("type") == "function" and e["name"] == function_name]
    return contract.get_function_by_name(function_name)(*dummy_args(entry))
