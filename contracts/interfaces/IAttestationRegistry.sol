// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAttestationRegistry
/// @notice Auditors' signed verdicts (DESIGN step 10): an AUDITOR member signs, with EIP-712, a
/// statement over a pack's committed root or over a block range of the whole platform, and the
/// statement is recorded here. The signature, not the sender, names the auditor, so another
/// AUDITOR key (a relayer of the same firm) may submit it; each signed statement counts once.
interface IAttestationRegistry {
    /// @notice What a statement is about: one pack's committed kept root, or every event in a block range.
    enum SubjectKind {
        PackRoot,
        BlockRange
    }

    /// @notice The auditor's conclusion: no finding, or at least one.
    enum Verdict {
        Clean,
        Findings
    }

    /// @notice The signed statement (EIP-712 type `Statement`). For PackRoot: `packId` and `root`
    /// set, blocks 0. For BlockRange: `packId` 0 and `root` 0, `fromBlock <= toBlock`.
    /// `reportHash` is keccak256 of the auditor's JSON report; `nonce` lets an auditor attest the
    /// same subject again later (re-audit) while an identical statement stays a replay.
    struct Statement {
        SubjectKind kind;
        uint256 packId;
        bytes32 root;
        uint64 fromBlock;
        uint64 toBlock;
        Verdict verdict;
        uint32 findings;
        bytes32 reportHash;
        uint256 nonce;
    }

    /// @notice A recorded statement with who signed it, who submitted it, and when.
    struct Attestation {
        Statement statement;
        address auditor;
        address submitter;
        uint64 attestedAt;
    }

    /// @notice No attestation has this id.
    error AttestationRegistryUnknownAttestation(uint256 attestationId);
    /// @notice The signature does not recover to any address: `reason` is OpenZeppelin's
    /// `ECDSA.RecoverError` (1 invalid, 2 bad length, 3 high s) and `detail` its argument.
    error AttestationRegistryInvalidSignature(uint8 reason, bytes32 detail);
    /// @notice The statement was signed by `signer`, which is not an AUDITOR member.
    error AttestationRegistrySignerNotAuditor(address signer);
    /// @notice This very statement was recorded before, as attestation `attestationId`.
    error AttestationRegistryAlreadyAttested(bytes32 digest, uint256 attestationId);
    /// @notice The subject fields do not fit the subject kind (see `Statement`).
    error AttestationRegistryInvalidSubject(SubjectKind kind);
    /// @notice The range ends after the current block: an auditor attests only what it could read.
    error AttestationRegistryFutureBlock(uint64 toBlock, uint256 currentBlock);
    /// @notice A Clean verdict needs 0 findings, a Findings verdict at least one.
    error AttestationRegistryVerdictMismatch(Verdict verdict, uint32 findings);
    /// @notice A statement needs the hash of the report it summarises.
    error AttestationRegistryZeroReport();

    /// @notice Auditor `auditor` attested statement `digest`, submitted by `submitter`.
    event AttestationRecorded(
        uint256 indexed attestationId, address indexed auditor, uint256 indexed packId, Statement statement,
        bytes32 digest, address submitter
    );

    /// @notice Record `statement`, signed (EIP-712) by an AUDITOR member; returns its id.
    function attest(Statement calldata statement, bytes calldata signature) external returns (uint256 attestationId);

    function attestation(uint256 attestationId) external view returns (Attestation memory);
    function attestationCount() external view returns (uint256);
    /// @notice The attestation recorded for an EIP-712 digest; 0 if none.
    function attestationOfDigest(bytes32 digest) external view returns (uint256);
    /// @notice The EIP-712 digest an auditor signs for `statement` (this contract's domain).
    function statementDigest(Statement calldata statement) external view returns (bytes32);
}
