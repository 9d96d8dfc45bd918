// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IAssetPack} from "./interfaces/IAssetPack.sol";
import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {IScoreRegistry} from "./interfaces/IScoreRegistry.sol";
import {Roles} from "./lib/Roles.sol";
import {StandardLeaf} from "./lib/StandardLeaf.sol";

/// @title AssetPack
/// @notice Every asset pack's state machine and the result of each step (patent claims 1-6).
/// A financier submits and finally commits its own pack; the scoring service (SCORER) records
/// the credit check, the score batch, the grade and the filter in between. Each step checks
/// that its totals agree with the step before, so no step can silently drop assets.
contract AssetPack is ConsortiumGuarded, IAssetPack {
    uint32 private constant PPM = 1_000_000;
    uint8 private constant LEVELS = 10;

    ICreditRegistry private immutable _credit;
    IScoreRegistry private immutable _scores;

    uint256 private _packCount;
    mapping(uint256 packId => Pack) private _packs;
    mapping(bytes32 submissionKey => uint256 packId) private _packOfSubmission;
    mapping(uint256 packId => CreditCheck) private _creditChecks;
    mapping(uint256 packId => Grade) private _grades;
    mapping(uint256 packId => FilterResult) private _filters;
    mapping(uint256 packId => uint256 productId) private _issuedProducts;

    constructor(IMemberRegistry registry_, ICreditRegistry credit_, IScoreRegistry scores_)
        ConsortiumGuarded(registry_)
    {
        _credit = credit_;
        _scores = scores_;
    }

    /// @inheritdoc IAssetPack
    function submitPack(
        bytes32 submissionKey,
        bytes32 assetsRoot,
        uint32 assetCount,
        uint128 totalBalance,
        uint32 expectedBadRatePpm
    ) external onlyMember(Roles.FINANCIER) returns (uint256 packId) {
        uint256 existing = _packOfSubmission[submissionKey];
        if (existing != 0) revert AssetPackDuplicateSubmission(submissionKey, existing);
        if (assetsRoot == bytes32(0) || assetCount == 0 || totalBalance == 0) revert AssetPackEmptyPack();
        _requireRate(expectedBadRatePpm);
        packId = ++_packCount;
        _packs[packId] = Pack({
            financier: msg.sender,
            submissionKey: submissionKey,
            assetsRoot: assetsRoot,
            assetCount: assetCount,
            totalBalance: totalBalance,
            expectedBadRatePpm: expectedBadRatePpm,
            state: PackState.Submitted,
            submittedAt: uint64(block.timestamp),
            updatedAt: uint64(block.timestamp)
        });
        _packOfSubmission[submissionKey] = packId;
        emit PackSubmitted(packId, msg.sender, submissionKey, assetsRoot, assetCount, totalBalance, expectedBadRatePpm);
        emit PackStateChanged(packId, PackState.None, PackState.Submitted);
    }

    /// @inheritdoc IAssetPack
    function recordCreditCheck(
        uint256 packId,
        bytes32 excludedRoot,
        uint32 eligibleCount,
        uint32 excludedCount,
        uint256 creditBatchId
    ) external onlyMember(Roles.SCORER) {
        Pack storage p = _inState(packId, PackState.Submitted);
        if (uint256(eligibleCount) + excludedCount != p.assetCount) {
            revert AssetPackTotalsMismatch(packId, p.assetCount, uint256(eligibleCount) + excludedCount);
        }
        if (creditBatchId == 0 || creditBatchId > _credit.batchCount()) revert AssetPackUnknownCreditBatch(creditBatchId);
        _creditChecks[packId] = CreditCheck({
            excludedRoot: excludedRoot, eligibleCount: eligibleCount, excludedCount: excludedCount, creditBatchId: creditBatchId
        });
        emit PackCreditChecked(packId, excludedRoot, eligibleCount, excludedCount);
        _advance(packId, p, PackState.CreditChecked);
    }

    /// @inheritdoc IAssetPack
    function recordScores(uint256 packId, uint256 scoreBatchId) external onlyMember(Roles.SCORER) {
        Pack storage p = _inState(packId, PackState.CreditChecked);
        IScoreRegistry.ScoreBatch memory b = _scores.batch(scoreBatchId);
        if (b.packId != packId || b.cycle != 0) revert AssetPackScoreBatchMismatch(packId, scoreBatchId);
        uint32 eligible = _creditChecks[packId].eligibleCount;
        if (b.assetCount != eligible) revert AssetPackTotalsMismatch(packId, eligible, b.assetCount);
        Grade storage g = _grades[packId];
        g.scoreBatchId = scoreBatchId;
        g.modelId = b.modelId;
        emit PackScored(packId, scoreBatchId, b.modelId);
        _advance(packId, p, PackState.Scored);
    }

    /// @inheritdoc IAssetPack
    function recordGrade(
        uint256 packId,
        uint32[10] calldata levelCounts,
        uint128[10] calldata levelBalances,
        uint32 badRateByCountPpm,
        uint32 badRateByBalancePpm
    ) external onlyMember(Roles.SCORER) {
        Pack storage p = _inState(packId, PackState.Scored);
        _requireRate(badRateByCountPpm);
        _requireRate(badRateByBalancePpm);
        uint256 counted = 0;
        for (uint256 i = 0; i < LEVELS; ++i) {
            counted += levelCounts[i];
        }
        uint32 eligible = _creditChecks[packId].eligibleCount;
        if (counted != eligible) revert AssetPackTotalsMismatch(packId, eligible, counted);
        Grade storage g = _grades[packId];
        g.levelCounts = levelCounts;
        g.levelBalances = levelBalances;
        g.badRateByCountPpm = badRateByCountPpm;
        g.badRateByBalancePpm = badRateByBalancePpm;
        emit PackGraded(packId, badRateByCountPpm, badRateByBalancePpm);
        _advance(packId, p, PackState.Graded);
    }

    /// @inheritdoc IAssetPack
    function recordFilter(uint256 packId, FilterResult calldata result) external onlyMember(Roles.SCORER) {
        Pack storage p = _inState(packId, PackState.Graded);
        Grade storage g = _grades[packId];
        _requireFilterTotals(packId, g, result);
        uint32 before = result.weightBy == WeightBy.Count ? g.badRateByCountPpm : g.badRateByBalancePpm;
        if (result.badRateBeforePpm != before) revert AssetPackTotalsMismatch(packId, before, result.badRateBeforePpm);
        _requireRate(result.badRateAfterPpm);
        if (result.badRateAfterPpm > p.expectedBadRatePpm) {
            revert AssetPackTargetMissed(packId, result.badRateAfterPpm, p.expectedBadRatePpm);
        }
        _filters[packId] = result;
        emit PackFiltered(
            packId, result.mode, result.weightBy, result.keptRoot, result.removedRoot, result.badRateBeforePpm,
            result.badRateAfterPpm
        );
        _advance(packId, p, PackState.Filtered);
    }

    /// @inheritdoc IAssetPack
    function commitPack(uint256 packId) external onlyMember(Roles.FINANCIER) {
        Pack storage p = _inState(packId, PackState.Filtered);
        if (p.financier != msg.sender) revert AssetPackNotFinancier(packId, msg.sender);
        FilterResult storage f = _filters[packId];
        emit PackCommitted(
            packId, f.keptRoot, f.keptCount, f.keptBalance, f.badRateAfterPpm, p.expectedBadRatePpm, _grades[packId].modelId
        );
        _advance(packId, p, PackState.Committed);
    }

    /// @inheritdoc IAssetPack
    /// @dev Gated by the EXCHANGE role rather than by the ProductRegistry's address: this
    /// contract is deployed first and holds no reference to the registry, and the exchange is
    /// the party the consortium charges with listing. The registry closes the loop: it lists a
    /// product only once the pack records that very product here.
    function markIssued(uint256 packId, uint256 productId) external onlyMember(Roles.EXCHANGE) {
        Pack storage p = _inState(packId, PackState.Committed);
        if (productId == 0) revert AssetPackZeroProduct();
        _issuedProducts[packId] = productId;
        emit PackIssued(packId, productId, msg.sender);
        _advance(packId, p, PackState.Issued);
    }

    /// @inheritdoc IAssetPack
    function startMonitoring(uint256 packId) external onlyMember(Roles.SCORER) {
        Pack storage p = _inState(packId, PackState.Issued);
        _advance(packId, p, PackState.Monitoring);
    }

    /// @inheritdoc IAssetPack
    function pack(uint256 packId) public view returns (Pack memory) {
        return _existing(packId);
    }

    /// @inheritdoc IAssetPack
    function packCount() external view returns (uint256) {
        return _packCount;
    }

    /// @inheritdoc IAssetPack
    function packOfSubmission(bytes32 submissionKey) external view returns (uint256) {
        return _packOfSubmission[submissionKey];
    }

    /// @inheritdoc IAssetPack
    function creditCheck(uint256 packId) external view returns (CreditCheck memory) {
        _existing(packId);
        return _creditChecks[packId];
    }

    /// @inheritdoc IAssetPack
    function grade(uint256 packId) external view returns (Grade memory) {
        _existing(packId);
        return _grades[packId];
    }

    /// @inheritdoc IAssetPack
    function filterResult(uint256 packId) external view returns (FilterResult memory) {
        _existing(packId);
        return _filters[packId];
    }

    /// @inheritdoc IAssetPack
    function issuedProduct(uint256 packId) external view returns (uint256) {
        _existing(packId);
        return _issuedProducts[packId];
    }

    /// @inheritdoc IAssetPack
    function verifyAsset(
        uint256 packId,
        bool kept,
        bytes32 assetId,
        bytes32 recordHash,
        uint8 score,
        uint8 level,
        bytes32[] calldata proof
    ) external view returns (bool) {
        _existing(packId);
        FilterResult storage f = _filters[packId];
        bytes32 root = kept ? f.keptRoot : f.removedRoot;
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, StandardLeaf.ofPackAsset(assetId, recordHash, score, level));
    }

    function _existing(uint256 packId) private view returns (Pack storage p) {
        p = _packs[packId];
        if (p.state == PackState.None) revert AssetPackUnknownPack(packId);
    }

    function _inState(uint256 packId, PackState expected) private view returns (Pack storage p) {
        p = _existing(packId);
        if (p.state != expected) revert AssetPackWrongState(packId, p.state, expected);
    }

    function _advance(uint256 packId, Pack storage p, PackState next) private {
        PackState previous = p.state;
        p.state = next;
        p.updatedAt = uint64(block.timestamp);
        emit PackStateChanged(packId, previous, next);
    }

    function _requireFilterTotals(uint256 packId, Grade storage g, FilterResult calldata r) private view {
        uint32 eligible = _creditChecks[packId].eligibleCount;
        uint256 total = uint256(r.keptCount) + r.removedCount;
        if (total != eligible || r.keptCount == 0) revert AssetPackTotalsMismatch(packId, eligible, total);
        uint256 gradedBalance = 0;
        for (uint256 i = 0; i < LEVELS; ++i) {
            gradedBalance += g.levelBalances[i];
        }
        uint256 filteredBalance = uint256(r.keptBalance) + r.removedBalance;
        if (filteredBalance != gradedBalance) revert AssetPackTotalsMismatch(packId, gradedBalance, filteredBalance);
    }

    function _requireRate(uint32 ratePpm) private pure {
        if (ratePpm > PPM) revert AssetPackRateOutOfRange(ratePpm);
    }
}
