// Shared setup of the issuance contract tests: the platform of fixtures.js plus the investor
// registry, the tranche-token template and the product registry, three more investors
// (admitted by governance) and a pack driven to Committed (900 kept of 1,000 in 3 assets).
const { ethers } = require("hardhat");
const { ROLES, EDGES, BAD_RATES, deployPlatform, governorsDecide } = require("./fixtures");

const id = (s) => ethers.keccak256(ethers.toUtf8Bytes(s));
const METRICS = { cvAucPpm: 790000, ksPpm: 450000, brierPpm: 70000, sampleSize: 1000 };
const KEPT_ROOT = id("kept-root");
const KEPT_COUNT = 3;
const KEPT_BALANCE = 900n;
const YEAR = 365 * 24 * 3600;
// Eligibility verdicts of IInvestorRegistry.Eligibility
const ELIGIBLE = 0, NOT_INVESTOR = 1, NOT_WHITELISTED = 2, EXPIRED = 3, NOT_QUALIFIED = 4;

async function deployIssuance() {
  const p = await deployPlatform();
  const signers = await ethers.getSigners();
  const [investor2, investor3, stranger] = signers.slice(13, 16);
  const s = { ...p.signers, investor2, investor3, stranger };
  for (const [who, name] of [[investor2, "Investor 2"], [investor3, "Investor 3"]]) {
    await governorsDecide(p.registry, [s.govA, s.govB], (r) => r.proposeAdmit(who.address, name, [ROLES.INVESTOR]));
  }
  const registryAddress = await p.registry.getAddress();
  const investors = await (await ethers.getContractFactory("InvestorRegistry")).deploy(registryAddress);
  const template = await (await ethers.getContractFactory("TrancheToken")).deploy(
    registryAddress, await investors.getAddress(),
  );
  const products = await (await ethers.getContractFactory("ProductRegistry")).deploy(
    registryAddress, await p.packs.getAddress(), await p.models.getAddress(), await template.getAddress(),
  );
  await p.models.connect(s.scorer).registerModel(id("artifact"), id("schema"), "scorecard-v1", EDGES, BAD_RATES, METRICS);
  const modelId = await p.models.modelCount();
  const block = await ethers.provider.getBlock("latest");
  await p.credit.connect(s.bureau).commitBatch(id("credit-root"), 4, block.timestamp);
  return { ...p, investors, template, products, modelId, creditBatchId: await p.credit.batchCount(), signers: s };
}

/** Drive a fresh pack through every step to Committed; returns its id. */
async function committedPack(f, key = "pack-1", { commit = true } = {}) {
  const s = f.signers;
  await f.packs.connect(s.financier).submitPack(id(key), id("assets"), 4, 1000n, 200000);
  const packId = await f.packs.packCount();
  await f.packs.connect(s.scorer).recordCreditCheck(packId, ethers.ZeroHash, 4, 0, f.creditBatchId);
  await f.scores.connect(s.scorer).submitScoreBatch(packId, 0, f.modelId, id(`scores-${key}`), 4);
  await f.packs.connect(s.scorer).recordScores(packId, await f.scores.batchCount());
  await f.packs.connect(s.scorer).recordGrade(
    packId, [1, 0, 0, 1, 0, 0, 0, 1, 0, 1], [100n, 0n, 0n, 200n, 0n, 0n, 0n, 300n, 0n, 400n], 138250, 0,
  );
  await f.packs.connect(s.scorer).recordFilter(packId, {
    mode: 0, weightBy: 0, keptRoot: KEPT_ROOT, removedRoot: id("removed"), keptCount: KEPT_COUNT, removedCount: 1,
    keptBalance: KEPT_BALANCE, removedBalance: 100n, badRateBeforePpm: 138250, badRateAfterPpm: 51000,
  });
  if (commit) await f.packs.connect(s.financier).commitPack(packId);
  return packId;
}

/** Terms of an 80/20 product on `packId`; `overrides` replace fields. */
async function productTerms(f, packId, overrides = {}) {
  const now = (await ethers.provider.getBlock("latest")).timestamp;
  return {
    issuanceKey: id(`issue-${packId}-${overrides.salt || ""}`), packId, keptRoot: KEPT_ROOT, keptCount: KEPT_COUNT,
    keptBalance: KEPT_BALANCE, modelId: f.modelId, maturity: now + 3 * YEAR, paymentsPerYear: 12,
    prospectusHash: id("prospectus"), servicingAgreementHash: id("servicing"), ...overrides.terms,
  };
}

function trancheTerms(overrides = []) {
  const base = [
    { name: "ABS Senior", symbol: "ABS-A", size: 720n, couponBps: 450, qualifiedOnly: false },
    { name: "ABS Subordinated", symbol: "ABS-B", size: 180n, couponBps: 900, qualifiedOnly: true },
  ];
  return base.map((t, i) => ({ ...t, ...(overrides[i] || {}) }));
}

/** Register, mark issued and list a product; returns its id and its tranche tokens. */
async function listedProduct(f, key = "pack-1") {
  const s = f.signers;
  const packId = await committedPack(f, key);
  await f.products.connect(s.financier).registerProduct(await productTerms(f, packId), trancheTerms());
  const productId = await f.products.productCount();
  await f.packs.connect(s.exchange).markIssued(packId, productId);
  await f.products.connect(s.exchange).listProduct(productId, id("listing"));
  const tranches = await f.products.tranches(productId);
  const tokens = [];
  for (const t of tranches) tokens.push(await ethers.getContractAt("TrancheToken", t.token));
  return { packId, productId, tokens };
}

async function whitelist(f, investor, { qualified = false, days = 30 } = {}) {
  const now = (await ethers.provider.getBlock("latest")).timestamp;
  await f.investors.connect(f.signers.exchange).whitelistInvestor(investor.address, now + days * 24 * 3600, qualified);
}

module.exports = {
  id, KEPT_ROOT, KEPT_COUNT, KEPT_BALANCE, YEAR, ELIGIBLE, NOT_INVESTOR, NOT_WHITELISTED, EXPIRED, NOT_QUALIFIED,
  deployIssuance, committedPack, productTerms, trancheTerms, listedProduct, whitelist,
};
