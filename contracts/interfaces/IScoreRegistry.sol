// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IScoreRegistry
/// @notice Score batches: one transaction per batch, never per asset. A batch is a Merkle root
/// over (asset id, score, level, model id) leaves; small batches also carry the scores themselves.
interface IScoreRegistry {
    /// @notice A committed score batch. Cycle 0 is the issuance scoring of a pack; cycles 1.. are
    /// the monthly rescoring of monitoring.
    struct ScoreBatch {
        uint256 packId;
        uint32 cycle;
        uint256 modelId;
        bytes32 root;
        uint32 assetCount;
        uint64 committedAt;
        address scorer;
        bool individualScores;
    }

    /// @notice No batch has this id.
    error ScoreRegistryUnknownBatch(uint256 batchId);
    /// @notice The pack already has a score batch for this cycle.
    error ScoreRegistryDuplicateBatch(uint256 packId, uint32 cycle, uint256 batchId);
    /// @notice A batch needs a non-zero root and at least one asset.
    error ScoreRegistryEmptyBatch();
    /// @notice The model is unknown or retired.
    error ScoreRegistryModelInactive(uint256 modelId);
    /// @notice Individual scores are written only for batches of at most `max` assets.
    error ScoreRegistryTooManyScores(uint256 count, uint256 max);
    /// @notice Asset ids and scores differ in length, or do not match the batch's asset count.
    error ScoreRegistryLengthMismatch(uint256 assetIds, uint256 scores, uint32 assetCount);
    /// @notice A score must lie in 1..100.
    error ScoreRegistryScoreOutOfRange(bytes32 assetId, uint8 score);
    /// @notice An asset id appears twice in one batch.
    error ScoreRegistryDuplicateAsset(bytes32 assetId);

    /// @notice A scorer committed a batch of scores.
    event ScoreBatchCommitted(
        uint256 indexed batchId, uint256 indexed packId, uint32 cycle, uint256 indexed modelId, bytes32 root,
        uint32 assetCount
    );

    function submitScoreBatch(uint256 packId, uint32 cycle, uint256 modelId, bytes32 root, uint32 assetCount)
        external
        returns (uint256 batchId);
    function submitScoreBatchWithScores(
        uint256 packId,
        uint32 cycle,
        uint256 modelId,
        bytes32 root,
        bytes32[] calldata assetIds,
        uint8[] calldata scores
    ) external returns (uint256 batchId);
    function batch(uint256 batchId) external view returns (ScoreBatch memory);
    function batchCount() external view returns (uint256);
    function batchOf(uint256 packId, uint32 cycle) external view returns (uint256);
    function scoreOf(uint256 batchId, bytes32 assetId) external view returns (bool known, uint8 score, uint8 level);
    function verifyScore(uint256 batchId, bytes32 assetId, uint8 score, uint8 level, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
