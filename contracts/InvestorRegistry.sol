// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IInvestorRegistry} from "./interfaces/IInvestorRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {Roles} from "./lib/Roles.sol";

/// @title InvestorRegistry
/// @notice The whitelist every tranche token consults before units move. Eligibility needs
/// three things at the moment of the transfer: the INVESTOR role (governance can revoke it), a
/// whitelisting that has not expired, and qualification where the tranche demands it.
contract InvestorRegistry is ConsortiumGuarded, IInvestorRegistry {
    mapping(address account => Investor) private _investors;

    constructor(IMemberRegistry registry_) ConsortiumGuarded(registry_) {}

    /// @inheritdoc IInvestorRegistry
    function whitelistInvestor(address account, uint64 expiresAt, bool qualified)
        external
        onlyMember(Roles.EXCHANGE)
    {
        if (!_memberRegistry().hasRole(Roles.INVESTOR, account)) revert InvestorRegistryNotInvestor(account);
        if (expiresAt <= block.timestamp) revert InvestorRegistryExpiryNotInFuture(expiresAt, uint64(block.timestamp));
        _investors[account] = Investor({
            expiresAt: expiresAt, whitelistedAt: uint64(block.timestamp), qualified: qualified, agent: msg.sender
        });
        emit InvestorWhitelisted(account, expiresAt, qualified, msg.sender);
    }

    /// @inheritdoc IInvestorRegistry
    function removeInvestor(address account) external onlyMember(Roles.EXCHANGE) {
        if (_investors[account].whitelistedAt == 0) revert InvestorRegistryNotWhitelisted(account);
        delete _investors[account];
        emit InvestorRemoved(account, msg.sender);
    }

    /// @inheritdoc IInvestorRegistry
    function investor(address account) external view returns (Investor memory) {
        return _investors[account];
    }

    /// @inheritdoc IInvestorRegistry
    function eligibility(address account, bool qualifiedNeeded) public view returns (Eligibility) {
        if (!_memberRegistry().hasRole(Roles.INVESTOR, account)) return Eligibility.NotInvestor;
        Investor storage entry = _investors[account];
        if (entry.whitelistedAt == 0) return Eligibility.NotWhitelisted;
        if (block.timestamp >= entry.expiresAt) return Eligibility.WhitelistExpired;
        if (qualifiedNeeded && !entry.qualified) return Eligibility.NotQualified;
        return Eligibility.Eligible;
    }

    /// @inheritdoc IInvestorRegistry
    function isEligible(address account, bool qualifiedNeeded) external view returns (bool) {
        return eligibility(account, qualifiedNeeded) == Eligibility.Eligible;
    }
}
