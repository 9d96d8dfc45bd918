// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IAssetPack} from "./interfaces/IAssetPack.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {IPackMonitor} from "./interfaces/IPackMonitor.sol";
import {IScoreRegistry} from "./interfaces/IScoreRegistry.sol";
import {Roles} from "./lib/Roles.sol";
import {StandardLeaf} from "./lib/StandardLeaf.sol";

/// @title PackMonitor
/// @notice Post-issuance monitoring of asset packs (patent claim 7): monthly cycles, fired
/// warning rules, the measures they lead to and asset replacements with the pack's moving root.
/// Every write is the monitoring service's (SCORER). Each cycle must rest on the ScoreRegistry
/// batch of that very cycle, and each replacement on the pack's current root, so the chain
/// alone tells which assets back a pack at any time.
contract PackMonitor is ConsortiumGuarded, IPackMonitor {
    uint32 private constant PPM = 1_000_000;
    uint8 private constant LEVELS = 10;

    struct RecordedCycle {
        CycleReport report;
        uint64 recordedAt;
    }

    IAssetPack private immutable _packs;
    IScoreRegistry private immutable _scores;

    mapping(uint256 packId => uint32 cycles) private _cycleCounts;
    mapping(uint256 packId => mapping(uint32 cycleNumber => RecordedCycle)) private _cycles;
    mapping(uint256 packId => mapping(uint32 cycleNumber => mapping(bytes32 ruleId => bool))) private _fired;
    uint256 private _measureCount;
    mapping(uint256 measureId => Measure) private _measures;
    uint256 private _replacementCount;
    mapping(uint256 replacementId => Replacement) private _replacements;
    mapping(uint256 packId => bytes32 root) private _currentRoots;

    constructor(IMemberRegistry registry_, IAssetPack packs_, IScoreRegistry scores_) ConsortiumGuarded(registry_) {
        _packs = packs_;
        _scores = scores_;
    }

    /// @inheritdoc IPackMonitor
    function recordCycle(uint256 packId, uint32 cycleNumber, CycleReport calldata report)
        external
        onlyMember(Roles.SCORER)
    {
        _requireMonitoring(packId);
        uint32 expected = _cycleCounts[packId] + 1;
        if (cycleNumber != expected) revert PackMonitorCycleOutOfOrder(packId, expected, cycleNumber);
        uint256 batchId = _scores.batchOf(packId, cycleNumber);
        if (batchId == 0 || batchId != report.scoreBatchId) {
            revert PackMonitorScoreBatchMismatch(packId, cycleNumber, report.scoreBatchId);
        }
        _requireRate(report.badRatePpm);
        _requireRate(report.expectedBadRatePpm);
        _requireRate(report.realisedBadRatePpm);
        _requireLevelTotals(packId, report);
        _cycleCounts[packId] = cycleNumber;
        RecordedCycle storage c = _cycles[packId][cycleNumber];
        c.report = report;
        c.recordedAt = uint64(block.timestamp);
        emit CycleRecorded(
            packId, cycleNumber, report.scoreBatchId, report.badRatePpm, report.realisedBadRatePpm, report.psiPpm,
            report.liveCount, report.liveBalance, report.levelCounts, report.levelBalances
        );
    }

    /// @inheritdoc IPackMonitor
    function recordTrigger(uint256 packId, uint32 cycleNumber, bytes32 ruleId, bytes32 evidenceHash)
        external
        onlyMember(Roles.SCORER)
    {
        _requireCycle(packId, cycleNumber);
        mapping(bytes32 => bool) storage fired = _fired[packId][cycleNumber];
        if (fired[ruleId]) revert PackMonitorDuplicateTrigger(packId, cycleNumber, ruleId);
        fired[ruleId] = true;
        emit TriggerFired(packId, cycleNumber, ruleId, evidenceHash);
    }

    /// @inheritdoc IPackMonitor
    function openMeasure(
        uint256 packId,
        uint32 cycleNumber,
        MeasureKind kind,
        bytes32 ruleId,
        bytes32 subjectRoot,
        uint32 subjectCount,
        uint64 deadline
    ) external onlyMember(Roles.SCORER) returns (uint256 measureId) {
        _requireCycle(packId, cycleNumber);
        if (!_fired[packId][cycleNumber][ruleId]) revert PackMonitorTriggerNotFired(packId, cycleNumber, ruleId);
        if (subjectRoot == bytes32(0) || subjectCount == 0) revert PackMonitorEmptySubject();
        if (deadline <= block.timestamp) revert PackMonitorDeadlinePassed(deadline, block.timestamp);
        measureId = ++_measureCount;
        _measures[measureId] = Measure({
            packId: packId,
            cycle: cycleNumber,
            kind: kind,
            status: MeasureStatus.Open,
            ruleId: ruleId,
            subjectRoot: subjectRoot,
            subjectCount: subjectCount,
            deadline: deadline,
            openedAt: uint64(block.timestamp),
            updatedAt: uint64(block.timestamp)
        });
        emit MeasureOpened(measureId, packId, cycleNumber, kind, ruleId, subjectRoot, subjectCount, deadline);
    }

    /// @inheritdoc IPackMonitor
    function setMeasureStatus(uint256 measureId, MeasureStatus status) external onlyMember(Roles.SCORER) {
        Measure storage m = _existingMeasure(measureId);
        MeasureStatus previous = m.status;
        if (!_canMove(previous, status)) revert PackMonitorBadTransition(measureId, previous, status);
        m.status = status;
        m.updatedAt = uint64(block.timestamp);
        emit MeasureStatusChanged(measureId, m.packId, previous, status);
    }

    /// @inheritdoc IPackMonitor
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
    ) external onlyMember(Roles.SCORER) returns (uint256 replacementId) {
        _requireReplaceable(packId, cycleNumber, measureId, previousRoot);
        if (oldAssetIds.length == 0 || oldAssetIds.length != newAssetIds.length) {
            revert PackMonitorBadSwapList(oldAssetIds.length, newAssetIds.length);
        }
        if (newRoot == bytes32(0) || outRoot == bytes32(0) || inRoot == bytes32(0)) revert PackMonitorZeroRoot();
        replacementId = ++_replacementCount;
        _currentRoots[packId] = newRoot;
        Replacement storage r = _replacements[replacementId];
        r.packId = packId;
        r.cycle = cycleNumber;
        r.measureId = measureId;
        r.previousRoot = previousRoot;
        r.newRoot = newRoot;
        r.outRoot = outRoot;
        r.inRoot = inRoot;
        r.swapCount = uint32(oldAssetIds.length);
        r.recordedAt = uint64(block.timestamp);
        _emitReplacement(replacementId, r, oldAssetIds, newAssetIds);
    }

    /// @inheritdoc IPackMonitor
    function cycle(uint256 packId, uint32 cycleNumber)
        external
        view
        returns (CycleReport memory report, uint64 recordedAt)
    {
        _requireCycle(packId, cycleNumber);
        RecordedCycle storage c = _cycles[packId][cycleNumber];
        return (c.report, c.recordedAt);
    }

    /// @inheritdoc IPackMonitor
    function cycleCount(uint256 packId) external view returns (uint32) {
        return _cycleCounts[packId];
    }

    /// @inheritdoc IPackMonitor
    function triggerFired(uint256 packId, uint32 cycleNumber, bytes32 ruleId) external view returns (bool) {
        return _fired[packId][cycleNumber][ruleId];
    }

    /// @inheritdoc IPackMonitor
    function measure(uint256 measureId) external view returns (Measure memory) {
        return _existingMeasure(measureId);
    }

    /// @inheritdoc IPackMonitor
    function measureCount() external view returns (uint256) {
        return _measureCount;
    }

    /// @inheritdoc IPackMonitor
    function verifyMeasureSubject(uint256 measureId, bytes32 assetId, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _existingMeasure(measureId).subjectRoot;
        return MerkleProof.verifyCalldata(proof, root, StandardLeaf.ofBytes32(assetId));
    }

    /// @inheritdoc IPackMonitor
    function replacement(uint256 replacementId) external view returns (Replacement memory) {
        return _existingReplacement(replacementId);
    }

    /// @inheritdoc IPackMonitor
    function replacementCount() external view returns (uint256) {
        return _replacementCount;
    }

    /// @inheritdoc IPackMonitor
    function currentRoot(uint256 packId) public view returns (bytes32) {
        bytes32 root = _currentRoots[packId];
        return root != bytes32(0) ? root : _packs.filterResult(packId).keptRoot;
    }

    /// @inheritdoc IPackMonitor
    function verifyCurrent(
        uint256 packId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return _verifyPackAsset(currentRoot(packId), assetId, recordHash, score, level, proof);
    }

    /// @inheritdoc IPackMonitor
    function verifyReplacedOut(
        uint256 replacementId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _existingReplacement(replacementId).outRoot;
        return _verifyPackAsset(root, assetId, recordHash, score, level, proof);
    }

    /// @inheritdoc IPackMonitor
    function verifyReplacedIn(
        uint256 replacementId,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _existingReplacement(replacementId).inRoot;
        return _verifyPackAsset(root, assetId, recordHash, score, level, proof);
    }

    function _requireMonitoring(uint256 packId) private view {
        IAssetPack.PackState state = _packs.pack(packId).state;
        if (state != IAssetPack.PackState.Monitoring) revert PackMonitorNotMonitoring(packId, state);
    }

    function _requireCycle(uint256 packId, uint32 cycleNumber) private view {
        if (cycleNumber == 0 || cycleNumber > _cycleCounts[packId]) revert PackMonitorUnknownCycle(packId, cycleNumber);
    }

    function _requireReplaceable(uint256 packId, uint32 cycleNumber, uint256 measureId, bytes32 previousRoot)
        private
        view
    {
        _requireMonitoring(packId);
        _requireCycle(packId, cycleNumber);
        if (measureId != 0) {
            Measure storage m = _measures[measureId];
            bool live = m.status == MeasureStatus.Open || m.status == MeasureStatus.Escalated;
            if (m.packId != packId || m.kind != MeasureKind.ReplacementInstruction || !live) {
                revert PackMonitorWrongMeasure(measureId);
            }
        }
        bytes32 current = currentRoot(packId);
        if (previousRoot != current) revert PackMonitorStaleRoot(packId, current, previousRoot);
    }

    function _requireLevelTotals(uint256 packId, CycleReport calldata report) private pure {
        uint256 counted = 0;
        uint256 balance = 0;
        for (uint256 i = 0; i < LEVELS; ++i) {
            counted += report.levelCounts[i];
            balance += report.levelBalances[i];
        }
        if (counted != report.liveCount) revert PackMonitorTotalsMismatch(packId, report.liveCount, counted);
        if (balance != report.liveBalance) revert PackMonitorTotalsMismatch(packId, report.liveBalance, balance);
    }

    function _requireRate(uint32 ratePpm) private pure {
        if (ratePpm > PPM) revert PackMonitorRateOutOfRange(ratePpm);
    }

    function _existingMeasure(uint256 measureId) private view returns (Measure storage m) {
        m = _measures[measureId];
        if (m.status == MeasureStatus.None) revert PackMonitorUnknownMeasure(measureId);
    }

    function _existingReplacement(uint256 replacementId) private view returns (Replacement storage r) {
        r = _replacements[replacementId];
        if (r.packId == 0) revert PackMonitorUnknownReplacement(replacementId);
    }

    /// @dev Open may end (Done, Cancelled) or escalate once; Escalated may only end.
    function _canMove(MeasureStatus from, MeasureStatus to) private pure returns (bool) {
        if (to == MeasureStatus.Done || to == MeasureStatus.Cancelled) {
            return from == MeasureStatus.Open || from == MeasureStatus.Escalated;
        }
        return from == MeasureStatus.Open && to == MeasureStatus.Escalated;
    }

    function _verifyPackAsset(
        bytes32 root,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) private pure returns (bool) {
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, StandardLeaf.ofPackAsset(assetId, recordHash, score, level));
    }

    /// @dev Emitted from storage: the writer's own stack is too full for nine event arguments.
    function _emitReplacement(
        uint256 replacementId,
        Replacement storage r,
        bytes32[] calldata oldAssetIds,
        bytes32[] calldata newAssetIds
    ) private {
        uint256 packId = r.packId;
        uint32 cycleNumber = r.cycle;
        emit ReplacementRecorded(
            replacementId, packId, cycleNumber, r.measureId, r.previousRoot, r.newRoot, r.outRoot, r.inRoot,
            r.swapCount
        );
        for (uint256 i = 0; i < oldAssetIds.length; ++i) {
            emit AssetReplaced(packId, replacementId, oldAssetIds[i], newAssetIds[i], cycleNumber);
        }
    }
}
