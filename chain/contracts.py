"""Web3 contract handles for the contracts a manifest names.

A handle pairs the manifest's address with the ABI of the artifact compiled from this
repository, after checking that the two still agree (same ABI hash, code at the address), so a
stale manifest fails loudly instead of decoding garbage.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from web3 import Web3
from web3.contract import Contract

from chain.compile import ContractArtifact, compile_contracts
from chain.errors import ManifestError
from chain.manifest import Manifest

MEMBER_REGISTRY = "MemberRegistry"


@lru_cache(maxsize=1)
def _compiled_platform() -> dict[str, ContractArtifact]:
    return compile_contracts()


def platform_artifacts() -> dict[str, ContractArtifact]:
    """The artifacts of ``contracts/`` (compiled once per process, cached on disk by source hash)."""
    return dict(_compiled_platform())


def contract_handle(
    w3: Web3,
    manifest: Manifest,
    name: str,
    *,
    artifacts: Mapping[str, Any] | None = None,
    check_code: bool = True,
) -> Contract:
    """A Web3 contract for ``name`` at the manifest's address with the artifact's ABI."""
    record = manifest.contract(name)
    artifacts = artifacts if artifacts is not None else platform_artifacts()
    artifact = artifacts.get(name)
    if artifact is None:
        raise ManifestError(f"the manifest names {name}, but no compiled artifact has that name")
    if artifact.abi_hash != record.abi_hash:
        raise ManifestError(
            f"{name}: the manifest's ABI hash {record.abi_hash} differs from the compiled "
            f"{artifact.abi_hash}; redeploy or use the sources the manifest was made from"
        )
    if check_code and w3.eth.get_code(record.address) in (b"", None):
        raise ManifestError(f"{name}: no code at {record.address} on this chain (wrong chain or reset node?)")
    return w3.eth.contract(address=record.address, abi=artifact.abi)


class PlatformContracts:
    """Every handle of one manifest, made on first use: ``platform["AssetPack"]``."""

    def __init__(self, w3: Web3, manifest: Manifest, artifacts: Mapping[str, Any] | None = None) -> None:
        if w3.eth.chain_id != manifest.chain_id:
            served = w3.eth.chain_id
            raise ManifestError(f"the manifest is for chain {manifest.chain_id}, the endpoint serves {served}")
        self.w3 = w3
        self.manifest = manifest
        self._artifacts = artifacts
        self._handles: dict[str, Contract] = {}

    def __getitem__(self, name: str) -> Contract:
        if name not in self._handles:
            self._handles[name] = contract_handle(self.w3, self.manifest, name, artifacts=self._artifacts)
        return self._handles[name]

    def __contains__(self, name: str) -> bool:
        return name in self.manifest.contracts

    def names(self) -> list[str]:
        return sorted(self.manifest.contracts)

    @property
    def member_registry(self) -> Contract:
        return self[MEMBER_REGISTRY]
