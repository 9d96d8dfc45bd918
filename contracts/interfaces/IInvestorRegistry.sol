// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IInvestorRegistry
/// @notice The exchange's investor whitelist (the identity registry of ERC-3643): which INVESTOR
/// members may hold tranche units, until when, and whether they are qualified investors (who
/// alone may hold tranches reserved to qualified investors, e.g. the subordinated one).
interface IInvestorRegistry {
    /// @notice Why an account may or may not hold units of a tranche.
    enum Eligibility {
        Eligible,
        NotInvestor,
        NotWhitelisted,
        WhitelistExpired,
        NotQualified
    }

    /// @notice A whitelisting decided by the exchange after its own KYC.
    struct Investor {
        uint64 expiresAt;
        uint64 whitelistedAt;
        bool qualified;
        address agent;
    }

    /// @notice The account does not hold the INVESTOR role in the member registry.
    error InvestorRegistryNotInvestor(address account);
    /// @notice A whitelisting must end in the future.
    error InvestorRegistryExpiryNotInFuture(uint64 expiresAt, uint64 now_);
    /// @notice The account is not on the whitelist.
    error InvestorRegistryNotWhitelisted(address account);

    /// @notice The exchange `agent` whitelisted `account` until `expiresAt` (or renewed it).
    event InvestorWhitelisted(address indexed account, uint64 expiresAt, bool qualified, address indexed agent);
    /// @notice The exchange `agent` took `account` off the whitelist.
    event InvestorRemoved(address indexed account, address indexed agent);

    function whitelistInvestor(address account, uint64 expiresAt, bool qualified) external;
    function removeInvestor(address account) external;

    function investor(address account) external view returns (Investor memory);
    /// @notice Whether `account` may hold units now; `qualifiedNeeded` for qualified-only tranches.
    function eligibility(address account, bool qualifiedNeeded) external view returns (Eligibility);
    function isEligible(address account, bool qualifiedNeeded) external view returns (bool);
}
