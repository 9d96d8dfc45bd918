// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StandardLeaf
/// @notice Leaf hashes of OpenZeppelin's StandardMerkleTree: keccak256(keccak256(abi.encode(values))).
/// The double hash keeps a leaf from ever being mistaken for an inner node.
library StandardLeaf {
    /// @notice Leaf of a tree with encoding ["bytes32"].
    function ofBytes32(bytes32 value) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(value))));
    }

    /// @notice Leaf of a score tree, encoding ["bytes32","uint8","uint8","uint256"]:
    /// asset id, score, level, model id.
    function ofScore(bytes32 assetId, uint8 score, uint8 level, uint256 modelId) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(assetId, score, level, modelId))));
    }

    /// @notice Leaf of a pack-commitment tree, encoding ["bytes32","bytes32","uint8","uint8"]:
    /// asset id, loan-record hash, score, level.
    function ofPackAsset(bytes32 assetId, bytes32 recordHash, uint8 score, uint8 level)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(assetId, recordHash, score, level))));
    }
}
