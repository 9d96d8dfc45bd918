"""Auditors' attestations: an EIP-712 ``Statement`` over a pack root or a block range, signed
with the AUDITOR's key (accounts sign) and recorded in ``AttestationRegistry`` by any AUDITOR
sender (providers send), then read back as plain records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.logs import DISCARD

from chain.audit.handlers import hex32
from chain.leaves import from_hex32
from chain.sender import Sender

DOMAIN_NAME, DOMAIN_VERSION = "AttestationRegistry", "1"
ZERO32 = "0x" + "00" * 32
STATEMENT_TYPES = {
    "Statement": [
        {"name": "kind", "type": "uint8"}, {"name": "packId", "type": "uint256"}, {"name": "root", "type": "bytes32"},
        {"name": "fromBlock", "type": "uint64"}, {"name": "toBlock", "type": "uint64"},
        {"name": "verdict", "type": "uint8"}, {"name": "findings", "type": "uint32"},
        {"name": "reportHash", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
    ],
}


class SubjectKind(IntEnum):
    PACK_ROOT = 0
    BLOCK_RANGE = 1


class Verdict(IntEnum):
    CLEAN = 0
    FINDINGS = 1


@dataclass(frozen=True)
class Statement:
    kind: SubjectKind
    pack_id: int
    root: str
    from_block: int
    to_block: int
    findings: int
    report_hash: str
    nonce: int

    @property
    def verdict(self) -> Verdict:
        return Verdict.CLEAN if self.findings == 0 else Verdict.FINDINGS

    @classmethod
    def over_pack(cls, pack_id: int, root: str, findings: int, report_hash: str, nonce: int) -> Statement:
        return cls(SubjectKind.PACK_ROOT, pack_id, root, 0, 0, findings, report_hash, nonce)

    @classmethod
    def over_blocks(cls, from_block: int, to_block: int, findings: int, report_hash: str, nonce: int) -> Statement:
        return cls(SubjectKind.BLOCK_RANGE, 0, ZERO32, from_block, to_block, findings, report_hash, nonce)

    def message(self) -> dict[str, Any]:
        return {"kind": int(self.kind), "packId": self.pack_id, "root": from_hex32(self.root),
                "fromBlock": self.from_block, "toBlock": self.to_block, "verdict": int(self.verdict),
                "findings": self.findings, "reportHash": from_hex32(self.report_hash), "nonce": self.nonce}

    def as_tuple(self) -> tuple:
        m = self.message()
        return tuple(m[item["name"]] for item in STATEMENT_TYPES["Statement"])


def typed_data(statement: Statement, chain_id: int, registry_address: str) -> dict[str, Any]:
    """The full EIP-712 message the auditor signs (domain of the deployed registry)."""
    return {
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"},
                                   {"name": "verifyingContract", "type": "address"}], **STATEMENT_TYPES},
        "primaryType": "Statement",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": registry_address},
        "message": statement.message(),
    }


def sign_statement(account: LocalAccount, statement: Statement, chain_id: int, registry_address: str) -> bytes:
    signed = account.sign_message(encode_typed_data(full_message=typed_data(statement, chain_id, registry_address)))
    return bytes(signed.signature)


def record_attestation(sender: Sender, registry: Contract, statement: Statement, signature: bytes) -> int:
    """Send ``attest`` from ``sender`` (an AUDITOR key); returns the new attestation id."""
    receipt = sender.transact(registry.functions.attest(statement.as_tuple(), signature))
    (event,) = registry.events.AttestationRecorded().process_receipt(receipt, errors=DISCARD)
    return int(event["args"]["attestationId"])


def attest(sender: Sender, signer: LocalAccount, registry: Contract, statement: Statement) -> int:
    """Sign with ``signer`` and record through ``sender`` (the same key, or a relaying AUDITOR key)."""
    signature = sign_statement(signer, statement, sender.w3.eth.chain_id, registry.address)
    return record_attestation(sender, registry, statement, signature)


@dataclass(frozen=True)
class AttestationView:
    attestation_id: int
    subject: str  # pack_root | block_range
    pack_id: int
    root: str
    from_block: int
    to_block: int
    verdict: str  # clean | findings
    findings: int
    report_hash: str
    nonce: int
    auditor: str
    submitter: str
    attested_at: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_attestations(registry: Contract, pack_id: int | None = None) -> list[AttestationView]:
    """Every recorded attestation (optionally only those over ``pack_id``), oldest first."""
    views = []
    for attestation_id in range(1, registry.functions.attestationCount().call() + 1):
        s, auditor, submitter, attested_at = registry.functions.attestation(attestation_id).call()
        if pack_id is not None and s[1] != pack_id:
            continue
        views.append(AttestationView(
            attestation_id, SubjectKind(s[0]).name.lower(), s[1], hex32(s[2]), s[3], s[4], Verdict(s[5]).name.lower(),
            s[6], hex32(s[7]), s[8], auditor, submitter, attested_at))
    return views
