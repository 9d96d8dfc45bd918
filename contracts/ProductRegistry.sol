// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ConsortiumGuarded} from "./ConsortiumGuarded.sol";
import {IAssetPack} from "./interfaces/IAssetPack.sol";
import {IMemberRegistry} from "./interfaces/IMemberRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProductRegistry} from "./interfaces/IProductRegistry.sol";
import {ITrancheToken} from "./interfaces/ITrancheToken.sol";
import {Roles} from "./lib/Roles.sol";

/// @title ProductRegistry
/// @notice The issuance manifests. Registration (FINANCIER) re-checks the terms against the
/// pack's committed result, so a manifest on chain always rests on what the pack committed.
/// Listing (EXCHANGE) requires the pack to be marked Issued for this very product, then clones
/// one TrancheToken per tranche. Distributions (EXCHANGE) are anchored period after period.
/// @dev The pack moves to Issued through `AssetPack.markIssued`, sent by the exchange just
/// before `listProduct`: AssetPack is deployed before this registry and knows nothing of it,
/// and this order lets `listProduct` prove that every Listed product sits on an Issued pack.
contract ProductRegistry is ConsortiumGuarded, IProductRegistry {
    uint256 private constant MIN_TRANCHES = 2;
    uint256 private constant MAX_TRANCHES = 8;
    uint32 private constant MAX_COUPON_BPS = 10_000;

    IAssetPack private immutable _packs;
    IModelRegistry private immutable _models;
    address private immutable _template;

    uint256 private _productCount;
    mapping(uint256 productId => Product) private _products;
    mapping(uint256 productId => Tranche[]) private _tranches;
    mapping(bytes32 issuanceKey => uint256 productId) private _productOfIssuance;
    mapping(uint256 productId => mapping(uint32 period => Distribution)) private _distributions;

    constructor(IMemberRegistry registry_, IAssetPack packs_, IModelRegistry models_, address template_)
        ConsortiumGuarded(registry_)
    {
        _packs = packs_;
        _models = models_;
        _template = template_;
    }

    /// @inheritdoc IProductRegistry
    function registerProduct(ProductTerms calldata terms, TrancheTerms[] calldata tranches_)
        external
        onlyMember(Roles.FINANCIER)
        returns (uint256 productId)
    {
        if (terms.issuanceKey == bytes32(0)) revert ProductRegistryZeroHash();
        uint256 existing = _productOfIssuance[terms.issuanceKey];
        if (existing != 0) revert ProductRegistryDuplicateIssuance(terms.issuanceKey, existing);
        _requireMatchesPack(terms);
        _requireValidTerms(terms, tranches_);
        productId = ++_productCount;
        Product storage p = _products[productId];
        p.terms = terms;
        p.financier = msg.sender;
        p.state = ProductState.Registered;
        p.registeredAt = uint64(block.timestamp);
        for (uint256 i = 0; i < tranches_.length; ++i) {
            _tranches[productId].push(Tranche({terms: tranches_[i], token: address(0)}));
        }
        _productOfIssuance[terms.issuanceKey] = productId;
        emit ProductRegistered(
            productId, terms.packId, msg.sender, terms.issuanceKey, terms.keptRoot, terms.modelId, tranches_.length,
            terms.maturity
        );
    }

    /// @inheritdoc IProductRegistry
    function listProduct(uint256 productId, bytes32 listingRef) external onlyMember(Roles.EXCHANGE) {
        Product storage p = _inState(productId, ProductState.Registered);
        if (listingRef == bytes32(0)) revert ProductRegistryZeroHash();
        uint256 packId = p.terms.packId;
        uint256 issuedAs = _packs.issuedProduct(packId);
        if (issuedAs != productId) revert ProductRegistryPackNotIssued(productId, packId, issuedAs);
        if (!_models.isActive(p.terms.modelId)) revert ProductRegistryModelInactive(p.terms.modelId);
        p.state = ProductState.Listed;
        p.listedAt = uint64(block.timestamp);
        p.exchange = msg.sender;
        p.listingRef = listingRef;
        Tranche[] storage stored = _tranches[productId];
        address[] memory tokens = new address[](stored.length);
        for (uint256 i = 0; i < stored.length; ++i) {
            tokens[i] = Clones.clone(_template);
            stored[i].token = tokens[i];
        }
        for (uint256 i = 0; i < stored.length; ++i) {
            TrancheTerms storage t = stored[i].terms;
            ITrancheToken(tokens[i]).initialize(productId, uint8(i), t.name, t.symbol, t.size, t.qualifiedOnly);
        }
        emit ProductListed(productId, packId, msg.sender, listingRef, tokens);
    }

    /// @inheritdoc IProductRegistry
    function recordDistribution(
        uint256 productId,
        uint32 period,
        bytes32 reportHash,
        uint128[] calldata trancheOutstanding
    ) external onlyMember(Roles.EXCHANGE) {
        Product storage p = _inState(productId, ProductState.Listed);
        if (reportHash == bytes32(0)) revert ProductRegistryZeroHash();
        uint32 expected = p.distributionCount + 1;
        if (period != expected) revert ProductRegistryPeriodOutOfOrder(productId, expected, period);
        Tranche[] storage stored = _tranches[productId];
        if (trancheOutstanding.length != stored.length) {
            revert ProductRegistryTrancheCountMismatch(productId, stored.length, trancheOutstanding.length);
        }
        for (uint256 i = 0; i < stored.length; ++i) {
            uint128 previous = period == 1
                ? stored[i].terms.size
                : _distributions[productId][period - 1].trancheOutstanding[i];
            if (trancheOutstanding[i] > previous) {
                revert ProductRegistryOutstandingIncreased(productId, i, previous, trancheOutstanding[i]);
            }
        }
        Distribution storage d = _distributions[productId][period];
        d.reportHash = reportHash;
        d.recordedAt = uint64(block.timestamp);
        d.trancheOutstanding = trancheOutstanding;
        p.distributionCount = period;
        emit DistributionRecorded(productId, period, reportHash, trancheOutstanding);
    }

    /// @inheritdoc IProductRegistry
    function product(uint256 productId) external view returns (Product memory) {
        return _existing(productId);
    }

    /// @inheritdoc IProductRegistry
    function tranches(uint256 productId) external view returns (Tranche[] memory) {
        _existing(productId);
        return _tranches[productId];
    }

    /// @inheritdoc IProductRegistry
    function distribution(uint256 productId, uint32 period) external view returns (Distribution memory) {
        _existing(productId);
        return _distributions[productId][period];
    }

    /// @inheritdoc IProductRegistry
    function productCount() external view returns (uint256) {
        return _productCount;
    }

    /// @inheritdoc IProductRegistry
    function productOfIssuance(bytes32 issuanceKey) external view returns (uint256) {
        return _productOfIssuance[issuanceKey];
    }

    /// @inheritdoc IProductRegistry
    function trancheTemplate() external view returns (address) {
        return _template;
    }

    function _existing(uint256 productId) private view returns (Product storage p) {
        p = _products[productId];
        if (p.state == ProductState.None) revert ProductRegistryUnknownProduct(productId);
    }

    function _inState(uint256 productId, ProductState expected) private view returns (Product storage p) {
        p = _existing(productId);
        if (p.state != expected) revert ProductRegistryWrongState(productId, p.state, expected);
    }

    function _requireMatchesPack(ProductTerms calldata terms) private view {
        uint256 packId = terms.packId;
        IAssetPack.Pack memory pk = _packs.pack(packId);
        if (pk.state != IAssetPack.PackState.Committed) revert ProductRegistryPackNotCommitted(packId, pk.state);
        if (pk.financier != msg.sender) revert ProductRegistryNotFinancier(packId, msg.sender);
        IAssetPack.FilterResult memory f = _packs.filterResult(packId);
        if (f.keptRoot != terms.keptRoot) revert ProductRegistryKeptRootMismatch(packId, f.keptRoot, terms.keptRoot);
        if (f.keptCount != terms.keptCount) {
            revert ProductRegistryTotalsMismatch(packId, "keptCount", f.keptCount, terms.keptCount);
        }
        if (f.keptBalance != terms.keptBalance) {
            revert ProductRegistryTotalsMismatch(packId, "keptBalance", f.keptBalance, terms.keptBalance);
        }
        uint256 scoredBy = _packs.grade(packId).modelId;
        if (scoredBy != terms.modelId) revert ProductRegistryModelMismatch(packId, scoredBy, terms.modelId);
        if (!_models.isActive(terms.modelId)) revert ProductRegistryModelInactive(terms.modelId);
    }

    function _requireValidTerms(ProductTerms calldata terms, TrancheTerms[] calldata tranches_) private view {
        if (tranches_.length < MIN_TRANCHES || tranches_.length > MAX_TRANCHES) {
            revert ProductRegistryTrancheCount(tranches_.length);
        }
        uint256 total = 0;
        for (uint256 i = 0; i < tranches_.length; ++i) {
            TrancheTerms calldata t = tranches_[i];
            if (t.size == 0 || t.couponBps > MAX_COUPON_BPS || bytes(t.name).length == 0 || bytes(t.symbol).length == 0)
            {
                revert ProductRegistryInvalidTranche(i);
            }
            total += t.size;
        }
        if (total != terms.keptBalance) {
            revert ProductRegistryTotalsMismatch(terms.packId, "trancheSizes", terms.keptBalance, total);
        }
        uint8 freq = terms.paymentsPerYear;
        if (terms.maturity <= block.timestamp || (freq != 1 && freq != 2 && freq != 4 && freq != 12)) {
            revert ProductRegistryInvalidSchedule(terms.maturity, freq);
        }
        if (terms.prospectusHash == bytes32(0) || terms.servicingAgreementHash == bytes32(0)) {
            revert ProductRegistryZeroHash();
        }
    }
}
