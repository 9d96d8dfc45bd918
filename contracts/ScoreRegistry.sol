// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IScoreRegistry} from "./interfaces/IScoreRegistry.sol";
import {Roles} from "./lib/Roles.sol";
import {StandardLeaf} from "./lib/StandardLeaf.sol";

/// @title ScoreRegistry
/// @notice Score batches named by their model. Any asset's score is provable against its batch
/// root here, and the claimed level is re-derived on chain from the model's registered edges.
contract ScoreRegistry is ConsortiumGuarded, IScoreRegistry {
    /// @notice Batches up to this size also write every score, so small packs read without proofs.
    uint256 public constant MAX_INDIVIDUAL_SCORES = 256;

    IModelRegistry private immutable _models;
    uint256 private _batchCount;
    mapping(uint256 batchId => ScoreBatch) private _batches;
    mapping(uint256 packId => mapping(uint32 cycle => uint256 batchId)) private _batchOf;
    mapping(uint256 batchId => mapping(bytes32 assetId => uint8 score)) private _scores;

    constructor(IMemberRegistry registry_, IModelRegistry models_) ConsortiumGuarded(registry_) {
        _models = models_;
    }

    /// @inheritdoc IScoreRegistry
    function submitScoreBatch(uint256 packId, uint32 cycle, uint256 modelId, bytes32 root, uint32 assetCount)
        external
        onlyMember(Roles.SCORER)
        returns (uint256 batchId)
    {
        batchId = _newBatch(packId, cycle, modelId, root, assetCount, false);
    }

    /// @inheritdoc IScoreRegistry
    function submitScoreBatchWithScores(
        uint256 packId,
        uint32 cycle,
        uint256 modelId,
        bytes32 root,
        bytes32[] calldata assetIds,
        uint8[] calldata scores
    ) external onlyMember(Roles.SCORER) returns (uint256 batchId) {
        if (assetIds.length > MAX_INDIVIDUAL_SCORES) {
            revert ScoreRegistryTooManyScores(assetIds.length, MAX_INDIVIDUAL_SCORES);
        }
        if (assetIds.length != scores.length) {
            revert ScoreRegistryLengthMismatch(assetIds.length, scores.length, uint32(assetIds.length));
        }
        batchId = _newBatch(packId, cycle, modelId, root, uint32(assetIds.length), true);
        for (uint256 i = 0; i < assetIds.length; ++i) {
            if (_scores[batchId][assetIds[i]] != 0) revert ScoreRegistryDuplicateAsset(assetIds[i]);
            if (scores[i] == 0 || scores[i] > 100) revert ScoreRegistryScoreOutOfRange(assetIds[i], scores[i]);
            _scores[batchId][assetIds[i]] = scores[i];
        }
    }

    /// @inheritdoc IScoreRegistry
    function batch(uint256 batchId) public view returns (ScoreBatch memory) {
        if (batchId == 0 || batchId > _batchCount) revert ScoreRegistryUnknownBatch(batchId);
        return _batches[batchId];
    }

    /// @inheritdoc IScoreRegistry
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc IScoreRegistry
    function batchOf(uint256 packId, uint32 cycle) external view returns (uint256) {
        return _batchOf[packId][cycle];
    }

    /// @inheritdoc IScoreRegistry
    function scoreOf(uint256 batchId, bytes32 assetId) external view returns (bool known, uint8 score, uint8 level) {
        ScoreBatch memory b = batch(batchId);
        score = _scores[batchId][assetId];
        known = score != 0;
        if (known) level = _models.levelOf(b.modelId, score);
    }

    /// @inheritdoc IScoreRegistry
    function verifyScore(uint256 batchId, bytes32 assetId, uint8 score, uint8 level, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        ScoreBatch memory b = batch(batchId);
        if (score == 0 || score > 100 || _models.levelOf(b.modelId, score) != level) return false;
        return MerkleProof.verifyCalldata(proof, b.root, StandardLeaf.ofScore(assetId, score, level, b.modelId));
    }

    function _newBatch(uint256 packId, uint32 cycle, uint256 modelId, bytes32 root, uint32 assetCount, bool individual)
        private
        returns (uint256 batchId)
    {
        if (root == bytes32(0) || assetCount == 0) revert ScoreRegistryEmptyBatch();
        if (!_models.isActive(modelId)) revert ScoreRegistryModelInactive(modelId);
        uint256 existing = _batchOf[packId][cycle];
        if (existing != 0) revert ScoreRegistryDuplicateBatch(packId, cycle, existing);
        batchId = ++_batchCount;
        _batches[batchId] = ScoreBatch({
            packId: packId,
            cycle: cycle,
            modelId: modelId,
            root: root,
            assetCount: assetCount,
            committedAt: uint64(block.timestamp),
            scorer: msg.sender,
            individualScores: individual
        });
        _batchOf[packId][cycle] = batchId;
        emit ScoreBatchCommitted(batchId, packId, cycle, modelId, root, assetCount);
    }
}
