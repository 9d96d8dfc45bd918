// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "./IInvestorRegistry.sol";

/// @title ITrancheToken
/// @notice One tranche of a listed product: an ERC-20 whose units only whitelisted investors may
/// hold (ERC-3643 discipline). One base unit is one minor unit (cent) of face value, hence two
/// decimals. The exchange (EXCHANGE) mints allocations, freezes holdings and forces transfers;
/// governance's platform pause stops every movement.
interface ITrancheToken {
    /// @notice The tranche was already initialised (the template counts as initialised).
    error TrancheTokenAlreadyInitialized();
    /// @notice `account` may not hold units of this tranche, for `reason`.
    error TrancheTokenNotEligible(address account, IInvestorRegistry.Eligibility reason);
    /// @notice The exchange froze `account`: it can neither send nor receive units.
    error TrancheTokenAccountFrozen(address account);
    /// @notice `account` has only `available` unfrozen units and `needed` were to move.
    error TrancheTokenInsufficientUnfrozenBalance(address account, uint256 available, uint256 needed);
    /// @notice Minting would take the supply to `supplyAfter`, above the tranche size `cap`.
    error TrancheTokenCapExceeded(uint256 cap, uint256 supplyAfter);
    /// @notice This allocation was minted already.
    error TrancheTokenAllocationAlreadyMinted(bytes32 allocationId);
    /// @notice An allocation needs as many amounts as investors, and at least one of each.
    error TrancheTokenInvalidAllocation(uint256 investors, uint256 amounts);
    /// @notice Only `balance` units can be frozen on `account`, not `amount`.
    error TrancheTokenFreezeExceedsBalance(address account, uint256 balance, uint256 amount);
    /// @notice A constructor or initialiser argument was the zero address or empty.
    error TrancheTokenInvalidSetup();

    /// @notice The product registry `issuer` made this clone tranche `trancheIndex` of `productId`.
    event TrancheTokenInitialized(
        uint256 indexed productId, uint8 trancheIndex, address indexed issuer, string name, string symbol, uint128 cap,
        bool qualifiedOnly
    );
    /// @notice The exchange `agent` minted allocation `allocationId`: `total` units to `investors` investors.
    event AllocationMinted(bytes32 indexed allocationId, uint256 investors, uint256 total, address indexed agent);
    /// @notice The exchange `agent` froze or unfroze `account`.
    event AccountFrozen(address indexed account, bool frozen, address indexed agent);
    /// @notice The exchange `agent` set the units frozen on `account` to `amount`.
    event FrozenAmountSet(address indexed account, uint256 amount, address indexed agent);
    /// @notice The exchange `agent` moved `amount` units from `from` to `to` without their consent.
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount, address indexed agent);

    function initialize(
        uint256 productId_,
        uint8 trancheIndex_,
        string calldata name_,
        string calldata symbol_,
        uint128 cap_,
        bool qualifiedOnly_
    ) external;
    function mintAllocation(bytes32 allocationId, address[] calldata investors, uint256[] calldata amounts) external;
    function forcedTransfer(address from, address to, uint256 amount) external;
    function setAccountFrozen(address account, bool frozen) external;
    function setFrozenAmount(address account, uint256 amount) external;

    function productId() external view returns (uint256);
    function trancheIndex() external view returns (uint8);
    function cap() external view returns (uint128);
    function qualifiedOnly() external view returns (bool);
    function issuer() external view returns (address);
    function investorRegistry() external view returns (address);
    function isFrozen(address account) external view returns (bool);
    function frozenAmount(address account) external view returns (uint256);
    function allocationMinted(bytes32 allocationId) external view returns (bool);
    /// @notice Why `account` may or may not receive units of this tranche now.
    function eligibilityOf(address account) external view returns (IInvestorRegistry.Eligibility);
}
