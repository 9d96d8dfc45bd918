// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {Roles} from "./lib/Roles.sol";

/// @title MemberRegistry
/// @notice The consortium: which organisations are members, which roles each holds, and the
/// m-of-n governor quorum that alone may change either, or pause the platform.
/// @dev Built on OpenZeppelin AccessControl so every platform contract can ask `hasRole`.
/// The direct AccessControl role admin functions are disabled: a role changes only when a
/// governance proposal reaches quorum. The deployer may seat the first members once, through
/// `bootstrap`; after that it has no power at all.
contract MemberRegistry is AccessControl, IMemberRegistry {
    using EnumerableSet for EnumerableSet.AddressSet;

    address private immutable _bootstrapper;
    uint64 private immutable _proposalLifetime;

    bool private _bootstrapped;
    bool private _paused;
    uint64 private _quorum;
    uint256 private _governorCount;
    uint256 private _proposalCount;

    EnumerableSet.AddressSet private _activeMembers;
    mapping(address account => Member) private _members;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => address[]) private _approvers;
    mapping(uint256 proposalId => mapping(address governor => bool)) private _approved;

    modifier onlyGovernor() {
        if (!hasRole(Roles.GOVERNOR, msg.sender)) revert MemberRegistryNotGovernor(msg.sender);
        _;
    }

    /// @param proposalLifetime_ Seconds a proposal stays open for approval and execution.
    constructor(uint64 proposalLifetime_) {
        if (proposalLifetime_ == 0) revert MemberRegistryZeroLifetime();
        _bootstrapper = msg.sender;
        _proposalLifetime = proposalLifetime_;
    }

    // ---------------------------------------------------------------- bootstrap

    /// @inheritdoc IMemberRegistry
    function bootstrap(address[] calldata accounts, string[] calldata names, bytes32[][] calldata roles, uint64 quorum_)
        external
    {
        if (msg.sender != _bootstrapper) revert MemberRegistryNotBootstrapper(msg.sender);
        if (_bootstrapped) revert MemberRegistryBootstrapEnded();
        if (accounts.length != names.length || accounts.length != roles.length) {
            revert MemberRegistryLengthMismatch(accounts.length, names.length, roles.length);
        }
        for (uint256 i = 0; i < accounts.length; ++i) {
            _admit(accounts[i], names[i], roles[i]);
        }
        _requireValidQuorum(quorum_, _governorCount);
        _quorum = quorum_;
        _bootstrapped = true;
        emit BootstrapCompleted(msg.sender, accounts.length, _governorCount, quorum_);
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IMemberRegistry
    function proposeAdmit(address account, string calldata name, bytes32[] calldata roles)
        external
        onlyGovernor
        returns (uint256)
    {
        _requireAdmissible(account, name, roles);
        Proposal storage p = _newProposal(ProposalKind.Admit, account, bytes32(0));
        p.name = name;
        p.roles = roles;
        return _openProposal(p);
    }

    /// @inheritdoc IMemberRegistry
    function proposeRemove(address account) external onlyGovernor returns (uint256) {
        _requireRemovable(account);
        return _openProposal(_newProposal(ProposalKind.Remove, account, bytes32(0)));
    }

    /// @inheritdoc IMemberRegistry
    function proposeGrantRole(address account, bytes32 role) external onlyGovernor returns (uint256) {
        _requireGrantable(account, role);
        return _openProposal(_newProposal(ProposalKind.GrantRole, account, role));
    }

    /// @inheritdoc IMemberRegistry
    function proposeRevokeRole(address account, bytes32 role) external onlyGovernor returns (uint256) {
        _requireRevocable(account, role);
        return _openProposal(_newProposal(ProposalKind.RevokeRole, account, role));
    }

    /// @inheritdoc IMemberRegistry
    function proposeSetQuorum(uint64 quorum_) external onlyGovernor returns (uint256) {
        _requireValidQuorum(quorum_, _governorCount);
        Proposal storage p = _newProposal(ProposalKind.SetQuorum, address(0), bytes32(0));
        p.quorum = quorum_;
        return _openProposal(p);
    }

    /// @inheritdoc IMemberRegistry
    function proposePause() external onlyGovernor returns (uint256) {
        if (_paused) revert MemberRegistryPauseUnchanged(true);
        return _openProposal(_newProposal(ProposalKind.Pause, address(0), bytes32(0)));
    }

    /// @inheritdoc IMemberRegistry
    function proposeUnpause() external onlyGovernor returns (uint256) {
        if (!_paused) revert MemberRegistryPauseUnchanged(false);
        return _openProposal(_newProposal(ProposalKind.Unpause, address(0), bytes32(0)));
    }

    /// @inheritdoc IMemberRegistry
    function approve(uint256 proposalId) external onlyGovernor {
        Proposal storage p = _liveProposal(proposalId);
        if (_approved[proposalId][msg.sender]) revert MemberRegistryAlreadyApproved(proposalId, msg.sender);
        _recordApproval(proposalId, p);
    }

    /// @inheritdoc IMemberRegistry
    function execute(uint256 proposalId) external onlyGovernor {
        Proposal storage p = _liveProposal(proposalId);
        uint256 current = _currentApprovals(proposalId);
        if (current < _quorum) revert MemberRegistryQuorumNotReached(proposalId, current, _quorum);
        p.executed = true;
        _apply(proposalId, p);
        emit ProposalExecuted(proposalId, p.kind, msg.sender);
    }

    // ---------------------------------------------------------------- disabled AccessControl admin

    /// @notice Disabled: roles change only through governance proposals.
    function grantRole(bytes32, address) public pure override {
        revert MemberRegistryDirectRoleChangeDisabled();
    }

    /// @notice Disabled: roles change only through governance proposals.
    function revokeRole(bytes32, address) public pure override {
        revert MemberRegistryDirectRoleChangeDisabled();
    }

    /// @notice Disabled: a member leaves only through a governance removal.
    function renounceRole(bytes32, address) public pure override {
        revert MemberRegistryDirectRoleChangeDisabled();
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMemberRegistry
    function hasRole(bytes32 role, address account) public view override(AccessControl, IMemberRegistry) returns (bool) {
        return super.hasRole(role, account);
    }

    /// @inheritdoc IMemberRegistry
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IMemberRegistry
    function quorum() external view returns (uint64) {
        return _quorum;
    }

    /// @inheritdoc IMemberRegistry
    function governorCount() external view returns (uint256) {
        return _governorCount;
    }

    /// @inheritdoc IMemberRegistry
    function isMember(address account) external view returns (bool) {
        return _members[account].active;
    }

    /// @inheritdoc IMemberRegistry
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IMemberRegistry
    function rolesOf(address account) public view returns (bytes32[] memory held) {
        bytes32[8] memory all = _allRoles();
        uint256 n;
        held = new bytes32[](8);
        for (uint256 i = 0; i < 8; ++i) {
            if (hasRole(all[i], account)) held[n++] = all[i];
        }
        assembly ("memory-safe") {
            mstore(held, n)
        }
    }

    /// @inheritdoc IMemberRegistry
    function members() external view returns (address[] memory) {
        return _activeMembers.values();
    }

    /// @inheritdoc IMemberRegistry
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > _proposalCount) revert MemberRegistryUnknownProposal(proposalId);
        return _proposals[proposalId];
    }

    /// @inheritdoc IMemberRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IMemberRegistry
    function hasApproved(uint256 proposalId, address governor) external view returns (bool) {
        return _approved[proposalId][governor];
    }

    /// @inheritdoc IMemberRegistry
    function bootstrapper() external view returns (address) {
        return _bootstrapper;
    }

    /// @inheritdoc IMemberRegistry
    function bootstrapped() external view returns (bool) {
        return _bootstrapped;
    }

    /// @inheritdoc IMemberRegistry
    function proposalLifetime() external view returns (uint64) {
        return _proposalLifetime;
    }

    // ---------------------------------------------------------------- internals

    function _newProposal(ProposalKind kind, address account, bytes32 role) private returns (Proposal storage p) {
        uint256 id = ++_proposalCount;
        p = _proposals[id];
        p.kind = kind;
        p.proposer = msg.sender;
        p.account = account;
        p.role = role;
        p.expiresAt = uint64(block.timestamp) + _proposalLifetime;
    }

    /// @dev Emits the creation and counts the proposer's own approval.
    function _openProposal(Proposal storage p) private returns (uint256 id) {
        id = _proposalCount;
        emit ProposalCreated(id, p.kind, msg.sender, p.account, p.role, p.expiresAt);
        _recordApproval(id, p);
    }

    function _recordApproval(uint256 proposalId, Proposal storage p) private {
        _approved[proposalId][msg.sender] = true;
        _approvers[proposalId].push(msg.sender);
        p.approvals += 1;
        emit ProposalApproved(proposalId, msg.sender, p.approvals);
    }

    function _liveProposal(uint256 proposalId) private view returns (Proposal storage p) {
        if (proposalId == 0 || proposalId > _proposalCount) revert MemberRegistryUnknownProposal(proposalId);
        p = _proposals[proposalId];
        if (p.executed) revert MemberRegistryProposalAlreadyExecuted(proposalId);
        // Governance windows are days long; a validator's few seconds of timestamp drift cannot matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > p.expiresAt) revert MemberRegistryProposalExpired(proposalId, p.expiresAt);
    }

    /// @dev Only approvals of accounts that are governors now count, so a removed governor's
    /// earlier approval cannot carry a proposal.
    function _currentApprovals(uint256 proposalId) private view returns (uint256 count) {
        address[] storage approvers = _approvers[proposalId];
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (hasRole(Roles.GOVERNOR, approvers[i])) ++count;
        }
    }

    function _apply(uint256 proposalId, Proposal storage p) private {
        ProposalKind kind = p.kind;
        if (kind == ProposalKind.Admit) {
            _admit(p.account, p.name, p.roles);
        } else if (kind == ProposalKind.Remove) {
            _requireRemovable(p.account);
            _remove(p.account);
        } else if (kind == ProposalKind.GrantRole) {
            _requireGrantable(p.account, p.role);
            _grantMemberRole(p.role, p.account);
        } else if (kind == ProposalKind.RevokeRole) {
            _requireRevocable(p.account, p.role);
            _revokeMemberRole(p.role, p.account);
        } else if (kind == ProposalKind.SetQuorum) {
            _requireValidQuorum(p.quorum, _governorCount);
            emit QuorumChanged(_quorum, p.quorum);
            _quorum = p.quorum;
        } else if (kind == ProposalKind.Pause) {
            if (_paused) revert MemberRegistryPauseUnchanged(true);
            _paused = true;
            emit PlatformPaused(proposalId);
        } else {
            if (!_paused) revert MemberRegistryPauseUnchanged(false);
            _paused = false;
            emit PlatformUnpaused(proposalId);
        }
    }

    function _admit(address account, string memory name, bytes32[] memory roles) private {
        _requireAdmissible(account, name, roles);
        _members[account] = Member({name: name, active: true, admittedAt: uint64(block.timestamp)});
        if (!_activeMembers.add(account)) revert MemberRegistryAlreadyMember(account);
        for (uint256 i = 0; i < roles.length; ++i) {
            if (hasRole(roles[i], account)) revert MemberRegistryRoleAlreadyHeld(account, roles[i]);
            _grantMemberRole(roles[i], account);
        }
        emit MemberAdmitted(account, name, roles);
    }

    function _remove(address account) private {
        bytes32[] memory held = rolesOf(account);
        for (uint256 i = 0; i < held.length; ++i) {
            _revokeMemberRole(held[i], account);
        }
        _members[account].active = false;
        if (!_activeMembers.remove(account)) revert MemberRegistryNotMember(account);
        emit MemberRemoved(account, _members[account].name);
    }

    function _grantMemberRole(bytes32 role, address account) private {
        if (_grantRole(role, account) && role == Roles.GOVERNOR) ++_governorCount;
    }

    function _revokeMemberRole(bytes32 role, address account) private {
        if (_revokeRole(role, account) && role == Roles.GOVERNOR) --_governorCount;
    }

    function _requireAdmissible(address account, string memory name, bytes32[] memory roles) private view {
        if (account == address(0)) revert MemberRegistryZeroAddress();
        if (bytes(name).length == 0) revert MemberRegistryEmptyName();
        if (_members[account].active) revert MemberRegistryAlreadyMember(account);
        for (uint256 i = 0; i < roles.length; ++i) {
            if (!Roles.isKnown(roles[i])) revert MemberRegistryUnknownRole(roles[i]);
        }
    }

    function _requireRemovable(address account) private view {
        if (!_members[account].active) revert MemberRegistryNotMember(account);
        if (hasRole(Roles.GOVERNOR, account)) _requireValidQuorum(_quorum, _governorCount - 1);
    }

    function _requireGrantable(address account, bytes32 role) private view {
        if (!Roles.isKnown(role)) revert MemberRegistryUnknownRole(role);
        if (!_members[account].active) revert MemberRegistryNotMember(account);
        if (hasRole(role, account)) revert MemberRegistryRoleAlreadyHeld(account, role);
    }

    function _requireRevocable(address account, bytes32 role) private view {
        if (!hasRole(role, account)) revert MemberRegistryRoleNotHeld(account, role);
        if (role == Roles.GOVERNOR) _requireValidQuorum(_quorum, _governorCount - 1);
    }

    function _requireValidQuorum(uint64 quorum_, uint256 governors) private pure {
        if (quorum_ == 0 || quorum_ > governors) revert MemberRegistryInvalidQuorum(quorum_, governors);
    }

    function _allRoles() private pure returns (bytes32[8] memory) {
        return [
            Roles.GOVERNOR,
            Roles.FINANCIER,
            Roles.CREDIT_BUREAU,
            Roles.SCORER,
            Roles.EXCHANGE,
            Roles.INVESTOR,
            Roles.IOT_GATEWAY,
            Roles.AUDITOR
        ];
    }
}
