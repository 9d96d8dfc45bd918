// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {ICollateralRegistry} from "./interfaces/ICollateralRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {Roles} from "./lib/Roles.sol";

/// @title CollateralRegistry
/// @notice IoT collateral monitoring on chain: pledges and their loans, devices under their
/// gateways, one Merkle root per window of signed device events, warnings, freezes of undrawn
/// credit and review outcomes. Telemetry itself stays off chain; every accepted event is
/// provable against its window's root with `verifyEvent`.
/// @dev Roles: FINANCIER pledges, IOT_GATEWAY registers devices and anchors, SCORER (the
/// platform's risk service) warns and freezes, AUDITOR reviews. See ICollateralRegistry.
contract CollateralRegistry is ConsortiumGuarded, ICollateralRegistry {
    /// @notice A collateral secures at most this many loans, which bounds a review's loop.
    uint256 public constant MAX_LOANS_PER_COLLATERAL = 32;
    uint16 private constant BPS = 10_000;

    mapping(bytes32 collateralId => Collateral) private _collaterals;
    mapping(bytes32 collateralId => bytes32[] assetIds) private _loans;
    mapping(bytes32 collateralId => mapping(bytes32 assetId => bool)) private _linked;
    mapping(address device => Device) private _devices;
    uint256 private _windowCount;
    mapping(uint256 windowId => EventWindow) private _windows;
    mapping(bytes32 root => uint256 windowId) private _windowOfRoot;
    uint256 private _warningCount;
    mapping(uint256 warningId => Warning) private _warnings;
    mapping(bytes32 assetId => Freeze) private _freezes;
    uint256 private _reviewCount;
    mapping(uint256 reviewId => Review) private _reviews;

    constructor(IMemberRegistry registry_) ConsortiumGuarded(registry_) {}

    /// @inheritdoc ICollateralRegistry
    function registerCollateral(bytes32 collateralId, bytes32[] calldata assetIds, bytes32 profileHash)
        external
        onlyMember(Roles.FINANCIER)
    {
        if (collateralId == bytes32(0)) revert CollateralRegistryZeroValue();
        if (_collaterals[collateralId].financier != address(0)) revert CollateralRegistryCollateralExists(collateralId);
        if (assetIds.length == 0 || assetIds.length > MAX_LOANS_PER_COLLATERAL) {
            revert CollateralRegistryLoanCount(assetIds.length, MAX_LOANS_PER_COLLATERAL);
        }
        _collaterals[collateralId] = Collateral({
            financier: msg.sender, profileHash: profileHash, registeredAt: uint64(block.timestamp), loanCount: 0
        });
        emit CollateralRegistered(collateralId, msg.sender, profileHash, uint32(assetIds.length));
        for (uint256 i = 0; i < assetIds.length; ++i) {
            _link(collateralId, assetIds[i]);
        }
    }

    /// @inheritdoc ICollateralRegistry
    function linkLoan(bytes32 collateralId, bytes32 assetId) external onlyMember(Roles.FINANCIER) {
        Collateral storage c = _existingCollateral(collateralId);
        if (c.financier != msg.sender) revert CollateralRegistryNotFinancier(collateralId, msg.sender);
        if (c.loanCount >= MAX_LOANS_PER_COLLATERAL) {
            revert CollateralRegistryLoanCount(uint256(c.loanCount) + 1, MAX_LOANS_PER_COLLATERAL);
        }
        _link(collateralId, assetId);
    }

    /// @inheritdoc ICollateralRegistry
    function registerDevice(address device_, bytes32 collateralId) external onlyMember(Roles.IOT_GATEWAY) {
        if (device_ == address(0)) revert CollateralRegistryZeroValue();
        _existingCollateral(collateralId);
        if (_devices[device_].gateway != address(0)) revert CollateralRegistryDeviceExists(device_);
        _devices[device_] = Device({
            gateway: msg.sender, collateralId: collateralId, registeredAt: uint64(block.timestamp), revokedAt: 0
        });
        emit DeviceRegistered(device_, msg.sender, collateralId);
    }

    /// @inheritdoc ICollateralRegistry
    function revokeDevice(address device_) external onlyMember(Roles.IOT_GATEWAY) {
        Device storage d = _devices[device_];
        if (d.gateway == address(0)) revert CollateralRegistryUnknownDevice(device_);
        if (d.gateway != msg.sender) revert CollateralRegistryNotDeviceGateway(device_, msg.sender);
        if (d.revokedAt != 0) revert CollateralRegistryDeviceRevoked(device_);
        d.revokedAt = uint64(block.timestamp);
        emit DeviceRevoked(device_, msg.sender);
    }

    /// @inheritdoc ICollateralRegistry
    function anchorEvents(bytes32 root, uint32 eventCount, uint64 fromTs, uint64 toTs)
        external
        onlyMember(Roles.IOT_GATEWAY)
        returns (uint256 windowId)
    {
        if (root == bytes32(0)) revert CollateralRegistryZeroValue();
        if (eventCount == 0 || fromTs > toTs) revert CollateralRegistryInvalidWindow(eventCount, fromTs, toTs);
        uint256 existing = _windowOfRoot[root];
        if (existing != 0) revert CollateralRegistryDuplicateRoot(root, existing);
        windowId = ++_windowCount;
        _windows[windowId] = EventWindow({
            gateway: msg.sender,
            root: root,
            eventCount: eventCount,
            fromTs: fromTs,
            toTs: toTs,
            anchoredAt: uint64(block.timestamp)
        });
        _windowOfRoot[root] = windowId;
        emit EventsAnchored(windowId, msg.sender, root, eventCount, fromTs, toTs);
    }

    /// @inheritdoc ICollateralRegistry
    function raiseWarning(bytes32 collateralId, Level level, bytes32 ruleId, bytes32 evidenceHash, uint64 observedAt)
        external
        onlyMember(Roles.SCORER)
        returns (uint256 warningId)
    {
        _existingCollateral(collateralId);
        if (level == Level.None) revert CollateralRegistryNoLevel();
        if (ruleId == bytes32(0)) revert CollateralRegistryZeroValue();
        warningId = ++_warningCount;
        _warnings[warningId] = Warning({
            collateralId: collateralId,
            level: level,
            status: WarningStatus.Open,
            ruleId: ruleId,
            evidenceHash: evidenceHash,
            observedAt: observedAt,
            raisedAt: uint64(block.timestamp),
            raisedBy: msg.sender
        });
        emit WarningRaised(warningId, collateralId, level, ruleId, evidenceHash, observedAt);
    }

    /// @inheritdoc ICollateralRegistry
    function freezeCredit(bytes32 assetId, uint256 warningId, uint16 frozenBps, uint128 frozenAmount)
        external
        onlyMember(Roles.SCORER)
    {
        Warning storage w = _openWarning(warningId);
        if (w.level != Level.Yellow && w.level != Level.Red) revert CollateralRegistryNotFreezing(warningId, w.level);
        if (!_linked[w.collateralId][assetId]) revert CollateralRegistryLoanNotLinked(w.collateralId, assetId);
        if (frozenBps == 0 || frozenBps > BPS) revert CollateralRegistryFreezeOutOfRange(frozenBps);
        Freeze storage f = _freezes[assetId];
        if (f.frozenBps >= frozenBps) revert CollateralRegistryFreezeNotIncreased(assetId, f.frozenBps, frozenBps);
        f.warningId = warningId;
        f.frozenBps = frozenBps;
        f.frozenAt = uint64(block.timestamp);
        emit CreditFrozen(assetId, warningId, frozenBps, frozenAmount);
    }

    /// @inheritdoc ICollateralRegistry
    function recordReview(uint256 warningId, ReviewOutcome outcome, Level level, uint16 frozenBps, bytes32 notesHash)
        external
        onlyMember(Roles.AUDITOR)
        returns (uint256 reviewId)
    {
        Warning storage w = _openWarning(warningId);
        if (outcome == ReviewOutcome.Adjust) {
            if (level == Level.None) revert CollateralRegistryNoLevel();
            if (frozenBps > BPS) revert CollateralRegistryFreezeOutOfRange(frozenBps);
        } else {
            level = w.level;
            frozenBps = 0;
        }
        reviewId = ++_reviewCount;
        _reviews[reviewId] = Review({
            warningId: warningId,
            outcome: outcome,
            level: level,
            frozenBps: frozenBps,
            notesHash: notesHash,
            reviewer: msg.sender,
            reviewedAt: uint64(block.timestamp)
        });
        emit ReviewRecorded(reviewId, warningId, msg.sender, outcome, level, frozenBps, notesHash);
        if (outcome == ReviewOutcome.Restore) {
            _applyToFreezes(w.collateralId, warningId, reviewId, 0);
            w.status = WarningStatus.Resolved;
            emit WarningResolved(warningId, reviewId);
        } else if (outcome == ReviewOutcome.Adjust) {
            _applyToFreezes(w.collateralId, warningId, reviewId, frozenBps);
            if (level != w.level) {
                emit WarningLevelChanged(warningId, w.level, level);
                w.level = level;
            }
        }
    }

    /// @inheritdoc ICollateralRegistry
    function collateral(bytes32 collateralId) external view returns (Collateral memory) {
        return _existingCollateral(collateralId);
    }

    /// @inheritdoc ICollateralRegistry
    function loansOf(bytes32 collateralId) external view returns (bytes32[] memory) {
        _existingCollateral(collateralId);
        return _loans[collateralId];
    }

    /// @inheritdoc ICollateralRegistry
    function isLinked(bytes32 collateralId, bytes32 assetId) external view returns (bool) {
        return _linked[collateralId][assetId];
    }

    /// @inheritdoc ICollateralRegistry
    function device(address device_) external view returns (Device memory d) {
        d = _devices[device_];
        if (d.gateway == address(0)) revert CollateralRegistryUnknownDevice(device_);
    }

    /// @inheritdoc ICollateralRegistry
    function isActiveDevice(address device_) external view returns (bool) {
        Device storage d = _devices[device_];
        return d.gateway != address(0) && d.revokedAt == 0;
    }

    /// @inheritdoc ICollateralRegistry
    function window(uint256 windowId) public view returns (EventWindow memory) {
        if (windowId == 0 || windowId > _windowCount) revert CollateralRegistryUnknownWindow(windowId);
        return _windows[windowId];
    }

    /// @inheritdoc ICollateralRegistry
    function windowCount() external view returns (uint256) {
        return _windowCount;
    }

    /// @inheritdoc ICollateralRegistry
    function windowOfRoot(bytes32 root) external view returns (uint256) {
        return _windowOfRoot[root];
    }

    /// @inheritdoc ICollateralRegistry
    function warning(uint256 warningId) external view returns (Warning memory) {
        return _existingWarning(warningId);
    }

    /// @inheritdoc ICollateralRegistry
    function warningCount() external view returns (uint256) {
        return _warningCount;
    }

    /// @inheritdoc ICollateralRegistry
    function freezeOf(bytes32 assetId) external view returns (Freeze memory) {
        return _freezes[assetId];
    }

    /// @inheritdoc ICollateralRegistry
    function review(uint256 reviewId) external view returns (Review memory) {
        if (reviewId == 0 || reviewId > _reviewCount) revert CollateralRegistryUnknownReview(reviewId);
        return _reviews[reviewId];
    }

    /// @inheritdoc ICollateralRegistry
    function reviewCount() external view returns (uint256) {
        return _reviewCount;
    }

    /// @inheritdoc ICollateralRegistry
    function verifyEvent(
        uint256 windowId,
        address device_,
        uint64 sequence,
        uint64 timestamp,
        bytes32 eventHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        EventWindow memory w = window(windowId);
        if (_devices[device_].gateway != w.gateway) return false;
        return MerkleProof.verifyCalldata(proof, w.root, _eventLeaf(device_, sequence, timestamp, eventHash));
    }

    /// @dev StandardMerkleTree leaf of encoding ["address","uint64","uint64","bytes32"]
    /// (chain.leaves.IOT_EVENT_LEAF): device, sequence, timestamp (unix ms), event hash.
    function _eventLeaf(address device_, uint64 sequence, uint64 timestamp, bytes32 eventHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(device_, sequence, timestamp, eventHash))));
    }

    function _link(bytes32 collateralId, bytes32 assetId) private {
        if (assetId == bytes32(0)) revert CollateralRegistryZeroValue();
        if (_linked[collateralId][assetId]) revert CollateralRegistryLoanAlreadyLinked(collateralId, assetId);
        _linked[collateralId][assetId] = true;
        _loans[collateralId].push(assetId);
        _collaterals[collateralId].loanCount += 1;
        emit LoanLinked(collateralId, assetId);
    }

    /// @dev Lifts (0) or resets every freeze this warning caused on the collateral's loans;
    /// freezes another warning caused since are left to that warning's review.
    function _applyToFreezes(bytes32 collateralId, uint256 warningId, uint256 reviewId, uint16 frozenBps) private {
        bytes32[] storage loans = _loans[collateralId];
        for (uint256 i = 0; i < loans.length; ++i) {
            Freeze storage f = _freezes[loans[i]];
            if (f.warningId != warningId || f.frozenBps == 0) continue;
            if (frozenBps == 0) {
                delete _freezes[loans[i]];
                emit CreditUnfrozen(loans[i], warningId, reviewId);
            } else if (f.frozenBps != frozenBps) {
                emit CreditFreezeAdjusted(loans[i], warningId, f.frozenBps, frozenBps);
                f.frozenBps = frozenBps;
                f.frozenAt = uint64(block.timestamp);
            }
        }
    }

    function _existingCollateral(bytes32 collateralId) private view returns (Collateral storage c) {
        c = _collaterals[collateralId];
        if (c.financier == address(0)) revert CollateralRegistryUnknownCollateral(collateralId);
    }

    function _existingWarning(uint256 warningId) private view returns (Warning storage w) {
        if (warningId == 0 || warningId > _warningCount) revert CollateralRegistryUnknownWarning(warningId);
        w = _warnings[warningId];
    }

    function _openWarning(uint256 warningId) private view returns (Warning storage w) {
        w = _existingWarning(warningId);
        if (w.status == WarningStatus.Resolved) revert CollateralRegistryWarningResolved(warningId);
    }
}
