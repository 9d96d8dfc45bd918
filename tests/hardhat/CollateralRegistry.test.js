// Contract tests of the IoT collateral registry: pledges, devices under their gateway, event
// windows proved with OpenZeppelin's own JavaScript Merkle library, warnings, freezes and reviews.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { ROLES, deployPlatform, snapshot, revert } = require("./fixtures");

const id = (s) => ethers.keccak256(ethers.toUtf8Bytes(s));
const LEVEL = { None: 0, Blue: 1, Yellow: 2, Red: 3 };
const OUTCOME = { Keep: 0, Restore: 1, Adjust: 2 };
const EVENT_LEAF = ["address", "uint64", "uint64", "bytes32"];

describe("CollateralRegistry", function () {
  let p, s, reg, snap;
  const EXC = id("EXC-001");
  const [L1, L2, L3] = [id("L1"), id("L2"), id("L3")];
  const device = ethers.Wallet.createRandom().address;

  before(async function () {
    p = await deployPlatform();
    s = p.signers;
    reg = await (await ethers.getContractFactory("CollateralRegistry")).deploy(await p.registry.getAddress());
    await reg.connect(s.financier).registerCollateral(EXC, [L1, L2], id("profile"));
    await reg.connect(s.gateway).registerDevice(device, EXC);
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  async function redWarning() {
    await reg.connect(s.scorer).raiseWarning(EXC, LEVEL.Red, id("red.geofence"), id("evidence"), 1_700_000_000_000n);
    return reg.warningCount();
  }

  it("links the pledge's loans and lets only its financier add more", async function () {
    expect(await reg.loansOf(EXC)).to.deep.equal([L1, L2]);
    expect((await reg.collateral(EXC)).loanCount).to.equal(2n);
    await expect(reg.connect(s.financier2).linkLoan(EXC, L3))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryNotFinancier").withArgs(EXC, s.financier2.address);
    await expect(reg.connect(s.financier).linkLoan(EXC, L3)).to.emit(reg, "LoanLinked").withArgs(EXC, L3);
    await expect(reg.connect(s.financier).linkLoan(EXC, L3))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryLoanAlreadyLinked");
    await expect(reg.connect(s.financier).registerCollateral(EXC, [L3], id("p")))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryCollateralExists").withArgs(EXC);
    await expect(reg.connect(s.financier).registerCollateral(id("X"), [], id("p")))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryLoanCount").withArgs(0, 32);
  });

  it("keeps devices under their gateway and refuses a revoked key for good", async function () {
    const d = await reg.device(device);
    expect(d.gateway).to.equal(s.gateway.address);
    expect(await reg.isActiveDevice(device)).to.equal(true);
    await expect(reg.connect(s.scorer).revokeDevice(device))
      .to.be.revertedWithCustomError(reg, "ConsortiumGuardedUnauthorizedAccount").withArgs(s.scorer.address, ROLES.IOT_GATEWAY);
    await expect(reg.connect(s.gateway).revokeDevice(device)).to.emit(reg, "DeviceRevoked").withArgs(device, s.gateway.address);
    expect(await reg.isActiveDevice(device)).to.equal(false);
    await expect(reg.connect(s.gateway).registerDevice(device, EXC))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryDeviceExists").withArgs(device);
    await expect(reg.connect(s.gateway).registerDevice(ethers.Wallet.createRandom().address, id("nope")))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryUnknownCollateral");
  });

  it("anchors a window whose every event verifies, and only for the device's gateway", async function () {
    const events = [0, 1, 2, 3, 4].map((i) => [device, i + 1, 1_700_000_000_000 + i * 250, id(`event-${i}`)]);
    const tree = StandardMerkleTree.of(events, EVENT_LEAF);
    await expect(reg.connect(s.gateway).anchorEvents(tree.root, 5, 1_700_000_000_000n, 1_700_000_001_000n))
      .to.emit(reg, "EventsAnchored").withArgs(1, s.gateway.address, tree.root, 5, 1_700_000_000_000n, 1_700_000_001_000n);
    for (const [i, value] of tree.entries()) {
      expect(await reg.verifyEvent(1, ...value, tree.getProof(i))).to.equal(true);
    }
    const [dev, seq, ts, hash] = events[0];
    expect(await reg.verifyEvent(1, dev, seq + 1, ts, hash, tree.getProof(0))).to.equal(false);
    const stranger = ethers.Wallet.createRandom().address;
    expect(await reg.verifyEvent(1, stranger, seq, ts, hash, tree.getProof(0))).to.equal(false);
    await expect(reg.connect(s.gateway).anchorEvents(tree.root, 5, 1n, 2n))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryDuplicateRoot").withArgs(tree.root, 1);
    await expect(reg.connect(s.gateway).anchorEvents(id("r"), 0, 1n, 2n))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryInvalidWindow");
    expect(await reg.windowOfRoot(tree.root)).to.equal(1n);
  });

  it("freezes all undrawn credit on red, only upward, and a review restores it", async function () {
    const w = await redWarning();
    await expect(reg.connect(s.scorer).freezeCredit(L1, w, 10000, 2_000_000n))
      .to.emit(reg, "CreditFrozen").withArgs(L1, w, 10000, 2_000_000n);
    await expect(reg.connect(s.scorer).freezeCredit(L1, w, 10000, 0))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryFreezeNotIncreased").withArgs(L1, 10000, 10000);
    await expect(reg.connect(s.scorer).freezeCredit(L3, w, 10000, 0))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryLoanNotLinked").withArgs(EXC, L3);
    await expect(reg.connect(s.financier).recordReview(w, OUTCOME.Restore, 0, 0, id("notes")))
      .to.be.revertedWithCustomError(reg, "ConsortiumGuardedUnauthorizedAccount");
    await expect(reg.connect(s.auditor).recordReview(w, OUTCOME.Keep, 0, 0, id("still away")))
      .to.emit(reg, "ReviewRecorded");
    expect((await reg.freezeOf(L1)).frozenBps).to.equal(10000n);
    await expect(reg.connect(s.auditor).recordReview(w, OUTCOME.Restore, 0, 0, id("back on site")))
      .to.emit(reg, "CreditUnfrozen").withArgs(L1, w, 2)
      .and.to.emit(reg, "WarningResolved").withArgs(w, 2);
    expect((await reg.freezeOf(L1)).frozenBps).to.equal(0n);
    expect((await reg.warning(w)).status).to.equal(2n);
    await expect(reg.connect(s.auditor).recordReview(w, OUTCOME.Keep, 0, 0, id("again")))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryWarningResolved").withArgs(w);
  });

  it("lets a review lower the level and the frozen share of the loans its warning froze", async function () {
    const w = await redWarning();
    await reg.connect(s.scorer).freezeCredit(L1, w, 10000, 100n);
    await reg.connect(s.scorer).freezeCredit(L2, w, 10000, 100n);
    await expect(reg.connect(s.auditor).recordReview(w, OUTCOME.Adjust, LEVEL.Yellow, 1500, id("rented out, returning")))
      .to.emit(reg, "CreditFreezeAdjusted").withArgs(L1, w, 10000, 1500)
      .and.to.emit(reg, "WarningLevelChanged").withArgs(w, LEVEL.Red, LEVEL.Yellow);
    expect((await reg.freezeOf(L2)).frozenBps).to.equal(1500n);
    expect((await reg.warning(w)).level).to.equal(BigInt(LEVEL.Yellow));
    const review = await reg.review(1);
    expect(review.outcome).to.equal(BigInt(OUTCOME.Adjust));
    expect(review.reviewer).to.equal(s.auditor.address);
  });

  it("does not freeze on blue warnings", async function () {
    await reg.connect(s.scorer).raiseWarning(EXC, LEVEL.Blue, id("blue.energy"), id("e"), 1n);
    await expect(reg.connect(s.scorer).freezeCredit(L1, 1, 1500, 1n))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryNotFreezing").withArgs(1, LEVEL.Blue);
    await expect(reg.connect(s.scorer).raiseWarning(EXC, LEVEL.None, id("x"), id("e"), 1n))
      .to.be.revertedWithCustomError(reg, "CollateralRegistryNoLevel");
  });

  it("stops every write while governance has paused the platform", async function () {
    await p.registry.connect(s.govA).proposePause();
    const pid = await p.registry.proposalCount();
    await p.registry.connect(s.govB).approve(pid);
    await p.registry.connect(s.govB).execute(pid);
    await expect(reg.connect(s.gateway).anchorEvents(id("root"), 1, 1n, 1n))
      .to.be.revertedWithCustomError(reg, "ConsortiumGuardedEnforcedPause");
  });
});
