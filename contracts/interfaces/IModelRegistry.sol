// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelRegistry
/// @notice Identities of the scoring models: artifact and feature-schema hashes, validation
/// metrics, the score edges of the 10 risk levels and each level's historical bad rate.
/// Every score batch names the model that made it (patent claim 3).
interface IModelRegistry {
    /// @notice Validation metrics, in parts per million.
    struct ModelMetrics {
        uint32 cvAucPpm;
        uint32 ksPpm;
        uint32 brierPpm;
        uint32 sampleSize;
    }

    /// @notice A registered model. `scoreUpperEdges[i]` is the highest score of level i+1, so
    /// level 1 holds scores 1..scoreUpperEdges[0]; the last edge is 100.
    struct Model {
        bytes32 artifactHash;
        bytes32 featureSchemaHash;
        string name;
        uint8[] scoreUpperEdges;
        uint32[] levelBadRatesPpm;
        ModelMetrics metrics;
        address scorer;
        uint64 registeredAt;
        bool retired;
    }

    /// @notice No model has this id.
    error ModelRegistryUnknownModel(uint256 modelId);
    /// @notice The model was retired and may not score any more.
    error ModelRegistryModelRetired(uint256 modelId);
    /// @notice This artifact is already registered, as model `modelId`.
    error ModelRegistryDuplicateArtifact(bytes32 artifactHash, uint256 modelId);
    /// @notice Level edges must be 10 strictly increasing scores ending at 100, with 10 bad rates <= 1e6 ppm.
    error ModelRegistryInvalidLevelTable(uint256 edges, uint256 badRates);
    /// @notice A score must lie in 1..100.
    error ModelRegistryScoreOutOfRange(uint8 score);
    /// @notice Only the scorer that registered a model may retire it.
    error ModelRegistryNotModelOwner(uint256 modelId, address caller);
    /// @notice Artifact and feature-schema hashes must be set.
    error ModelRegistryZeroHash();

    /// @notice A scorer registered a model.
    event ModelRegistered(
        uint256 indexed modelId, address indexed scorer, bytes32 artifactHash, bytes32 featureSchemaHash, string name
    );
    /// @notice A model was retired.
    event ModelRetired(uint256 indexed modelId, address indexed scorer);

    function registerModel(
        bytes32 artifactHash,
        bytes32 featureSchemaHash,
        string calldata name,
        uint8[] calldata scoreUpperEdges,
        uint32[] calldata levelBadRatesPpm,
        ModelMetrics calldata metrics
    ) external returns (uint256 modelId);
    function retireModel(uint256 modelId) external;
    function model(uint256 modelId) external view returns (Model memory);
    function modelCount() external view returns (uint256);
    function isActive(uint256 modelId) external view returns (bool);
    function levelOf(uint256 modelId, uint8 score) external view returns (uint8);
    function levelBadRatePpm(uint256 modelId, uint8 level) external view returns (uint32);
}
