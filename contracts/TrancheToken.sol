// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IInvestorRegistry} from "./interfaces/IInvestorRegistry.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {ITrancheToken} from "./interfaces/ITrancheToken.sol";
import {Roles} from "./lib/Roles.sol";

/// @title TrancheToken
/// @notice A permissioned ERC-20 for one tranche. Units reach only accounts the investor
/// registry finds eligible (INVESTOR role, live whitelisting, qualification where required);
/// frozen accounts and frozen units do not move; the exchange agent mints allocations up to
/// the tranche size and may force a transfer (to an eligible investor only).
/// @dev Deployed once as a template by the platform deployment; the product registry lists a
/// product by cloning it (EIP-1167) once per tranche. Clones share the template's immutables
/// (member registry, investor registry) and keep their own storage, set by `initialize` in the
/// listing transaction. The template marks itself initialised so it can never become a tranche.
contract TrancheToken is ERC20, ConsortiumGuarded, ITrancheToken {
    // Set in the constructor, not a constant: `decimals` stays a view, as ERC-20 declares it.
    uint8 private immutable _decimals;
    IInvestorRegistry private immutable _investors;

    bool private _initialized;
    bool private _qualifiedOnly;
    uint8 private _trancheIndex;
    address private _issuer;
    uint128 private _cap;
    uint256 private _productId;
    string private _tokenName;
    string private _tokenSymbol;
    mapping(address account => bool) private _frozen;
    mapping(address account => uint256) private _frozenAmounts;
    mapping(bytes32 allocationId => bool) private _mintedAllocations;

    constructor(IMemberRegistry registry_, IInvestorRegistry investors_) ERC20("", "") ConsortiumGuarded(registry_) {
        if (address(investors_) == address(0)) revert TrancheTokenInvalidSetup();
        _investors = investors_;
        _decimals = 2;
        _initialized = true;
    }

    /// @inheritdoc ITrancheToken
    function initialize(
        uint256 productId_,
        uint8 trancheIndex_,
        string calldata name_,
        string calldata symbol_,
        uint128 cap_,
        bool qualifiedOnly_
    ) external {
        if (_initialized) revert TrancheTokenAlreadyInitialized();
        if (productId_ == 0 || cap_ == 0 || bytes(name_).length == 0 || bytes(symbol_).length == 0) {
            revert TrancheTokenInvalidSetup();
        }
        _initialized = true;
        _issuer = msg.sender;
        _productId = productId_;
        _trancheIndex = trancheIndex_;
        _tokenName = name_;
        _tokenSymbol = symbol_;
        _cap = cap_;
        _qualifiedOnly = qualifiedOnly_;
        emit TrancheTokenInitialized(productId_, trancheIndex_, msg.sender, name_, symbol_, cap_, qualifiedOnly_);
    }

    /// @inheritdoc ITrancheToken
    function mintAllocation(bytes32 allocationId, address[] calldata investors, uint256[] calldata amounts)
        external
        onlyMember(Roles.EXCHANGE)
    {
        if (investors.length == 0 || investors.length != amounts.length) {
            revert TrancheTokenInvalidAllocation(investors.length, amounts.length);
        }
        if (_mintedAllocations[allocationId]) revert TrancheTokenAllocationAlreadyMinted(allocationId);
        _mintedAllocations[allocationId] = true;
        uint256 total = 0;
        for (uint256 i = 0; i < investors.length; ++i) {
            total += amounts[i];
        }
        uint256 supplyAfter = totalSupply() + total;
        if (supplyAfter > _cap) revert TrancheTokenCapExceeded(_cap, supplyAfter);
        for (uint256 i = 0; i < investors.length; ++i) {
            _mint(investors[i], amounts[i]);
        }
        emit AllocationMinted(allocationId, investors.length, total, msg.sender);
    }

    /// @inheritdoc ITrancheToken
    /// @dev Ignores the sender's freezes (an agent's power, as in ERC-3643), releasing frozen
    /// units as far as the transfer needs them; the recipient must still be eligible.
    function forcedTransfer(address from, address to, uint256 amount) external onlyMember(Roles.EXCHANGE) {
        _requireEligible(to);
        if (_frozen[to]) revert TrancheTokenAccountFrozen(to);
        uint256 balance = balanceOf(from);
        uint256 locked = _frozenAmounts[from];
        uint256 free = balance > locked ? balance - locked : 0;
        if (amount > free && amount <= balance) {
            _frozenAmounts[from] = balance - amount;
            emit FrozenAmountSet(from, balance - amount, msg.sender);
        }
        ERC20._update(from, to, amount);
        emit ForcedTransfer(from, to, amount, msg.sender);
    }

    /// @inheritdoc ITrancheToken
    function setAccountFrozen(address account, bool frozen) external onlyMember(Roles.EXCHANGE) {
        _frozen[account] = frozen;
        emit AccountFrozen(account, frozen, msg.sender);
    }

    /// @inheritdoc ITrancheToken
    function setFrozenAmount(address account, uint256 amount) external onlyMember(Roles.EXCHANGE) {
        uint256 balance = balanceOf(account);
        if (amount > balance) revert TrancheTokenFreezeExceedsBalance(account, balance, amount);
        _frozenAmounts[account] = amount;
        emit FrozenAmountSet(account, amount, msg.sender);
    }

    /// @notice Approving needs an eligible owner (an allowance of 0 may always be set, to revoke).
    function approve(address spender, uint256 value) public override returns (bool) {
        _checkNotPaused();
        if (value != 0) _requireEligible(_msgSender());
        return super.approve(spender, value);
    }

    /// @notice The tranche's name, e.g. "ABS 7 Senior".
    function name() public view override returns (string memory) {
        return _tokenName;
    }

    /// @notice The tranche's ticker.
    function symbol() public view override returns (string memory) {
        return _tokenSymbol;
    }

    /// @notice Two: a base unit is one minor unit (cent) of face value.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc ITrancheToken
    function productId() external view returns (uint256) {
        return _productId;
    }

    /// @inheritdoc ITrancheToken
    function trancheIndex() external view returns (uint8) {
        return _trancheIndex;
    }

    /// @inheritdoc ITrancheToken
    function cap() external view returns (uint128) {
        return _cap;
    }

    /// @inheritdoc ITrancheToken
    function qualifiedOnly() external view returns (bool) {
        return _qualifiedOnly;
    }

    /// @inheritdoc ITrancheToken
    function issuer() external view returns (address) {
        return _issuer;
    }

    /// @inheritdoc ITrancheToken
    function investorRegistry() external view returns (address) {
        return address(_investors);
    }

    /// @inheritdoc ITrancheToken
    function isFrozen(address account) external view returns (bool) {
        return _frozen[account];
    }

    /// @inheritdoc ITrancheToken
    function frozenAmount(address account) external view returns (uint256) {
        return _frozenAmounts[account];
    }

    /// @inheritdoc ITrancheToken
    function allocationMinted(bytes32 allocationId) external view returns (bool) {
        return _mintedAllocations[allocationId];
    }

    /// @inheritdoc ITrancheToken
    function eligibilityOf(address account) public view returns (IInvestorRegistry.Eligibility) {
        return _investors.eligibility(account, _qualifiedOnly);
    }

    /// @dev Every movement (mint, transfer) passes here: platform pause, eligibility of the
    /// recipient, freezes of both sides and the sender's unfrozen balance.
    function _update(address from, address to, uint256 value) internal override {
        _checkNotPaused();
        if (to != address(0)) {
            _requireEligible(to);
            if (_frozen[to]) revert TrancheTokenAccountFrozen(to);
        }
        if (from != address(0)) {
            if (_frozen[from]) revert TrancheTokenAccountFrozen(from);
            uint256 balance = balanceOf(from);
            uint256 locked = _frozenAmounts[from];
            uint256 free = balance > locked ? balance - locked : 0;
            if (value > free && value <= balance) revert TrancheTokenInsufficientUnfrozenBalance(from, free, value);
        }
        super._update(from, to, value);
    }

    function _requireEligible(address account) private view {
        IInvestorRegistry.Eligibility verdict = eligibilityOf(account);
        if (verdict != IInvestorRegistry.Eligibility.Eligible) revert TrancheTokenNotEligible(account, verdict);
    }
}
