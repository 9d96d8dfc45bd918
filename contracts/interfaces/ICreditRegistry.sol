// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICreditRegistry
/// @notice The credit bureau's commitments: one Merkle root per batch of salted credit-record
/// hashes. Records themselves stay off chain; a salted hash cannot be brute-forced back to
/// low-entropy personal data.
interface ICreditRegistry {
    /// @notice A committed batch of credit records.
    struct CreditBatch {
        bytes32 root;
        uint32 recordCount;
        uint64 asOf;
        uint64 committedAt;
        address bureau;
    }

    /// @notice No batch has this id.
    error CreditRegistryUnknownBatch(uint256 batchId);
    /// @notice A batch needs a non-zero root and at least one record.
    error CreditRegistryEmptyBatch();
    /// @notice This root was committed before, as batch `batchId`.
    error CreditRegistryDuplicateRoot(bytes32 root, uint256 batchId);
    /// @notice The as-of time lies in the future.
    error CreditRegistryAsOfInFuture(uint64 asOf, uint64 nowTs);

    /// @notice A bureau committed a batch of salted credit-record hashes.
    event CreditBatchCommitted(
        uint256 indexed batchId, address indexed bureau, bytes32 root, uint32 recordCount, uint64 asOf
    );

    function commitBatch(bytes32 root, uint32 recordCount, uint64 asOf) external returns (uint256 batchId);
    function batch(uint256 batchId) external view returns (CreditBatch memory);
    function batchCount() external view returns (uint256);
    function batchOfRoot(bytes32 root) external view returns (uint256);
    function verifyRecord(uint256 batchId, bytes32 saltedRecordHash, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
