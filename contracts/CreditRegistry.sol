// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {Roles} from "./lib/Roles.sol";
import {StandardLeaf} from "./lib/StandardLeaf.sol";

/// @title CreditRegistry
/// @notice Credit-bureau batch commitments (patent: credit data via the blockchain). Anyone can
/// check a salted record hash against its batch root; only a CREDIT_BUREAU member can commit.
contract CreditRegistry is ConsortiumGuarded, ICreditRegistry {
    uint256 private _batchCount;
    mapping(uint256 batchId => CreditBatch) private _batches;
    mapping(bytes32 root => uint256 batchId) private _batchOfRoot;

    constructor(IMemberRegistry registry_) ConsortiumGuarded(registry_) {}

    /// @inheritdoc ICreditRegistry
    function commitBatch(bytes32 root, uint32 recordCount, uint64 asOf)
        external
        onlyMember(Roles.CREDIT_BUREAU)
        returns (uint256 batchId)
    {
        if (root == bytes32(0) || recordCount == 0) revert CreditRegistryEmptyBatch();
        uint256 existing = _batchOfRoot[root];
        if (existing != 0) revert CreditRegistryDuplicateRoot(root, existing);
        // The as-of bound tolerates validator clock drift of seconds; records are dated by day.
        // slither-disable-next-line timestamp
        if (asOf > block.timestamp) revert CreditRegistryAsOfInFuture(asOf, uint64(block.timestamp));
        batchId = ++_batchCount;
        _batches[batchId] = CreditBatch({
            root: root, recordCount: recordCount, asOf: asOf, committedAt: uint64(block.timestamp), bureau: msg.sender
        });
        _batchOfRoot[root] = batchId;
        emit CreditBatchCommitted(batchId, msg.sender, root, recordCount, asOf);
    }

    /// @inheritdoc ICreditRegistry
    function batch(uint256 batchId) public view returns (CreditBatch memory) {
        if (batchId == 0 || batchId > _batchCount) revert CreditRegistryUnknownBatch(batchId);
        return _batches[batchId];
    }

    /// @inheritdoc ICreditRegistry
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc ICreditRegistry
    function batchOfRoot(bytes32 root) external view returns (uint256) {
        return _batchOfRoot[root];
    }

    /// @inheritdoc ICreditRegistry
    function verifyRecord(uint256 batchId, bytes32 saltedRecordHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, batch(batchId).root, StandardLeaf.ofBytes32(saltedRecordHash));
    }
}
