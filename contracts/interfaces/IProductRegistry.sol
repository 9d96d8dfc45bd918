// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAssetPack} from "./IAssetPack.sol";

/// @title IProductRegistry
/// @notice Issuance manifests of the securities made from committed packs (patent claim 1,
/// fig. 5): the financier of a pack records a product's terms, checked here against the pack's
/// committed filter result; the exchange lists it after its own verification, which creates
/// one permissioned tranche token per tranche; each period's distribution is anchored here.
/// Tranche 0 is the most senior; each next index is junior to the one before.
interface IProductRegistry {
    enum ProductState {
        None,
        Registered,
        Listed
    }

    /// @notice One tranche's terms. `size` is face value in minor units; the coupon is annual.
    struct TrancheTerms {
        string name;
        string symbol;
        uint128 size;
        uint32 couponBps;
        bool qualifiedOnly;
    }

    /// @notice A product's terms as the financier registers them. `issuanceKey` makes
    /// registration idempotent; kept root, count, balance and model must be the pack's.
    struct ProductTerms {
        bytes32 issuanceKey;
        uint256 packId;
        bytes32 keptRoot;
        uint32 keptCount;
        uint128 keptBalance;
        uint256 modelId;
        uint64 maturity;
        uint8 paymentsPerYear;
        bytes32 prospectusHash;
        bytes32 servicingAgreementHash;
    }

    struct Product {
        ProductTerms terms;
        address financier;
        ProductState state;
        uint64 registeredAt;
        uint64 listedAt;
        address exchange;
        bytes32 listingRef;
        uint32 distributionCount;
    }

    struct Tranche {
        TrancheTerms terms;
        address token;
    }

    /// @notice One period's distribution: the report's hash and each tranche's outstanding
    /// principal after it, in tranche order.
    struct Distribution {
        bytes32 reportHash;
        uint64 recordedAt;
        uint128[] trancheOutstanding;
    }

    /// @notice No product has this id.
    error ProductRegistryUnknownProduct(uint256 productId);
    /// @notice The product is in `actual`, and this step needs `expected`.
    error ProductRegistryWrongState(uint256 productId, ProductState actual, ProductState expected);
    /// @notice A product was already registered under this key, as product `productId`.
    error ProductRegistryDuplicateIssuance(bytes32 issuanceKey, uint256 productId);
    /// @notice Only a Committed pack can back a new product.
    error ProductRegistryPackNotCommitted(uint256 packId, IAssetPack.PackState state);
    /// @notice Only the financier that submitted the pack may issue on it.
    error ProductRegistryNotFinancier(uint256 packId, address caller);
    /// @notice The terms name another kept root than the pack committed.
    error ProductRegistryKeptRootMismatch(uint256 packId, bytes32 committed, bytes32 given);
    /// @notice A count or balance of the terms differs from the pack's (`what`: "keptCount", ...).
    error ProductRegistryTotalsMismatch(uint256 packId, bytes32 what, uint256 committed, uint256 given);
    /// @notice The terms name another model than the one that scored the pack.
    error ProductRegistryModelMismatch(uint256 packId, uint256 scoredBy, uint256 given);
    /// @notice The model is unknown or retired.
    error ProductRegistryModelInactive(uint256 modelId);
    /// @notice A product has 2 to 8 tranches.
    error ProductRegistryTrancheCount(uint256 count);
    /// @notice Tranche `index` needs a name, a symbol, a positive size and a coupon of at most 100%.
    error ProductRegistryInvalidTranche(uint256 index);
    /// @notice Maturity must be in the future and payments 1, 2, 4 or 12 times a year.
    error ProductRegistryInvalidSchedule(uint64 maturity, uint8 paymentsPerYear);
    /// @notice An issuance key, document hash or listing reference may not be zero.
    error ProductRegistryZeroHash();
    /// @notice The pack is not marked Issued for this product (AssetPack.markIssued comes first).
    error ProductRegistryPackNotIssued(uint256 productId, uint256 packId, uint256 issuedAs);
    /// @notice Distributions are recorded one period after the other, from 1.
    error ProductRegistryPeriodOutOfOrder(uint256 productId, uint32 expected, uint32 given);
    /// @notice One outstanding balance per tranche is needed.
    error ProductRegistryTrancheCountMismatch(uint256 productId, uint256 expected, uint256 given);
    /// @notice A tranche's outstanding principal can only go down.
    error ProductRegistryOutstandingIncreased(uint256 productId, uint256 index, uint128 previous, uint128 given);

    /// @notice The pack's financier registered a product's terms.
    event ProductRegistered(
        uint256 indexed productId, uint256 indexed packId, address indexed financier, bytes32 issuanceKey,
        bytes32 keptRoot, uint256 modelId, uint256 trancheCount, uint64 maturity
    );
    /// @notice The exchange listed the product; `tokens` are its tranche tokens, in tranche order.
    event ProductListed(
        uint256 indexed productId, uint256 indexed packId, address indexed exchange, bytes32 listingRef, address[] tokens
    );
    /// @notice The exchange recorded the distribution of `period`.
    event DistributionRecorded(
        uint256 indexed productId, uint32 indexed period, bytes32 reportHash, uint128[] trancheOutstanding
    );

    function registerProduct(ProductTerms calldata terms, TrancheTerms[] calldata tranches_)
        external
        returns (uint256 productId);
    function listProduct(uint256 productId, bytes32 listingRef) external;
    function recordDistribution(
        uint256 productId,
        uint32 period,
        bytes32 reportHash,
        uint128[] calldata trancheOutstanding
    ) external;

    function product(uint256 productId) external view returns (Product memory);
    function tranches(uint256 productId) external view returns (Tranche[] memory);
    function distribution(uint256 productId, uint32 period) external view returns (Distribution memory);
    function productCount() external view returns (uint256);
    function productOfIssuance(bytes32 issuanceKey) external view returns (uint256);
    function trancheTemplate() external view returns (address);
}
