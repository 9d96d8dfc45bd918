// Contract tests of the permissioned tranche token and the investor whitelist: units reach
// only eligible investors, the exchange agent mints, freezes and forces transfers, and
// governance's pause stops every movement.
const { expect } = require("chai");
const { ethers, network } = require("hardhat");
const { ROLES, governorsDecide, snapshot, revert } = require("./fixtures");
const {
  id, ELIGIBLE, NOT_INVESTOR, NOT_WHITELISTED, EXPIRED, NOT_QUALIFIED, deployIssuance, listedProduct, whitelist,
} = require("./ProductFixtures");

describe("TrancheToken and InvestorRegistry", function () {
  let f, s, snap, senior, junior;

  before(async function () {
    f = await deployIssuance();
    s = f.signers;
    ({ tokens: [senior, junior] } = await listedProduct(f));
    await whitelist(f, s.investor);
    await whitelist(f, s.investor2, { qualified: true });
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  it("mints an allocation once, within the tranche size", async function () {
    await expect(senior.connect(s.exchange).mintAllocation(id("a1"), [s.investor.address, s.investor2.address], [500n, 200n]))
      .to.emit(senior, "AllocationMinted").withArgs(id("a1"), 2n, 700n, s.exchange.address);
    expect(await senior.balanceOf(s.investor.address)).to.equal(500n);
    expect(await senior.allocationMinted(id("a1"))).to.equal(true);
    await expect(senior.connect(s.exchange).mintAllocation(id("a1"), [s.investor.address], [1n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenAllocationAlreadyMinted").withArgs(id("a1"));
    await expect(senior.connect(s.exchange).mintAllocation(id("a2"), [s.investor.address], [21n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenCapExceeded").withArgs(720n, 721n);
    await expect(senior.connect(s.exchange).mintAllocation(id("a3"), [s.investor.address], [1n, 2n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenInvalidAllocation").withArgs(1, 2);
    await expect(senior.connect(s.investor).mintAllocation(id("a4"), [s.investor.address], [1n]))
      .to.be.revertedWithCustomError(senior, "ConsortiumGuardedUnauthorizedAccount").withArgs(s.investor.address, ROLES.EXCHANGE);
  });

  it("delivers units only to whitelisted investors", async function () {
    await expect(senior.connect(s.exchange).mintAllocation(id("a"), [s.investor3.address], [10n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, NOT_WHITELISTED);
    await expect(senior.connect(s.exchange).mintAllocation(id("a"), [s.stranger.address], [10n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.stranger.address, NOT_INVESTOR);
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor.address], [100n]);
    await expect(senior.connect(s.investor).transfer(s.investor3.address, 10n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, NOT_WHITELISTED);
    await expect(senior.connect(s.investor).transfer(s.stranger.address, 10n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.stranger.address, NOT_INVESTOR);
    await expect(senior.connect(s.investor).transfer(s.investor2.address, 10n)).to.emit(senior, "Transfer");
    expect(await senior.balanceOf(s.investor2.address)).to.equal(10n);
  });

  it("refuses an investor whose whitelisting expired", async function () {
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor2.address], [100n]);
    await whitelist(f, s.investor3, { days: 1 });
    await senior.connect(s.investor2).transfer(s.investor3.address, 5n);
    await network.provider.send("evm_increaseTime", [2 * 24 * 3600]);
    await network.provider.send("evm_mine");
    expect(await senior.eligibilityOf(s.investor3.address)).to.equal(EXPIRED);
    await expect(senior.connect(s.investor2).transfer(s.investor3.address, 5n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, EXPIRED);
    await expect(senior.connect(s.exchange).mintAllocation(id("b"), [s.investor3.address], [1n]))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, EXPIRED);
  });

  it("keeps the qualified-only tranche to qualified investors", async function () {
    expect(await junior.eligibilityOf(s.investor.address)).to.equal(NOT_QUALIFIED);
    expect(await junior.eligibilityOf(s.investor2.address)).to.equal(ELIGIBLE);
    await expect(junior.connect(s.exchange).mintAllocation(id("j"), [s.investor.address], [10n]))
      .to.be.revertedWithCustomError(junior, "TrancheTokenNotEligible").withArgs(s.investor.address, NOT_QUALIFIED);
    await junior.connect(s.exchange).mintAllocation(id("j"), [s.investor2.address], [10n]);
    await expect(junior.connect(s.investor2).transfer(s.investor.address, 1n))
      .to.be.revertedWithCustomError(junior, "TrancheTokenNotEligible").withArgs(s.investor.address, NOT_QUALIFIED);
  });

  it("follows governance: an investor whose role is revoked can no longer receive", async function () {
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor2.address], [100n]);
    await governorsDecide(f.registry, [s.govA, s.govB], (r) => r.proposeRevokeRole(s.investor.address, ROLES.INVESTOR));
    await expect(senior.connect(s.investor2).transfer(s.investor.address, 1n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor.address, NOT_INVESTOR);
  });

  it("freezes accounts and units; the agent's forced transfer releases what it needs", async function () {
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor.address], [100n]);
    await senior.connect(s.exchange).setAccountFrozen(s.investor.address, true);
    await expect(senior.connect(s.investor).transfer(s.investor2.address, 1n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenAccountFrozen").withArgs(s.investor.address);
    await senior.connect(s.exchange).setAccountFrozen(s.investor.address, false);
    await expect(senior.connect(s.exchange).setFrozenAmount(s.investor.address, 101n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenFreezeExceedsBalance").withArgs(s.investor.address, 100n, 101n);
    await senior.connect(s.exchange).setFrozenAmount(s.investor.address, 70n);
    await expect(senior.connect(s.investor).transfer(s.investor2.address, 31n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenInsufficientUnfrozenBalance").withArgs(s.investor.address, 30n, 31n);
    await senior.connect(s.investor).transfer(s.investor2.address, 30n);
    await expect(senior.connect(s.exchange).forcedTransfer(s.investor.address, s.investor2.address, 50n))
      .to.emit(senior, "ForcedTransfer").withArgs(s.investor.address, s.investor2.address, 50n, s.exchange.address);
    expect(await senior.balanceOf(s.investor.address)).to.equal(20n);
    expect(await senior.frozenAmount(s.investor.address)).to.equal(20n);
    await expect(senior.connect(s.exchange).forcedTransfer(s.investor.address, s.investor3.address, 1n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, NOT_WHITELISTED);
    await expect(senior.connect(s.investor2).forcedTransfer(s.investor.address, s.investor2.address, 1n))
      .to.be.revertedWithCustomError(senior, "ConsortiumGuardedUnauthorizedAccount");
  });

  it("lets only eligible owners approve, and transferFrom still checks the recipient", async function () {
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor.address], [100n]);
    await expect(senior.connect(s.investor3).approve(s.investor.address, 5n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible").withArgs(s.investor3.address, NOT_WHITELISTED);
    await senior.connect(s.investor3).approve(s.investor.address, 0n);
    await senior.connect(s.investor).approve(s.investor2.address, 10n);
    await expect(senior.connect(s.investor2).transferFrom(s.investor.address, s.investor3.address, 5n))
      .to.be.revertedWithCustomError(senior, "TrancheTokenNotEligible");
    await senior.connect(s.investor2).transferFrom(s.investor.address, s.investor2.address, 5n);
    expect(await senior.balanceOf(s.investor2.address)).to.equal(5n);
  });

  it("stops every movement while governance has paused the platform", async function () {
    await senior.connect(s.exchange).mintAllocation(id("a"), [s.investor.address], [100n]);
    await governorsDecide(f.registry, [s.govA, s.govB], (r) => r.proposePause());
    await expect(senior.connect(s.investor).transfer(s.investor2.address, 1n))
      .to.be.revertedWithCustomError(senior, "ConsortiumGuardedEnforcedPause");
    await expect(senior.connect(s.investor).approve(s.investor2.address, 1n))
      .to.be.revertedWithCustomError(senior, "ConsortiumGuardedEnforcedPause");
    await expect(senior.connect(s.exchange).mintAllocation(id("b"), [s.investor.address], [1n]))
      .to.be.revertedWithCustomError(senior, "ConsortiumGuardedEnforcedPause");
  });

  it("can initialise neither the template nor a listed tranche again", async function () {
    await expect(f.template.initialize(1, 0, "X", "X", 1, false))
      .to.be.revertedWithCustomError(f.template, "TrancheTokenAlreadyInitialized");
    await expect(senior.initialize(1, 0, "X", "X", 1, false))
      .to.be.revertedWithCustomError(senior, "TrancheTokenAlreadyInitialized");
  });

  it("whitelists only INVESTOR members, with a future expiry, by the exchange", async function () {
    const now = (await ethers.provider.getBlock("latest")).timestamp;
    await expect(f.investors.connect(s.exchange).whitelistInvestor(s.stranger.address, now + 100, false))
      .to.be.revertedWithCustomError(f.investors, "InvestorRegistryNotInvestor").withArgs(s.stranger.address);
    await expect(f.investors.connect(s.exchange).whitelistInvestor(s.investor3.address, now, false))
      .to.be.revertedWithCustomError(f.investors, "InvestorRegistryExpiryNotInFuture");
    await expect(f.investors.connect(s.financier).whitelistInvestor(s.investor3.address, now + 100, false))
      .to.be.revertedWithCustomError(f.investors, "ConsortiumGuardedUnauthorizedAccount")
      .withArgs(s.financier.address, ROLES.EXCHANGE);
    await expect(f.investors.connect(s.exchange).removeInvestor(s.investor3.address))
      .to.be.revertedWithCustomError(f.investors, "InvestorRegistryNotWhitelisted").withArgs(s.investor3.address);
    await expect(f.investors.connect(s.exchange).removeInvestor(s.investor.address))
      .to.emit(f.investors, "InvestorRemoved").withArgs(s.investor.address, s.exchange.address);
    expect(await f.investors.isEligible(s.investor.address, false)).to.equal(false);
  });
});
