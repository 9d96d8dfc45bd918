// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAssetPack} from "./IAssetPack.sol";

/// @title IPackMonitor
/// @notice Post-issuance monitoring of asset packs (patent claim 7). Each monthly cycle's
/// rescoring summary is recorded against its ScoreRegistry batch; a warning rule that fires on
/// a cycle is recorded once, with the hash of its evidence; a fired rule may open a measure
/// (weekly reminders to borrowers, or an instruction to replace assets) over a Merkle root of
/// the affected asset ids; and each asset replacement moves the pack's current root, starting
/// from the kept root the pack committed in AssetPack.
/// @dev Subject trees are StandardMerkleTrees over ["bytes32"] (asset id). Pack roots, and the
/// out and in roots of a replacement, are over ["bytes32","bytes32","uint8","uint8"]
/// (asset id, loan-record hash, score, level), as AssetPack's kept root.
interface IPackMonitor {
    /// @notice What a measure asks of the financier: remind the borrowers every week, or
    /// replace the affected assets.
    enum MeasureKind {
        WeeklyReminders,
        ReplacementInstruction
    }

    /// @notice A measure opens Open; it may be escalated once, and ends Done or Cancelled.
    enum MeasureStatus {
        None,
        Open,
        Done,
        Escalated,
        Cancelled
    }

    /// @notice One monitoring cycle's summary of the pack's live assets, rescored in ScoreRegistry
    /// batch `scoreBatchId`. Levels are 1..10 at indexes 0..9; balances are in minor units; rates
    /// are in ppm: the model's bad rate of the live assets, the pack's expected bad rate, the bad
    /// rate realised so far, and the population stability index of the score distribution.
    struct CycleReport {
        uint256 scoreBatchId;
        uint32[10] levelCounts;
        uint128[10] levelBalances;
        uint32 badRatePpm;
        uint32 expectedBadRatePpm;
        uint32 realisedBadRatePpm;
        uint32 psiPpm;
        uint32 liveCount;
        uint128 liveBalance;
    }

    /// @notice A measure taken after rule `ruleId` fired on cycle `cycle` of pack `packId`, over
    /// `subjectCount` assets whose ids are the leaves of `subjectRoot`.
    struct Measure {
        uint256 packId;
        uint32 cycle;
        MeasureKind kind;
        MeasureStatus status;
        bytes32 ruleId;
        bytes32 subjectRoot;
        uint32 subjectCount;
        uint64 deadline;
        uint64 openedAt;
        uint64 updatedAt;
    }

    /// @notice `swapCount` assets of the tree `outRoot` left pack `packId` and as many of `inRoot`
    /// entered it, taking the pack's root from `previousRoot` to `newRoot`. `measureId` is the
    /// replacement instruction it answers, or 0.
    struct Replacement {
        uint256 packId;
        uint32 cycle;
        uint256 measureId;
        bytes32 previousRoot;
        bytes32 newRoot;
        bytes32 outRoot;
        bytes32 inRoot;
        uint32 swapCount;
        uint64 recordedAt;
    }

    /// @notice Monitoring records need the pack in Monitoring; it is in `state`.
    error PackMonitorNotMonitoring(uint256 packId, IAssetPack.PackState state);
    /// @notice Cycles are recorded in order: the next one for this pack is `expected`.
    error PackMonitorCycleOutOfOrder(uint256 packId, uint32 expected, uint32 given);
    /// @notice `scoreBatchId` is not the ScoreRegistry batch of this pack's cycle.
    error PackMonitorScoreBatchMismatch(uint256 packId, uint32 cycle, uint256 scoreBatchId);
    /// @notice A rate in ppm must lie in 0..1e6.
    error PackMonitorRateOutOfRange(uint32 ratePpm);
    /// @notice The per-level counts or balances do not add up to the live totals of the report.
    error PackMonitorTotalsMismatch(uint256 packId, uint256 expected, uint256 actual);
    /// @notice This cycle of the pack is not recorded.
    error PackMonitorUnknownCycle(uint256 packId, uint32 cycle);
    /// @notice The rule already fired on this cycle of the pack.
    error PackMonitorDuplicateTrigger(uint256 packId, uint32 cycle, bytes32 ruleId);
    /// @notice A measure needs its rule to have fired on that cycle of the pack.
    error PackMonitorTriggerNotFired(uint256 packId, uint32 cycle, bytes32 ruleId);
    /// @notice A measure needs a non-zero subject root and at least one subject asset.
    error PackMonitorEmptySubject();
    /// @notice A measure's deadline must lie after the block's timestamp `currentTime`.
    error PackMonitorDeadlinePassed(uint64 deadline, uint256 currentTime);
    /// @notice No measure has this id.
    error PackMonitorUnknownMeasure(uint256 measureId);
    /// @notice A measure cannot move from `from` to `to`.
    error PackMonitorBadTransition(uint256 measureId, MeasureStatus from, MeasureStatus to);
    /// @notice The measure is not an Open or Escalated replacement instruction of this pack.
    error PackMonitorWrongMeasure(uint256 measureId);
    /// @notice The replacement starts from `given`, and the pack's current root is `current`.
    error PackMonitorStaleRoot(uint256 packId, bytes32 current, bytes32 given);
    /// @notice A replacement swaps at least one asset, and as many in as out.
    error PackMonitorBadSwapList(uint256 oldCount, uint256 newCount);
    /// @notice A replacement's new, out and in roots must be non-zero.
    error PackMonitorZeroRoot();
    /// @notice No replacement has this id.
    error PackMonitorUnknownReplacement(uint256 replacementId);

    /// @notice Cycle `cycle` of the pack was recorded against score batch `scoreBatchId`.
    event CycleRecorded(
        uint256 indexed packId, uint32 indexed cycle, uint256 scoreBatchId, uint32 badRatePpm,
        uint32 realisedBadRatePpm, uint32 psiPpm, uint32 liveCount, uint128 liveBalance, uint32[10] levelCounts,
        uint128[10] levelBalances
    );
    /// @notice Warning rule `ruleId` fired on the cycle; `evidenceHash` commits to its inputs.
    event TriggerFired(uint256 indexed packId, uint32 indexed cycle, bytes32 indexed ruleId, bytes32 evidenceHash);
    /// @notice A measure was opened over the assets of `subjectRoot`.
    event MeasureOpened(
        uint256 indexed measureId, uint256 indexed packId, uint32 cycle, MeasureKind kind, bytes32 ruleId,
        bytes32 subjectRoot, uint32 subjectCount, uint64 deadline
    );
    /// @notice A measure moved from `previous` to `current`.
    event MeasureStatusChanged(
        uint256 indexed measureId, uint256 indexed packId, MeasureStatus previous, MeasureStatus current
    );
    /// @notice Assets were replaced and the pack's current root moved to `newRoot`.
    event ReplacementRecorded(
        uint256 indexed replacementId, uint256 indexed packId, uint32 cycle, uint256 measureId, bytes32 previousRoot,
        bytes32 newRoot, bytes32 outRoot, bytes32 inRoot, uint32 swapCount
    );
    /// @notice One pair of a replacement: `oldAssetId` left the pack, `newAssetId` took its place.
    event AssetReplaced(
        uint256 indexed packId, uint256 indexed replacementId, bytes32 indexed oldAssetId, bytes32 newAssetId,
        uint32 cycle
    );

    /// @notice Records the next monitoring cycle of a pack in Monitoring (SCORER).
    function recordCycle(uint256 packId, uint32 cycleNumber, CycleReport calldata report) external;
    /// @notice Records that rule `ruleId` fired on a recorded cycle, at most once (SCORER).
    function recordTrigger(uint256 packId, uint32 cycleNumber, bytes32 ruleId, bytes32 evidenceHash) external;
    /// @notice Opens a measure after a fired rule; ids start at 1 (SCORER).
    function openMeasure(
        uint256 packId,
        uint32 cycleNumber,
        MeasureKind kind,
        bytes32 ruleId,
        bytes32 subjectRoot,
        uint32 subjectCount,
        uint64 deadline
    ) external returns (uint256 measureId);
    /// @notice Moves a measure: Open -> Done, Escalated or Cancelled; Escalated -> Done or
    /// Cancelled (SCORER).
    function setMeasureStatus(uint256 measureId, MeasureStatus status) external;
    /// @notice Records a replacement of `oldAssetIds[i]` by `newAssetIds[i]` on a pack in
    /// Monitoring and moves its current root from `previousRoot` to `newRoot`; ids start at 1 (SCORER).
    function recordReplacement(
        uint256 packId,
        uint32 cycleNumber,
        uint256 measureId,
        bytes32 previousRoot,
        bytes32 newRoot,
        bytes32 outRoot,
        bytes32 inRoot,
        bytes32[] calldata oldAssetIds,
        bytes32[] calldata newAssetIds
    ) external returns (uint256 replacementId);

    /// @notice A recorded cycle and the block timestamp it was recorded at.
    function cycle(uint256 packId, uint32 cycleNumber)
        external
        view
        returns (CycleReport memory report, uint64 recordedAt);
    /// @notice How many cycles of the pack are recorded; the last one's number.
    function cycleCount(uint256 packId) external view returns (uint32);
    function triggerFired(uint256 packId, uint32 cycleNumber, bytes32 ruleId) external view returns (bool);
    function measure(uint256 measureId) external view returns (Measure memory);
    function measureCount() external view returns (uint256);
    /// @notice Whether `assetId` is a subject of the measure.
    function verifyMeasureSubject(uint256 measureId, bytes32 assetId, bytes32[] calldata proof)
        external
        view
        returns (bool);
    function replacement(uint256 replacementId) external view returns (Replacement memory);
    function replacementCount() external view returns (uint256);
    /// @notice The pack's root now: the last replacement's new root, or the kept root the pack
    /// committed in AssetPack before any replacement.
    function currentRoot(uint256 packId) external view returns (bytes32);
    /// @notice Whether the asset, with this record hash, score and level, is in the pack's current root.
    function verifyCurrent(
        uint256 packId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool);
    /// @notice Whether the asset left the pack in this replacement.
    function verifyReplacedOut(
        uint256 replacementId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool);
    /// @notice Whether the asset entered the pack in this replacement.
    function verifyReplacedIn(
        uint256 replacementId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool);
}
