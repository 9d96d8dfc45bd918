// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMemberRegistry
/// @notice The consortium's member registry: organisations, their roles, m-of-n governance
/// over admission, removal, role changes, the quorum itself and the platform-wide pause.
interface IMemberRegistry {
    /// @notice What a governance proposal would change once executed.
    enum ProposalKind {
        Admit,
        Remove,
        GrantRole,
        RevokeRole,
        SetQuorum,
        Pause,
        Unpause
    }

    /// @notice A consortium member: an organisation acting through one account.
    struct Member {
        string name;
        bool active;
        uint64 admittedAt;
    }

    /// @notice A governance proposal. `approvals` counts every approval given; execution counts
    /// only approvals of accounts that are still governors.
    struct Proposal {
        ProposalKind kind;
        address proposer;
        address account;
        bytes32 role;
        string name;
        bytes32[] roles;
        uint64 quorum;
        uint64 expiresAt;
        uint32 approvals;
        bool executed;
    }

    /// @notice Only the deployer may bootstrap, and only before bootstrap completes.
    error MemberRegistryNotBootstrapper(address caller);
    /// @notice Bootstrap already completed; the deployer holds no powers any more.
    error MemberRegistryBootstrapEnded();
    /// @notice Bootstrap argument arrays differ in length.
    error MemberRegistryLengthMismatch(uint256 accounts, uint256 names, uint256 roles);
    /// @notice A quorum of `quorum` is impossible with `governors` governors (needs 1 <= m <= n).
    error MemberRegistryInvalidQuorum(uint64 quorum, uint256 governors);
    /// @notice No proposal has this id.
    error MemberRegistryUnknownProposal(uint256 proposalId);
    /// @notice The proposal's approval window has closed.
    error MemberRegistryProposalExpired(uint256 proposalId, uint64 expiredAt);
    /// @notice The proposal was already executed.
    error MemberRegistryProposalAlreadyExecuted(uint256 proposalId);
    /// @notice Too few current governors approved the proposal.
    error MemberRegistryQuorumNotReached(uint256 proposalId, uint256 approvals, uint64 quorum);
    /// @notice This governor already approved the proposal.
    error MemberRegistryAlreadyApproved(uint256 proposalId, address governor);
    /// @notice The account is already an active member.
    error MemberRegistryAlreadyMember(address account);
    /// @notice The account is not an active member.
    error MemberRegistryNotMember(address account);
    /// @notice The zero address cannot be a member.
    error MemberRegistryZeroAddress();
    /// @notice A member needs a name.
    error MemberRegistryEmptyName();
    /// @notice The role is not one of the consortium's roles.
    error MemberRegistryUnknownRole(bytes32 role);
    /// @notice The member already holds the role.
    error MemberRegistryRoleAlreadyHeld(address account, bytes32 role);
    /// @notice The member does not hold the role.
    error MemberRegistryRoleNotHeld(address account, bytes32 role);
    /// @notice The platform is already in the requested pause state.
    error MemberRegistryPauseUnchanged(bool paused);
    /// @notice The caller is not a governor.
    error MemberRegistryNotGovernor(address caller);
    /// @notice Roles change only through governance proposals, never directly.
    error MemberRegistryDirectRoleChangeDisabled();
    /// @notice The proposal lifetime must be positive.
    error MemberRegistryZeroLifetime();

    /// @notice The first governors were seated; the deployer's bootstrap powers ended.
    event BootstrapCompleted(address indexed bootstrapper, uint256 members, uint256 governors, uint64 quorum);
    /// @notice An organisation was admitted with its roles.
    event MemberAdmitted(address indexed account, string name, bytes32[] roles);
    /// @notice A member was removed and lost every role.
    event MemberRemoved(address indexed account, string name);
    /// @notice A governor proposed a change.
    event ProposalCreated(
        uint256 indexed proposalId, ProposalKind kind, address indexed proposer, address indexed account,
        bytes32 role, uint64 expiresAt
    );
    /// @notice A governor approved a proposal.
    event ProposalApproved(uint256 indexed proposalId, address indexed governor, uint32 approvals);
    /// @notice A proposal reached quorum and took effect.
    event ProposalExecuted(uint256 indexed proposalId, ProposalKind kind, address indexed executor);
    /// @notice The m of m-of-n governance changed.
    event QuorumChanged(uint64 previousQuorum, uint64 newQuorum);
    /// @notice Governance paused every state-changing function of the platform's contracts.
    event PlatformPaused(uint256 indexed proposalId);
    /// @notice Governance lifted the pause.
    event PlatformUnpaused(uint256 indexed proposalId);

    function bootstrap(address[] calldata accounts, string[] calldata names, bytes32[][] calldata roles, uint64 quorum_)
        external;
    function proposeAdmit(address account, string calldata name, bytes32[] calldata roles) external returns (uint256);
    function proposeRemove(address account) external returns (uint256);
    function proposeGrantRole(address account, bytes32 role) external returns (uint256);
    function proposeRevokeRole(address account, bytes32 role) external returns (uint256);
    function proposeSetQuorum(uint64 quorum_) external returns (uint256);
    function proposePause() external returns (uint256);
    function proposeUnpause() external returns (uint256);
    function approve(uint256 proposalId) external;
    function execute(uint256 proposalId) external;

    function paused() external view returns (bool);
    function quorum() external view returns (uint64);
    function governorCount() external view returns (uint256);
    function isMember(address account) external view returns (bool);
    function memberOf(address account) external view returns (Member memory);
    function rolesOf(address account) external view returns (bytes32[] memory);
    function members() external view returns (address[] memory);
    function proposal(uint256 proposalId) external view returns (Proposal memory);
    function proposalCount() external view returns (uint256);
    function hasApproved(uint256 proposalId, address governor) external view returns (bool);
    function bootstrapper() external view returns (address);
    function bootstrapped() external view returns (bool);
    function proposalLifetime() external view returns (uint64);
    function hasRole(bytes32 role, address account) external view returns (bool);
}
