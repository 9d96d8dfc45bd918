// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IConsortiumGuarded
/// @notice Errors shared by every platform contract whose writes are gated by the consortium's
/// member roles and by its governance-decided pause.
interface IConsortiumGuarded {
    /// @notice `account` lacks `neededRole` in the member registry.
    error ConsortiumGuardedUnauthorizedAccount(address account, bytes32 neededRole);

    /// @notice The consortium has paused the platform; no state may change until it unpauses.
    error ConsortiumGuardedEnforcedPause();

    /// @notice A guarded contract was constructed without a member registry.
    error ConsortiumGuardedZeroRegistry();

    /// @notice The member registry that decides roles and pause for this contract.
    function registry() external view returns (address);
}
