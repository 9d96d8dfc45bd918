// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAssetPack
/// @notice The life of every asset pack as an on-chain state machine:
/// Submitted -> CreditChecked -> Scored -> Graded -> Filtered -> Committed (-> Issued -> Monitoring -> Closed).
/// Each step stores its result here, so the pack's history is provable from the chain alone.
interface IAssetPack {
    enum PackState {
        None,
        Submitted,
        CreditChecked,
        Scored,
        Graded,
        Filtered,
        Committed,
        Issued,
        Monitoring,
        Closed
    }

    /// @notice How the pack was filtered: remove the riskiest of the whole pack, or cut inside every level.
    enum FilterMode {
        Global,
        PerLevel
    }

    /// @notice Whether level weights are shares of the asset count or of the outstanding balance.
    enum WeightBy {
        Count,
        Balance
    }

    struct Pack {
        address financier;
        bytes32 submissionKey;
        bytes32 assetsRoot;
        uint32 assetCount;
        uint128 totalBalance;
        uint32 expectedBadRatePpm;
        PackState state;
        uint64 submittedAt;
        uint64 updatedAt;
    }

    struct CreditCheck {
        bytes32 excludedRoot;
        uint32 eligibleCount;
        uint32 excludedCount;
        uint256 creditBatchId;
    }

    struct Grade {
        uint256 scoreBatchId;
        uint256 modelId;
        uint32[10] levelCounts;
        uint128[10] levelBalances;
        uint32 badRateByCountPpm;
        uint32 badRateByBalancePpm;
    }

    struct FilterResult {
        FilterMode mode;
        WeightBy weightBy;
        bytes32 keptRoot;
        bytes32 removedRoot;
        uint32 keptCount;
        uint32 removedCount;
        uint128 keptBalance;
        uint128 removedBalance;
        uint32 badRateBeforePpm;
        uint32 badRateAfterPpm;
    }

    /// @notice No pack has this id.
    error AssetPackUnknownPack(uint256 packId);
    /// @notice The pack is in `actual`, and this step needs `expected`.
    error AssetPackWrongState(uint256 packId, PackState actual, PackState expected);
    /// @notice A pack was already submitted under this key, as pack `packId`.
    error AssetPackDuplicateSubmission(bytes32 submissionKey, uint256 packId);
    /// @notice A pack needs a non-zero root, at least one asset and a positive balance.
    error AssetPackEmptyPack();
    /// @notice A rate in ppm must lie in 0..1e6.
    error AssetPackRateOutOfRange(uint32 ratePpm);
    /// @notice Only the financier that submitted the pack may do this.
    error AssetPackNotFinancier(uint256 packId, address caller);
    /// @notice Counts or balances of a step do not add up to those of the step before.
    error AssetPackTotalsMismatch(uint256 packId, uint256 expected, uint256 actual);
    /// @notice The score batch does not belong to this pack's issuance scoring.
    error AssetPackScoreBatchMismatch(uint256 packId, uint256 scoreBatchId);
    /// @notice The filtered bad rate still exceeds the expected bad rate.
    error AssetPackTargetMissed(uint256 packId, uint32 badRateAfterPpm, uint32 expectedBadRatePpm);
    /// @notice The credit batch is not committed in the credit registry.
    error AssetPackUnknownCreditBatch(uint256 creditBatchId);
    /// @notice A pack is issued as a product, and product ids start at 1.
    error AssetPackZeroProduct();

    event PackSubmitted(
        uint256 indexed packId, address indexed financier, bytes32 submissionKey, bytes32 assetsRoot,
        uint32 assetCount, uint128 totalBalance, uint32 expectedBadRatePpm
    );
    event PackStateChanged(uint256 indexed packId, PackState previous, PackState current);
    event PackCreditChecked(uint256 indexed packId, bytes32 excludedRoot, uint32 eligibleCount, uint32 excludedCount);
    event PackScored(uint256 indexed packId, uint256 indexed scoreBatchId, uint256 indexed modelId);
    event PackGraded(uint256 indexed packId, uint32 badRateByCountPpm, uint32 badRateByBalancePpm);
    event PackFiltered(
        uint256 indexed packId, FilterMode mode, WeightBy weightBy, bytes32 keptRoot, bytes32 removedRoot,
        uint32 badRateBeforePpm, uint32 badRateAfterPpm
    );
    event PackCommitted(
        uint256 indexed packId, bytes32 keptRoot, uint32 keptCount, uint128 keptBalance, uint32 badRateAfterPpm,
        uint32 expectedBadRatePpm, uint256 modelId
    );
    /// @notice The exchange issued the committed pack as product `productId` (ProductRegistry).
    event PackIssued(uint256 indexed packId, uint256 indexed productId, address indexed exchange);

    function submitPack(
        bytes32 submissionKey,
        bytes32 assetsRoot,
        uint32 assetCount,
        uint128 totalBalance,
        uint32 expectedBadRatePpm
    ) external returns (uint256 packId);
    function recordCreditCheck(uint256 packId, bytes32 excludedRoot, uint32 eligibleCount, uint32 excludedCount, uint256 creditBatchId)
        external;
    function recordScores(uint256 packId, uint256 scoreBatchId) external;
    function recordGrade(
        uint256 packId,
        uint32[10] calldata levelCounts,
        uint128[10] calldata levelBalances,
        uint32 badRateByCountPpm,
        uint32 badRateByBalancePpm
    ) external;
    function recordFilter(uint256 packId, FilterResult calldata result) external;
    function commitPack(uint256 packId) external;
    /// @notice Committed -> Issued, by the exchange listing product `productId` of the ProductRegistry
    /// on the pack; the registry then lists only a product its pack was issued as.
    function markIssued(uint256 packId, uint256 productId) external;
    /// @notice Issued -> Monitoring, by the monitoring service (SCORER) before the first
    /// monitoring cycle; from then on PackMonitor records the pack's cycles, triggers,
    /// measures and asset replacements.
    function startMonitoring(uint256 packId) external;

    function pack(uint256 packId) external view returns (Pack memory);
    function packCount() external view returns (uint256);
    function packOfSubmission(bytes32 submissionKey) external view returns (uint256);
    function creditCheck(uint256 packId) external view returns (CreditCheck memory);
    function grade(uint256 packId) external view returns (Grade memory);
    function filterResult(uint256 packId) external view returns (FilterResult memory);
    /// @notice The product the pack was issued as; 0 before issuance.
    function issuedProduct(uint256 packId) external view returns (uint256);
    function verifyAsset(
        uint256 packId,
        bool kept,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool);
}
