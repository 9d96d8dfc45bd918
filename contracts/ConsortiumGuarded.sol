// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IConsortiumGuarded} from "./interfaces/IConsortiumGuarded.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";

/// @title ConsortiumGuarded
/// @notice Base of every platform contract: writes need a member role held in the
/// MemberRegistry, and stop while consortium governance has paused the platform.
/// @dev Roles live in one registry, not in each contract, so that admission, removal and
/// pause decided by governor quorum take effect platform-wide in one transaction.
abstract contract ConsortiumGuarded is IConsortiumGuarded {
    IMemberRegistry private immutable _registry;

    /// @dev Checks the role first, then the pause: an outsider learns only that it lacks the role.
    modifier onlyMember(bytes32 role) {
        _checkMember(role, msg.sender);
        _checkNotPaused();
        _;
    }

    constructor(IMemberRegistry registry_) {
        if (address(registry_) == address(0)) revert ConsortiumGuardedZeroRegistry();
        _registry = registry_;
    }

    /// @inheritdoc IConsortiumGuarded
    function registry() public view returns (address) {
        return address(_registry);
    }

    function _memberRegistry() internal view returns (IMemberRegistry) {
        return _registry;
    }

    function _checkMember(bytes32 role, address account) internal view {
        if (!_registry.hasRole(role, account)) revert ConsortiumGuardedUnauthorizedAccount(account, role);
    }

    function _checkNotPaused() internal view {
        if (_registry.paused()) revert ConsortiumGuardedEnforcedPause();
    }
}
