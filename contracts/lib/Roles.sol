// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Roles
/// @notice The consortium's eight roles. Each is keccak256 of its name, so off-chain code
/// (chain/roles.py) derives the same identifiers without a lookup table.
library Roles {
    bytes32 internal constant GOVERNOR = keccak256("GOVERNOR");
    bytes32 internal constant FINANCIER = keccak256("FINANCIER");
    bytes32 internal constant CREDIT_BUREAU = keccak256("CREDIT_BUREAU");
    bytes32 internal constant SCORER = keccak256("SCORER");
    bytes32 internal constant EXCHANGE = keccak256("EXCHANGE");
    bytes32 internal constant INVESTOR = keccak256("INVESTOR");
    bytes32 internal constant IOT_GATEWAY = keccak256("IOT_GATEWAY");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR");

    /// @notice Whether `role` is one of the consortium's roles.
    function isKnown(bytes32 role) internal pure returns (bool) {
        return role == GOVERNOR || role == FINANCIER || role == CREDIT_BUREAU || role == SCORER
            || role == EXCHANGE || role == INVESTOR || role == IOT_GATEWAY || role == AUDITOR;
    }
}
