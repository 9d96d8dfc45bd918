// Contract tests of the asset-pack pipeline: credit commitments, model registry, score batches
// and the pack state machine, with proofs built by OpenZeppelin's own JavaScript Merkle library.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { ROLES, EDGES, BAD_RATES, deployPlatform, governorsDecide, snapshot, revert } = require("./fixtures");

const id = (s) => ethers.keccak256(ethers.toUtf8Bytes(s));
const METRICS = { cvAucPpm: 790000, ksPpm: 450000, brierPpm: 70000, sampleSize: 1000 };

describe("Asset pack pipeline contracts", function () {
  let p, s, snap, modelId, creditBatchId;
  const assets = [
    // [assetId, recordHash, score, level]
    [id("L1"), id("rec1"), 5, 1],
    [id("L2"), id("rec2"), 35, 4],
    [id("L3"), id("rec3"), 77, 8],
    [id("L4"), id("rec4"), 95, 10],
  ];

  before(async function () {
    p = await deployPlatform();
    s = p.signers;
    await p.models.connect(s.scorer).registerModel(id("artifact"), id("schema"), "scorecard-v1", EDGES, BAD_RATES, METRICS);
    modelId = await p.models.modelCount();
    const credit = StandardMerkleTree.of([[id("salted-1")], [id("salted-2")]], ["bytes32"]);
    const block = await ethers.provider.getBlock("latest");
    await p.credit.connect(s.bureau).commitBatch(credit.root, 2, block.timestamp);
    creditBatchId = await p.credit.batchCount();
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  async function runToFiltered() {
    await p.packs.connect(s.financier).submitPack(id("idem-1"), id("assets"), 5, 1_000_000n, 200000);
    const packId = await p.packs.packCount();
    await p.packs.connect(s.scorer).recordCreditCheck(packId, id("excluded"), 4, 1, creditBatchId);
    const scoreTree = StandardMerkleTree.of(assets.map(([a, , sc, lv]) => [a, sc, lv, modelId]), ["bytes32", "uint8", "uint8", "uint256"]);
    await p.scores.connect(s.scorer).submitScoreBatch(packId, 0, modelId, scoreTree.root, 4);
    const batchId = await p.scores.batchCount();
    await p.packs.connect(s.scorer).recordScores(packId, batchId);
    const counts = [1, 0, 0, 1, 0, 0, 0, 1, 0, 1];
    const balances = [100n, 0n, 0n, 200n, 0n, 0n, 0n, 300n, 0n, 400n];
    // by count: (400000 + 120000 + 25000 + 8000) / 4 = 138250 ppm
    await p.packs.connect(s.scorer).recordGrade(packId, counts, balances, 138250, 0);
    const kept = StandardMerkleTree.of(assets.slice(1), ["bytes32", "bytes32", "uint8", "uint8"]);
    const removed = StandardMerkleTree.of(assets.slice(0, 1), ["bytes32", "bytes32", "uint8", "uint8"]);
    await p.packs.connect(s.scorer).recordFilter(packId, {
      mode: 0, weightBy: 0, keptRoot: kept.root, removedRoot: removed.root, keptCount: 3, removedCount: 1,
      keptBalance: 900n, removedBalance: 100n, badRateBeforePpm: 138250, badRateAfterPpm: 51000,
    });
    return { packId, batchId, scoreTree, kept, removed };
  }

  it("takes a pack from Submitted to Committed and proves every asset", async function () {
    const { packId, batchId, scoreTree, kept, removed } = await runToFiltered();
    await expect(p.packs.connect(s.financier).commitPack(packId)).to.emit(p.packs, "PackCommitted");
    expect((await p.packs.pack(packId)).state).to.equal(6n); // Committed
    for (const [i, v] of scoreTree.entries()) {
      expect(await p.scores.verifyScore(batchId, v[0], v[1], v[2], scoreTree.getProof(i))).to.equal(true);
    }
    for (const [i, v] of kept.entries()) {
      expect(await p.packs.verifyAsset(packId, true, ...v, kept.getProof(i))).to.equal(true);
      expect(await p.packs.verifyAsset(packId, false, ...v, kept.getProof(i))).to.equal(false);
    }
    const [i, v] = [...removed.entries()][0];
    expect(await p.packs.verifyAsset(packId, false, ...v, removed.getProof(i))).to.equal(true);
  });

  it("rejects a wrong score or a wrong level even with a valid proof", async function () {
    const { batchId, scoreTree } = await runToFiltered();
    const [i, v] = [...scoreTree.entries()][1];
    expect(await p.scores.verifyScore(batchId, v[0], v[1] + 1, v[2], scoreTree.getProof(i))).to.equal(false);
    expect(await p.scores.verifyScore(batchId, v[0], v[1], v[2] + 1, scoreTree.getProof(i))).to.equal(false);
  });

  it("refuses a filter that misses the expected bad rate", async function () {
    await p.packs.connect(s.financier).submitPack(id("idem-2"), id("assets"), 1, 10n, 50000);
    const packId = await p.packs.packCount();
    await p.packs.connect(s.scorer).recordCreditCheck(packId, ethers.ZeroHash, 1, 0, creditBatchId);
    await p.scores.connect(s.scorer).submitScoreBatch(packId, 0, modelId, id("root"), 1);
    await p.packs.connect(s.scorer).recordScores(packId, await p.scores.batchCount());
    await p.packs.connect(s.scorer).recordGrade(packId, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 10, 0, 0, 0, 0], 60000, 60000);
    await expect(p.packs.connect(s.scorer).recordFilter(packId, {
      mode: 0, weightBy: 1, keptRoot: id("k"), removedRoot: ethers.ZeroHash, keptCount: 1, removedCount: 0,
      keptBalance: 10n, removedBalance: 0n, badRateBeforePpm: 60000, badRateAfterPpm: 60000,
    })).to.be.revertedWithCustomError(p.packs, "AssetPackTargetMissed").withArgs(packId, 60000, 50000);
  });

  it("enforces the order of states and who may move them", async function () {
    await p.packs.connect(s.financier).submitPack(id("idem-3"), id("assets"), 2, 10n, 50000);
    const packId = await p.packs.packCount();
    await expect(p.packs.connect(s.scorer).recordScores(packId, 1))
      .to.be.revertedWithCustomError(p.packs, "AssetPackWrongState").withArgs(packId, 1, 2);
    await expect(p.packs.connect(s.financier).recordCreditCheck(packId, ethers.ZeroHash, 2, 0, creditBatchId))
      .to.be.revertedWithCustomError(p.packs, "ConsortiumGuardedUnauthorizedAccount").withArgs(s.financier.address, ROLES.SCORER);
    await expect(p.packs.connect(s.financier).submitPack(id("idem-3"), id("assets"), 2, 10n, 50000))
      .to.be.revertedWithCustomError(p.packs, "AssetPackDuplicateSubmission").withArgs(id("idem-3"), packId);
  });

  it("lets only the submitting financier commit", async function () {
    const { packId } = await runToFiltered();
    await expect(p.packs.connect(s.financier2).commitPack(packId))
      .to.be.revertedWithCustomError(p.packs, "AssetPackNotFinancier").withArgs(packId, s.financier2.address);
  });

  it("refuses a second issuance score batch for the same pack", async function () {
    const { packId } = await runToFiltered();
    await expect(p.scores.connect(s.scorer).submitScoreBatch(packId, 0, modelId, id("again"), 4))
      .to.be.revertedWithCustomError(p.scores, "ScoreRegistryDuplicateBatch");
  });

  it("stops every guarded write while governance has paused the platform", async function () {
    await governorsDecide(p.registry, [s.govA, s.govB], (r) => r.proposePause());
    await expect(p.packs.connect(s.financier).submitPack(id("idem-4"), id("a"), 1, 1n, 1))
      .to.be.revertedWithCustomError(p.packs, "ConsortiumGuardedEnforcedPause");
    await expect(p.credit.connect(s.bureau).commitBatch(id("r"), 1, 1))
      .to.be.revertedWithCustomError(p.credit, "ConsortiumGuardedEnforcedPause");
    await governorsDecide(p.registry, [s.govB, s.govC], (r) => r.proposeUnpause());
    await expect(p.packs.connect(s.financier).submitPack(id("idem-4"), id("a"), 1, 1n, 1)).to.emit(p.packs, "PackSubmitted");
  });

  it("grades scores into levels on chain from the registered edges and retires models", async function () {
    expect(await p.models.levelOf(modelId, 1)).to.equal(1n);
    expect(await p.models.levelOf(modelId, 10)).to.equal(1n);
    expect(await p.models.levelOf(modelId, 11)).to.equal(2n);
    expect(await p.models.levelOf(modelId, 100)).to.equal(10n);
    await p.models.connect(s.scorer).retireModel(modelId);
    await expect(p.scores.connect(s.scorer).submitScoreBatch(99, 0, modelId, id("r"), 1))
      .to.be.revertedWithCustomError(p.scores, "ScoreRegistryModelInactive").withArgs(modelId);
  });

  it("verifies bureau records against the committed root", async function () {
    const tree = StandardMerkleTree.of([[id("a")], [id("b")], [id("c")]], ["bytes32"]);
    await p.credit.connect(s.bureau).commitBatch(tree.root, 3, 1);
    const batchId = await p.credit.batchCount();
    for (const [i, v] of tree.entries()) {
      expect(await p.credit.verifyRecord(batchId, v[0], tree.getProof(i))).to.equal(true);
    }
    expect(await p.credit.verifyRecord(batchId, id("forged"), tree.getProof(0))).to.equal(false);
  });
});
