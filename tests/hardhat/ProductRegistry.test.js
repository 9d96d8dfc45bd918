// Contract tests of issuance: the product registry's manifest checks against the committed pack,
// listing only on a pack marked Issued for the product, tranche tokens cloned at listing, and
// distributions anchored period after period.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { ROLES, governorsDecide, snapshot, revert } = require("./fixtures");
const {
  id, KEPT_ROOT, KEPT_BALANCE, deployIssuance, committedPack, productTerms, trancheTerms, listedProduct,
} = require("./ProductFixtures");

const REGISTERED = 1n, LISTED = 2n;
const COMMITTED = 6n, ISSUED = 7n;

describe("ProductRegistry", function () {
  let f, s, snap;

  before(async function () {
    f = await deployIssuance();
    s = f.signers;
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  it("registers a manifest, then lists it on the issued pack with one token per tranche", async function () {
    const packId = await committedPack(f);
    const terms = await productTerms(f, packId);
    await expect(f.products.connect(s.financier).registerProduct(terms, trancheTerms()))
      .to.emit(f.products, "ProductRegistered")
      .withArgs(1n, packId, s.financier.address, terms.issuanceKey, KEPT_ROOT, f.modelId, 2n, terms.maturity);
    expect((await f.products.product(1n)).state).to.equal(REGISTERED);
    expect(await f.products.productOfIssuance(terms.issuanceKey)).to.equal(1n);

    await expect(f.packs.connect(s.exchange).markIssued(packId, 1n))
      .to.emit(f.packs, "PackIssued").withArgs(packId, 1n, s.exchange.address);
    expect((await f.packs.pack(packId)).state).to.equal(ISSUED);
    expect(await f.packs.issuedProduct(packId)).to.equal(1n);

    await expect(f.products.connect(s.exchange).listProduct(1n, id("listing"))).to.emit(f.products, "ProductListed");
    const product = await f.products.product(1n);
    expect(product.state).to.equal(LISTED);
    expect(product.exchange).to.equal(s.exchange.address);
    const tranches = await f.products.tranches(1n);
    expect(tranches.length).to.equal(2);
    const senior = await ethers.getContractAt("TrancheToken", tranches[0].token);
    const junior = await ethers.getContractAt("TrancheToken", tranches[1].token);
    expect(await senior.name()).to.equal("ABS Senior");
    expect(await junior.symbol()).to.equal("ABS-B");
    expect(await senior.cap()).to.equal(720n);
    expect(await junior.qualifiedOnly()).to.equal(true);
    expect(await junior.trancheIndex()).to.equal(1n);
    expect(await senior.productId()).to.equal(1n);
    expect(await senior.issuer()).to.equal(await f.products.getAddress());
    expect(await senior.decimals()).to.equal(2n);
    expect(await senior.totalSupply()).to.equal(0n);
  });

  it("lets only the pack's financier register, and only on a Committed pack", async function () {
    const filtered = await committedPack(f, "uncommitted", { commit: false });
    await expect(f.products.connect(s.financier).registerProduct(await productTerms(f, filtered), trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryPackNotCommitted").withArgs(filtered, 5);
    const packId = await committedPack(f);
    await expect(f.products.connect(s.financier2).registerProduct(await productTerms(f, packId), trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryNotFinancier").withArgs(packId, s.financier2.address);
    await expect(f.products.connect(s.exchange).registerProduct(await productTerms(f, packId), trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ConsortiumGuardedUnauthorizedAccount")
      .withArgs(s.exchange.address, ROLES.FINANCIER);
  });

  it("refuses terms that disagree with the committed pack, field by field", async function () {
    const packId = await committedPack(f);
    const register = async (terms, tranches = trancheTerms()) =>
      f.products.connect(s.financier).registerProduct(await productTerms(f, packId, { terms }), tranches);
    await expect(register({ keptRoot: id("other") }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryKeptRootMismatch").withArgs(packId, KEPT_ROOT, id("other"));
    await expect(register({ keptCount: 4 }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryTotalsMismatch")
      .withArgs(packId, ethers.encodeBytes32String("keptCount"), 3, 4);
    await expect(register({ keptBalance: 901n }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryTotalsMismatch")
      .withArgs(packId, ethers.encodeBytes32String("keptBalance"), KEPT_BALANCE, 901n);
    await expect(register({ modelId: 2n }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryModelMismatch").withArgs(packId, f.modelId, 2n);
    await expect(register({}, trancheTerms([{ size: 700n }])))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryTotalsMismatch")
      .withArgs(packId, ethers.encodeBytes32String("trancheSizes"), KEPT_BALANCE, 880n);
    await expect(register({}, trancheTerms().slice(0, 1)))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryTrancheCount").withArgs(1);
    await expect(register({}, trancheTerms([{}, { couponBps: 10001 }])))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryInvalidTranche").withArgs(1);
    await expect(register({ paymentsPerYear: 3 }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryInvalidSchedule");
    await expect(register({ maturity: 1 }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryInvalidSchedule").withArgs(1, 12);
    await expect(register({ prospectusHash: ethers.ZeroHash }))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryZeroHash");
  });

  it("refuses a second registration under the same issuance key and a retired model", async function () {
    const packId = await committedPack(f);
    const terms = await productTerms(f, packId);
    await f.products.connect(s.financier).registerProduct(terms, trancheTerms());
    await expect(f.products.connect(s.financier).registerProduct(terms, trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryDuplicateIssuance").withArgs(terms.issuanceKey, 1n);
    await f.models.connect(s.scorer).retireModel(f.modelId);
    const again = await productTerms(f, packId, { salt: "2" });
    await expect(f.products.connect(s.financier).registerProduct(again, trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryModelInactive").withArgs(f.modelId);
  });

  it("lists a product only once its pack is marked Issued for that product, by the exchange", async function () {
    const packId = await committedPack(f);
    await f.products.connect(s.financier).registerProduct(await productTerms(f, packId), trancheTerms());
    await f.products.connect(s.financier).registerProduct(await productTerms(f, packId, { salt: "b" }), trancheTerms());
    await expect(f.products.connect(s.exchange).listProduct(1n, id("l")))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryPackNotIssued").withArgs(1n, packId, 0n);
    await expect(f.packs.connect(s.financier).markIssued(packId, 1n))
      .to.be.revertedWithCustomError(f.packs, "ConsortiumGuardedUnauthorizedAccount").withArgs(s.financier.address, ROLES.EXCHANGE);
    await expect(f.packs.connect(s.exchange).markIssued(packId, 0n)).to.be.revertedWithCustomError(f.packs, "AssetPackZeroProduct");
    await f.packs.connect(s.exchange).markIssued(packId, 2n);
    await expect(f.packs.connect(s.exchange).markIssued(packId, 1n))
      .to.be.revertedWithCustomError(f.packs, "AssetPackWrongState").withArgs(packId, ISSUED, COMMITTED);
    await expect(f.products.connect(s.exchange).listProduct(1n, id("l")))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryPackNotIssued").withArgs(1n, packId, 2n);
    await expect(f.products.connect(s.financier).listProduct(2n, id("l")))
      .to.be.revertedWithCustomError(f.products, "ConsortiumGuardedUnauthorizedAccount");
    await f.products.connect(s.exchange).listProduct(2n, id("l"));
    await expect(f.products.connect(s.exchange).listProduct(2n, id("l")))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryWrongState").withArgs(2n, LISTED, REGISTERED);
  });

  it("refuses to list on a model retired after registration", async function () {
    const packId = await committedPack(f);
    await f.products.connect(s.financier).registerProduct(await productTerms(f, packId), trancheTerms());
    await f.packs.connect(s.exchange).markIssued(packId, 1n);
    await f.models.connect(s.scorer).retireModel(f.modelId);
    await expect(f.products.connect(s.exchange).listProduct(1n, id("l")))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryModelInactive").withArgs(f.modelId);
  });

  it("anchors distributions in period order with outstanding balances that only go down", async function () {
    const { productId } = await listedProduct(f);
    await expect(f.products.connect(s.exchange).recordDistribution(productId, 2, id("r"), [700n, 180n]))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryPeriodOutOfOrder").withArgs(productId, 1, 2);
    await expect(f.products.connect(s.exchange).recordDistribution(productId, 1, id("r"), [700n]))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryTrancheCountMismatch").withArgs(productId, 2, 1);
    await expect(f.products.connect(s.exchange).recordDistribution(productId, 1, id("r"), [721n, 180n]))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryOutstandingIncreased").withArgs(productId, 0, 720n, 721n);
    await expect(f.products.connect(s.exchange).recordDistribution(productId, 1, id("r1"), [700n, 180n]))
      .to.emit(f.products, "DistributionRecorded").withArgs(productId, 1, id("r1"), [700n, 180n]);
    await expect(f.products.connect(s.exchange).recordDistribution(productId, 2, id("r2"), [690n, 181n]))
      .to.be.revertedWithCustomError(f.products, "ProductRegistryOutstandingIncreased").withArgs(productId, 1, 180n, 181n);
    await f.products.connect(s.exchange).recordDistribution(productId, 2, id("r2"), [690n, 150n]);
    const d = await f.products.distribution(productId, 2);
    expect(d.reportHash).to.equal(id("r2"));
    expect(d.trancheOutstanding).to.deep.equal([690n, 150n]);
    expect((await f.products.product(productId)).distributionCount).to.equal(2n);
  });

  it("stops registration and listing while governance has paused the platform", async function () {
    const packId = await committedPack(f);
    await governorsDecide(f.registry, [s.govA, s.govB], (r) => r.proposePause());
    await expect(f.products.connect(s.financier).registerProduct(await productTerms(f, packId), trancheTerms()))
      .to.be.revertedWithCustomError(f.products, "ConsortiumGuardedEnforcedPause");
    await expect(f.packs.connect(s.exchange).markIssued(packId, 1n))
      .to.be.revertedWithCustomError(f.packs, "ConsortiumGuardedEnforcedPause");
  });
});
