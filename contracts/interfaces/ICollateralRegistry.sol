// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICollateralRegistry
/// @notice IoT-monitored collateral (seed 000, DESIGN step 9): pledged equipment, vehicles and
/// cold-chain goods linked to loans, the devices that report on them, Merkle roots of their
/// signed telemetry per short window, warnings, credit freezes and the manual reviews that
/// restore or keep a freeze.
/// @dev Who does what: a FINANCIER pledges a collateral and links its loans; an IOT_GATEWAY
/// registers and revokes its own devices and anchors their event windows; the platform's risk
/// service (SCORER, the party that already rates every asset) raises warnings and freezes
/// undrawn credit; an AUDITOR (independent of both the lender and the risk service) records the
/// outcome of a manual review, which may lift or adjust the freeze it concerns.
interface ICollateralRegistry {
    /// @notice Warning levels of seed 000: blue (reminder, 72 h), yellow (attention, 24 h), red (emergency, 2 h).
    enum Level {
        None,
        Blue,
        Yellow,
        Red
    }

    enum WarningStatus {
        None,
        Open,
        Resolved
    }

    /// @notice A review keeps the warning and its freezes, restores the credit (resolving the
    /// warning), or adjusts the warning's level and the frozen share.
    enum ReviewOutcome {
        Keep,
        Restore,
        Adjust
    }

    struct Collateral {
        address financier;
        bytes32 profileHash;
        uint64 registeredAt;
        uint32 loanCount;
    }

    struct Device {
        address gateway;
        bytes32 collateralId;
        uint64 registeredAt;
        uint64 revokedAt;
    }

    /// @notice The Merkle root of the events one gateway accepted in a window; times are unix ms.
    struct EventWindow {
        address gateway;
        bytes32 root;
        uint32 eventCount;
        uint64 fromTs;
        uint64 toTs;
        uint64 anchoredAt;
    }

    struct Warning {
        bytes32 collateralId;
        Level level;
        WarningStatus status;
        bytes32 ruleId;
        bytes32 evidenceHash;
        uint64 observedAt;
        uint64 raisedAt;
        address raisedBy;
    }

    /// @notice The share of a loan's undrawn credit that is frozen, and the warning that froze it.
    struct Freeze {
        uint256 warningId;
        uint16 frozenBps;
        uint64 frozenAt;
    }

    /// @notice A review's outcome; `level` is the warning's level after it, `frozenBps` the
    /// share an Adjust set (0 for Keep and Restore).
    struct Review {
        uint256 warningId;
        ReviewOutcome outcome;
        Level level;
        uint16 frozenBps;
        bytes32 notesHash;
        address reviewer;
        uint64 reviewedAt;
    }

    /// @notice Identifiers, roots and rule ids must not be zero.
    error CollateralRegistryZeroValue();
    /// @notice No collateral has this id.
    error CollateralRegistryUnknownCollateral(bytes32 collateralId);
    /// @notice The collateral is already registered.
    error CollateralRegistryCollateralExists(bytes32 collateralId);
    /// @notice A collateral secures 1 to `max` loans.
    error CollateralRegistryLoanCount(uint256 count, uint256 max);
    /// @notice The loan is already linked to the collateral.
    error CollateralRegistryLoanAlreadyLinked(bytes32 collateralId, bytes32 assetId);
    /// @notice The loan is not linked to the warning's collateral.
    error CollateralRegistryLoanNotLinked(bytes32 collateralId, bytes32 assetId);
    /// @notice Only the financier that pledged the collateral may do this.
    error CollateralRegistryNotFinancier(bytes32 collateralId, address caller);
    /// @notice No device has this address.
    error CollateralRegistryUnknownDevice(address device);
    /// @notice The device address was registered before (a revoked key is never reused).
    error CollateralRegistryDeviceExists(address device);
    /// @notice Only the gateway the device is registered under may do this.
    error CollateralRegistryNotDeviceGateway(address device, address caller);
    /// @notice The device is revoked.
    error CollateralRegistryDeviceRevoked(address device);
    /// @notice A window needs at least one event and fromTs <= toTs.
    error CollateralRegistryInvalidWindow(uint32 eventCount, uint64 fromTs, uint64 toTs);
    /// @notice This root was anchored before, as window `windowId`.
    error CollateralRegistryDuplicateRoot(bytes32 root, uint256 windowId);
    /// @notice No window has this id.
    error CollateralRegistryUnknownWindow(uint256 windowId);
    /// @notice No warning has this id.
    error CollateralRegistryUnknownWarning(uint256 warningId);
    /// @notice No review has this id.
    error CollateralRegistryUnknownReview(uint256 reviewId);
    /// @notice A warning needs a level.
    error CollateralRegistryNoLevel();
    /// @notice Only yellow and red warnings freeze credit.
    error CollateralRegistryNotFreezing(uint256 warningId, Level level);
    /// @notice The warning was resolved by a review.
    error CollateralRegistryWarningResolved(uint256 warningId);
    /// @notice A freeze is 1 to 10000 basis points of the undrawn credit.
    error CollateralRegistryFreezeOutOfRange(uint16 frozenBps);
    /// @notice A new freeze must freeze more than the one in force; lowering is a review's decision.
    error CollateralRegistryFreezeNotIncreased(bytes32 assetId, uint16 currentBps, uint16 requestedBps);

    /// @notice A financier pledged a collateral for `loanCount` loans.
    event CollateralRegistered(
        bytes32 indexed collateralId, address indexed financier, bytes32 profileHash, uint32 loanCount
    );
    /// @notice A loan was linked to a collateral.
    event LoanLinked(bytes32 indexed collateralId, bytes32 indexed assetId);
    /// @notice A gateway registered a device (its own key) on a collateral.
    event DeviceRegistered(address indexed device, address indexed gateway, bytes32 indexed collateralId);
    /// @notice A gateway revoked one of its devices; its later events are refused.
    event DeviceRevoked(address indexed device, address indexed gateway);
    /// @notice A gateway anchored the Merkle root of a window of accepted events.
    event EventsAnchored(
        uint256 indexed windowId, address indexed gateway, bytes32 root, uint32 eventCount, uint64 fromTs, uint64 toTs
    );
    /// @notice The risk service raised a warning on a collateral.
    event WarningRaised(
        uint256 indexed warningId, bytes32 indexed collateralId, Level level, bytes32 ruleId, bytes32 evidenceHash,
        uint64 observedAt
    );
    /// @notice A review changed a warning's level.
    event WarningLevelChanged(uint256 indexed warningId, Level previous, Level current);
    /// @notice A review resolved a warning.
    event WarningResolved(uint256 indexed warningId, uint256 indexed reviewId);
    /// @notice Part or all (`frozenBps` of 10000) of a loan's undrawn credit was frozen.
    event CreditFrozen(bytes32 indexed assetId, uint256 indexed warningId, uint16 frozenBps, uint128 frozenAmount);
    /// @notice A review changed the frozen share of a loan's undrawn credit.
    event CreditFreezeAdjusted(bytes32 indexed assetId, uint256 indexed warningId, uint16 previousBps, uint16 frozenBps);
    /// @notice A review restored a loan's undrawn credit.
    event CreditUnfrozen(bytes32 indexed assetId, uint256 indexed warningId, uint256 indexed reviewId);
    /// @notice A reviewer recorded the outcome of a manual review.
    event ReviewRecorded(
        uint256 indexed reviewId, uint256 indexed warningId, address indexed reviewer, ReviewOutcome outcome,
        Level level, uint16 frozenBps, bytes32 notesHash
    );

    /// @notice Pledge `collateralId` for the loans `assetIds` (keccak256 of each loan id).
    function registerCollateral(bytes32 collateralId, bytes32[] calldata assetIds, bytes32 profileHash) external;
    /// @notice Link one more loan to a collateral the caller pledged.
    function linkLoan(bytes32 collateralId, bytes32 assetId) external;
    /// @notice Register `device` (the address of the device's own key) on a collateral, under the caller.
    function registerDevice(address device, bytes32 collateralId) external;
    /// @notice Revoke one of the caller's devices.
    function revokeDevice(address device) external;
    /// @notice Anchor the root of `eventCount` events with timestamps in [fromTs, toTs] (unix ms).
    function anchorEvents(bytes32 root, uint32 eventCount, uint64 fromTs, uint64 toTs)
        external
        returns (uint256 windowId);
    /// @notice Raise a warning of `level` from rule `ruleId`, observed at `observedAt` (unix ms).
    function raiseWarning(bytes32 collateralId, Level level, bytes32 ruleId, bytes32 evidenceHash, uint64 observedAt)
        external
        returns (uint256 warningId);
    /// @notice Freeze `frozenBps` of a loan's undrawn credit (`frozenAmount` in minor units) for a warning.
    function freezeCredit(bytes32 assetId, uint256 warningId, uint16 frozenBps, uint128 frozenAmount) external;
    /// @notice Record a review of a warning; Restore lifts, Adjust resets, the freezes it caused.
    function recordReview(uint256 warningId, ReviewOutcome outcome, Level level, uint16 frozenBps, bytes32 notesHash)
        external
        returns (uint256 reviewId);

    function collateral(bytes32 collateralId) external view returns (Collateral memory);
    function loansOf(bytes32 collateralId) external view returns (bytes32[] memory);
    function isLinked(bytes32 collateralId, bytes32 assetId) external view returns (bool);
    function device(address device_) external view returns (Device memory);
    function isActiveDevice(address device_) external view returns (bool);
    function window(uint256 windowId) external view returns (EventWindow memory);
    function windowCount() external view returns (uint256);
    function windowOfRoot(bytes32 root) external view returns (uint256);
    function warning(uint256 warningId) external view returns (Warning memory);
    function warningCount() external view returns (uint256);
    function freezeOf(bytes32 assetId) external view returns (Freeze memory);
    function review(uint256 reviewId) external view returns (Review memory);
    function reviewCount() external view returns (uint256);
    /// @notice Whether an event (device, sequence, timestamp, event hash) is in window `windowId`,
    /// anchored by the gateway the device is registered under.
    function verifyEvent(
        uint256 windowId,
        address device_,
        uint64 sequence,
        uint64 timestamp,
        bytes32 eventHash,
        bytes32[] calldata proof
    ) external view returns (bool);
}
