"""Compile path (b): py-solc-x's ``compile_standard`` through the node wrapper ``scripts/solc``.

The wrapper runs the pinned npm ``solc`` (soljson.js), so nothing downloads a compiler.
Source unit names, settings and compiler match Hardhat's (path (a)), which is what makes
the bytecode of the two paths byte-identical. Results are cached by a hash of the sources,
the settings and the compiler version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import solcx
from solcx.exceptions import SolcError

from chain.errors import CompilationError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
SOLC_WRAPPER = REPO_ROOT / "scripts" / "solc"
SETTINGS_FILE = CONTRACTS_DIR / "solc-settings.json"
CACHE_DIR = REPO_ROOT / "build" / "solc-cache"

OUTPUT_SELECTION = {
    "*": {
        "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"],
        "": ["ast"],
    }
}


@dataclass(frozen=True)
class ContractArtifact:
    """One compiled contract: its ABI and creation/runtime bytecode (0x-hex)."""

    name: str
    source: str
    abi: list[dict]
    bytecode: str
    deployed_bytecode: str

    @property
    def abi_hash(self) -> str:
        canonical = json.dumps(self.abi, sort_keys=True, separators=(",", ":"))
        return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


def project_sources(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, str]:
    """Every ``.sol`` under ``contracts/``, keyed by the unit name Hardhat gives it."""
    sources = {}
    for path in sorted(contracts_dir.rglob("*.sol")):
        unit = path.relative_to(REPO_ROOT).as_posix()
        sources[unit] = path.read_text()
    return sources


def _solc_settings() -> dict:
    return json.loads(SETTINGS_FILE.read_text())


def _openzeppelin_version() -> str:
    package = REPO_ROOT / "node_modules" / "@openzeppelin" / "contracts" / "package.json"
    if not package.exists():
        raise CompilationError("node_modules/@openzeppelin/contracts is missing: run `npm ci`")
    return json.loads(package.read_text())["version"]


def source_hash(sources: dict[str, str], settings: dict) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(_openzeppelin_version().encode())
    for unit in sorted(sources):
        digest.update(unit.encode() + b"\0" + sources[unit].encode() + b"\0")
    return digest.hexdigest()


def standard_json_input(sources: dict[str, str], settings: dict) -> dict:
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {**settings["settings"], "outputSelection": OUTPUT_SELECTION},
    }


def _artifacts_from_output(output: dict, sources: dict[str, str]) -> dict[str, ContractArtifact]:
    artifacts: dict[str, ContractArtifact] = {}
    for unit, contracts in output.get("contracts", {}).items():
        if unit not in sources:
            continue  # dependencies (OpenZeppelin) are not deployable artifacts of ours
        for name, data in contracts.items():
            if name in artifacts:
                raise CompilationError(f"contract name {name} is defined twice ({unit})")
            artifacts[name] = ContractArtifact(
                name=name,
                source=unit,
                abi=data["abi"],
                bytecode="0x" + data["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
            )
    return artifacts


def compile_contracts(
    contracts_dir: Path = CONTRACTS_DIR, cache_dir: Path | None = CACHE_DIR
) -> dict[str, ContractArtifact]:
    """Compile every project contract, or return the cached result for identical sources."""
    sources = project_sources(contracts_dir)
    if not sources:
        raise CompilationError(f"no Solidity sources under {contracts_dir}")
    settings = _solc_settings()
    key = source_hash(sources, settings)
    cached = cache_dir / f"{key}.json" if cache_dir else None
    if cached and cached.exists():
        output = json.loads(cached.read_text())
    else:
        try:
            output = solcx.compile_standard(
                standard_json_input(sources, settings),
                solc_binary=SOLC_WRAPPER,
                allow_paths=[str(REPO_ROOT)],
            )
        except SolcError as exc:
            raise CompilationError(str(exc)) from exc
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(json.dumps(output))
            tmp.replace(cached)  # atomic: a crash never leaves a half-written cache entry
    return _artifacts_from_output(output, sources)
