// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {Roles} from "./lib/Roles.sol";

/// @title ModelRegistry
/// @notice Registered scoring models and their level tables. Grading a score into its level is
/// done here, on chain, from the registered edges, so anyone can check a claimed level.
contract ModelRegistry is ConsortiumGuarded, IModelRegistry {
    uint8 private constant LEVELS = 10;
    uint32 private constant PPM = 1_000_000;

    uint256 private _modelCount;
    mapping(uint256 modelId => Model) private _models;
    mapping(bytes32 artifactHash => uint256 modelId) private _modelOfArtifact;

    constructor(IMemberRegistry registry_) ConsortiumGuarded(registry_) {}

    /// @inheritdoc IModelRegistry
    function registerModel(
        bytes32 artifactHash,
        bytes32 featureSchemaHash,
        string calldata name,
        uint8[] calldata scoreUpperEdges,
        uint32[] calldata levelBadRatesPpm,
        ModelMetrics calldata metrics
    ) external onlyMember(Roles.SCORER) returns (uint256 modelId) {
        if (artifactHash == bytes32(0) || featureSchemaHash == bytes32(0)) revert ModelRegistryZeroHash();
        uint256 existing = _modelOfArtifact[artifactHash];
        if (existing != 0) revert ModelRegistryDuplicateArtifact(artifactHash, existing);
        _requireValidLevelTable(scoreUpperEdges, levelBadRatesPpm);
        modelId = ++_modelCount;
        Model storage m = _models[modelId];
        m.artifactHash = artifactHash;
        m.featureSchemaHash = featureSchemaHash;
        m.name = name;
        m.scoreUpperEdges = scoreUpperEdges;
        m.levelBadRatesPpm = levelBadRatesPpm;
        m.metrics = metrics;
        m.scorer = msg.sender;
        m.registeredAt = uint64(block.timestamp);
        _modelOfArtifact[artifactHash] = modelId;
        emit ModelRegistered(modelId, msg.sender, artifactHash, featureSchemaHash, name);
    }

    /// @inheritdoc IModelRegistry
    function retireModel(uint256 modelId) external onlyMember(Roles.SCORER) {
        Model storage m = _existing(modelId);
        if (m.scorer != msg.sender) revert ModelRegistryNotModelOwner(modelId, msg.sender);
        if (m.retired) revert ModelRegistryModelRetired(modelId);
        m.retired = true;
        emit ModelRetired(modelId, msg.sender);
    }

    /// @inheritdoc IModelRegistry
    function model(uint256 modelId) external view returns (Model memory) {
        return _existing(modelId);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @inheritdoc IModelRegistry
    function isActive(uint256 modelId) external view returns (bool) {
        return modelId != 0 && modelId <= _modelCount && !_models[modelId].retired;
    }

    /// @inheritdoc IModelRegistry
    function levelOf(uint256 modelId, uint8 score) public view returns (uint8) {
        if (score == 0 || score > 100) revert ModelRegistryScoreOutOfRange(score);
        uint8[] storage edges = _existing(modelId).scoreUpperEdges;
        for (uint8 i = 0; i < LEVELS; ++i) {
            if (score <= edges[i]) return i + 1;
        }
        return LEVELS; // unreachable: the last edge is 100
    }

    /// @inheritdoc IModelRegistry
    function levelBadRatePpm(uint256 modelId, uint8 level) external view returns (uint32) {
        if (level == 0 || level > LEVELS) revert ModelRegistryInvalidLevelTable(level, 0);
        return _existing(modelId).levelBadRatesPpm[level - 1];
    }

    function _existing(uint256 modelId) private view returns (Model storage) {
        if (modelId == 0 || modelId > _modelCount) revert ModelRegistryUnknownModel(modelId);
        return _models[modelId];
    }

    function _requireValidLevelTable(uint8[] calldata edges, uint32[] calldata badRates) private pure {
        bool valid = edges.length == LEVELS && badRates.length == LEVELS && edges[LEVELS - 1] == 100 && edges[0] >= 1;
        for (uint256 i = 0; valid && i < LEVELS; ++i) {
            if (i > 0 && edges[i] <= edges[i - 1]) valid = false;
            if (badRates[i] > PPM) valid = false;
        }
        if (!valid) revert ModelRegistryInvalidLevelTable(edges.length, badRates.length);
    }
}
