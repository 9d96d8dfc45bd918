// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {Roles} from "./lib/Roles.sol";

/// @title AttestationRegistry
/// @notice Auditors' EIP-712 signed verdicts over a pack's root or a block range. Writes need the
/// AUDITOR role (the submitter) and a signature of an AUDITOR member (the auditor of record);
/// a statement is recorded once.
contract AttestationRegistry is ConsortiumGuarded, EIP712, IAttestationRegistry {
    bytes32 private constant STATEMENT_TYPEHASH = keccak256(
        "Statement(uint8 kind,uint256 packId,bytes32 root,uint64 fromBlock,uint64 toBlock,uint8 verdict,"
        "uint32 findings,bytes32 reportHash,uint256 nonce)"
    );

    uint256 private _count;
    mapping(uint256 attestationId => Attestation) private _attestations;
    mapping(bytes32 digest => uint256 attestationId) private _ofDigest;

    constructor(IMemberRegistry registry_) ConsortiumGuarded(registry_) EIP712("AttestationRegistry", "1") {}

    /// @inheritdoc IAttestationRegistry
    function attest(Statement calldata statement, bytes calldata signature)
        external
        onlyMember(Roles.AUDITOR)
        returns (uint256 attestationId)
    {
        _checkStatement(statement);
        bytes32 digest = statementDigest(statement);
        uint256 existing = _ofDigest[digest];
        if (existing != 0) revert AttestationRegistryAlreadyAttested(digest, existing);
        (address signer, ECDSA.RecoverError failure, bytes32 detail) = ECDSA.tryRecover(digest, signature);
        if (failure != ECDSA.RecoverError.NoError) revert AttestationRegistryInvalidSignature(uint8(failure), detail);
        if (!_memberRegistry().hasRole(Roles.AUDITOR, signer)) revert AttestationRegistrySignerNotAuditor(signer);
        attestationId = ++_count;
        _attestations[attestationId] = Attestation({
            statement: statement, auditor: signer, submitter: msg.sender, attestedAt: uint64(block.timestamp)
        });
        _ofDigest[digest] = attestationId;
        emit AttestationRecorded(attestationId, signer, statement.packId, statement, digest, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function attestation(uint256 attestationId) external view returns (Attestation memory) {
        if (attestationId == 0 || attestationId > _count) revert AttestationRegistryUnknownAttestation(attestationId);
        return _attestations[attestationId];
    }

    /// @inheritdoc IAttestationRegistry
    function attestationCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IAttestationRegistry
    function attestationOfDigest(bytes32 digest) external view returns (uint256) {
        return _ofDigest[digest];
    }

    /// @inheritdoc IAttestationRegistry
    function statementDigest(Statement calldata s) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    STATEMENT_TYPEHASH, s.kind, s.packId, s.root, s.fromBlock, s.toBlock, s.verdict, s.findings,
                    s.reportHash, s.nonce
                )
            )
        );
    }

    function _checkStatement(Statement calldata s) private view {
        if (s.kind == SubjectKind.PackRoot) {
            if (s.packId == 0 || s.root == bytes32(0) || s.fromBlock != 0 || s.toBlock != 0) {
                revert AttestationRegistryInvalidSubject(s.kind);
            }
        } else {
            if (s.packId != 0 || s.root != bytes32(0) || s.fromBlock > s.toBlock) {
                revert AttestationRegistryInvalidSubject(s.kind);
            }
            if (s.toBlock > block.number) revert AttestationRegistryFutureBlock(s.toBlock, block.number);
        }
        bool clean = s.verdict == Verdict.Clean;
        if (clean != (s.findings == 0)) revert AttestationRegistryVerdictMismatch(s.verdict, s.findings);
        if (s.reportHash == bytes32(0)) revert AttestationRegistryZeroReport();
    }
}
