// Contract tests of post-issuance monitoring: a pack driven through AssetPack to Monitoring,
// then cycles, triggers, measures and replacements in PackMonitor, with proofs built by
// OpenZeppelin's own JavaScript Merkle library.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const { ROLES, EDGES, BAD_RATES, deployPlatform, governorsDecide, snapshot, revert } = require("./fixtures");

const id = (s) => ethers.keccak256(ethers.toUtf8Bytes(s));
const METRICS = { cvAucPpm: 790000, ksPpm: 450000, brierPpm: 70000, sampleSize: 1000 };
const PACK_ASSET = ["bytes32", "bytes32", "uint8", "uint8"];
const ISSUED = 7n, MONITORING = 8n;
const WEEKLY_REMINDERS = 0, REPLACEMENT_INSTRUCTION = 1;
const OPEN = 1, DONE = 2, ESCALATED = 3, CANCELLED = 4;
const RULE = id("rule:bad-rate-above-expected");
const DAY = 24 * 3600;

describe("PackMonitor", function () {
  let p, s, monitor, snap, packId, modelId, kept;
  const assets = [
    // [assetId, recordHash, score, level]; the first one is filtered out at issuance
    [id("L1"), id("rec1"), 5, 1],
    [id("L2"), id("rec2"), 35, 4],
    [id("L3"), id("rec3"), 77, 8],
    [id("L4"), id("rec4"), 95, 10],
  ];
  const newcomer = [id("L5"), id("rec5"), 88, 9];

  before(async function () {
    p = await deployPlatform();
    s = p.signers;
    monitor = await (await ethers.getContractFactory("PackMonitor")).deploy(
      await p.registry.getAddress(), await p.packs.getAddress(), await p.scores.getAddress(),
    );
    await p.models.connect(s.scorer).registerModel(
      id("artifact"), id("schema"), "scorecard-v1", EDGES, BAD_RATES, METRICS,
    );
    modelId = await p.models.modelCount();
    const block = await ethers.provider.getBlock("latest");
    await p.credit.connect(s.bureau).commitBatch(id("credit-root"), 4, block.timestamp);
    const creditBatchId = await p.credit.batchCount();

    await p.packs.connect(s.financier).submitPack(id("idem-1"), id("assets"), 4, 1_000_000n, 200000);
    packId = await p.packs.packCount();
    await p.packs.connect(s.scorer).recordCreditCheck(packId, ethers.ZeroHash, 4, 0, creditBatchId);
    await p.scores.connect(s.scorer).submitScoreBatch(packId, 0, modelId, id("issuance-scores"), 4);
    await p.packs.connect(s.scorer).recordScores(packId, await p.scores.batchCount());
    await p.packs.connect(s.scorer).recordGrade(
      packId, [1, 0, 0, 1, 0, 0, 0, 1, 0, 1], [100n, 0n, 0n, 200n, 0n, 0n, 0n, 300n, 0n, 400n], 138250, 0,
    );
    kept = StandardMerkleTree.of(assets.slice(1), PACK_ASSET);
    const removed = StandardMerkleTree.of(assets.slice(0, 1), PACK_ASSET);
    await p.packs.connect(s.scorer).recordFilter(packId, {
      mode: 0, weightBy: 0, keptRoot: kept.root, removedRoot: removed.root, keptCount: 3, removedCount: 1,
      keptBalance: 900n, removedBalance: 100n, badRateBeforePpm: 138250, badRateAfterPpm: 51000,
    });
    await p.packs.connect(s.financier).commitPack(packId);
    await p.packs.connect(s.exchange).markIssued(packId, 1);
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  function report(scoreBatchId, changes = {}) {
    return {
      scoreBatchId,
      levelCounts: [0, 0, 0, 1, 0, 0, 0, 1, 0, 1],
      levelBalances: [0n, 0n, 0n, 200n, 0n, 0n, 0n, 300n, 0n, 400n],
      badRatePpm: 51000, expectedBadRatePpm: 200000, realisedBadRatePpm: 30000, psiPpm: 1_200_000,
      liveCount: 3, liveBalance: 900n,
      ...changes,
    };
  }

  async function scoreCycle(cycle) {
    await p.scores.connect(s.scorer).submitScoreBatch(packId, cycle, modelId, id(`cycle-scores:${cycle}`), 3);
    return p.scores.batchCount();
  }

  async function monitoringWithCycle() {
    await p.packs.connect(s.scorer).startMonitoring(packId);
    const batchId = await scoreCycle(1);
    await monitor.connect(s.scorer).recordCycle(packId, 1, report(batchId));
    return batchId;
  }

  async function deadline(days = 7) {
    return (await ethers.provider.getBlock("latest")).timestamp + days * DAY;
  }

  async function openMeasure(kind = REPLACEMENT_INSTRUCTION) {
    await monitor.connect(s.scorer).recordTrigger(packId, 1, RULE, id("evidence"));
    const subjects = StandardMerkleTree.of([[assets[1][0]]], ["bytes32"]);
    await monitor.connect(s.scorer).openMeasure(packId, 1, kind, RULE, subjects.root, 1, await deadline());
    return { measureId: await monitor.measureCount(), subjects };
  }

  function replacementTrees() {
    const old = assets[1];
    return {
      old,
      after: StandardMerkleTree.of([newcomer, ...assets.slice(2)], PACK_ASSET),
      out: StandardMerkleTree.of([old], PACK_ASSET),
      in: StandardMerkleTree.of([newcomer], PACK_ASSET),
    };
  }

  it("takes a pack from cycle to trigger to measure to replacement", async function () {
    await expect(p.packs.connect(s.scorer).startMonitoring(packId))
      .to.emit(p.packs, "PackStateChanged").withArgs(packId, ISSUED, MONITORING);
    const batchId = await scoreCycle(1);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batchId)))
      .to.emit(monitor, "CycleRecorded");
    expect(await monitor.cycleCount(packId)).to.equal(1n);
    const [stored] = await monitor.cycle(packId, 1);
    expect(stored.liveBalance).to.equal(900n);
    expect(stored.levelCounts[9]).to.equal(1n);

    await expect(monitor.connect(s.scorer).recordTrigger(packId, 1, RULE, id("evidence")))
      .to.emit(monitor, "TriggerFired").withArgs(packId, 1, RULE, id("evidence"));
    const subjects = StandardMerkleTree.of([[assets[1][0]]], ["bytes32"]);
    const due = await deadline();
    await expect(monitor.connect(s.scorer).openMeasure(packId, 1, REPLACEMENT_INSTRUCTION, RULE, subjects.root, 1, due))
      .to.emit(monitor, "MeasureOpened").withArgs(1, packId, 1, REPLACEMENT_INSTRUCTION, RULE, subjects.root, 1, due);
    expect(await monitor.verifyMeasureSubject(1, assets[1][0], subjects.getProof(0))).to.equal(true);
    await expect(monitor.connect(s.scorer).setMeasureStatus(1, ESCALATED))
      .to.emit(monitor, "MeasureStatusChanged").withArgs(1, packId, OPEN, ESCALATED);

    const t = replacementTrees();
    expect(await monitor.currentRoot(packId)).to.equal(kept.root);
    const tx = monitor.connect(s.scorer).recordReplacement(
      packId, 1, 1, kept.root, t.after.root, t.out.root, t.in.root, [t.old[0]], [newcomer[0]],
    );
    await expect(tx).to.emit(monitor, "ReplacementRecorded")
      .withArgs(1, packId, 1, 1, kept.root, t.after.root, t.out.root, t.in.root, 1);
    await expect(tx).to.emit(monitor, "AssetReplaced").withArgs(packId, 1, t.old[0], newcomer[0], 1);
    expect(await monitor.currentRoot(packId)).to.equal(t.after.root);
    expect(await monitor.verifyReplacedOut(1, ...t.old, t.out.getProof(0))).to.equal(true);
    expect(await monitor.verifyReplacedIn(1, ...newcomer, t.in.getProof(0))).to.equal(true);
    const newIndex = [...t.after.entries()].find(([, v]) => v[0] === newcomer[0])[0];
    expect(await monitor.verifyCurrent(packId, ...newcomer, t.after.getProof(newIndex))).to.equal(true);
    const oldIndex = [...kept.entries()].find(([, v]) => v[0] === t.old[0])[0];
    expect(await monitor.verifyCurrent(packId, ...t.old, kept.getProof(oldIndex))).to.equal(false);

    await monitor.connect(s.scorer).setMeasureStatus(1, DONE);
    expect((await monitor.measure(1)).status).to.equal(BigInt(DONE));
  });

  it("records cycles only for a pack in Monitoring, in order, on their own score batch", async function () {
    const batch1 = await scoreCycle(1);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batch1)))
      .to.be.revertedWithCustomError(monitor, "PackMonitorNotMonitoring").withArgs(packId, ISSUED);
    await p.packs.connect(s.scorer).startMonitoring(packId);
    const batch2 = await scoreCycle(2);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 2, report(batch2)))
      .to.be.revertedWithCustomError(monitor, "PackMonitorCycleOutOfOrder").withArgs(packId, 1, 2);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batch2)))
      .to.be.revertedWithCustomError(monitor, "PackMonitorScoreBatchMismatch").withArgs(packId, 1, batch2);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batch1, { badRatePpm: 1_000_001 })))
      .to.be.revertedWithCustomError(monitor, "PackMonitorRateOutOfRange").withArgs(1_000_001);
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batch1, { liveCount: 4 })))
      .to.be.revertedWithCustomError(monitor, "PackMonitorTotalsMismatch").withArgs(packId, 4, 3);
    await expect(monitor.connect(s.financier).recordCycle(packId, 1, report(batch1)))
      .to.be.revertedWithCustomError(monitor, "ConsortiumGuardedUnauthorizedAccount")
      .withArgs(s.financier.address, ROLES.SCORER);
  });

  it("fires a rule once per cycle and opens measures only after it fired", async function () {
    await monitoringWithCycle();
    await expect(monitor.connect(s.scorer).recordTrigger(packId, 2, RULE, id("evidence")))
      .to.be.revertedWithCustomError(monitor, "PackMonitorUnknownCycle").withArgs(packId, 2);
    const subjects = StandardMerkleTree.of([[assets[1][0]]], ["bytes32"]);
    const open = (root, due) => monitor.connect(s.scorer).openMeasure(packId, 1, WEEKLY_REMINDERS, RULE, root, 1, due);
    await expect(open(subjects.root, await deadline()))
      .to.be.revertedWithCustomError(monitor, "PackMonitorTriggerNotFired").withArgs(packId, 1, RULE);
    await monitor.connect(s.scorer).recordTrigger(packId, 1, RULE, id("evidence"));
    await expect(monitor.connect(s.scorer).recordTrigger(packId, 1, RULE, id("evidence-2")))
      .to.be.revertedWithCustomError(monitor, "PackMonitorDuplicateTrigger").withArgs(packId, 1, RULE);
    const past = (await ethers.provider.getBlock("latest")).timestamp;
    await expect(open(subjects.root, past))
      .to.be.revertedWithCustomError(monitor, "PackMonitorDeadlinePassed");
    await expect(open(ethers.ZeroHash, await deadline()))
      .to.be.revertedWithCustomError(monitor, "PackMonitorEmptySubject");
  });

  it("moves measures only along legal transitions", async function () {
    await monitoringWithCycle();
    const { measureId } = await openMeasure(WEEKLY_REMINDERS);
    await expect(monitor.connect(s.scorer).setMeasureStatus(measureId, OPEN))
      .to.be.revertedWithCustomError(monitor, "PackMonitorBadTransition").withArgs(measureId, OPEN, OPEN);
    await monitor.connect(s.scorer).setMeasureStatus(measureId, CANCELLED);
    await expect(monitor.connect(s.scorer).setMeasureStatus(measureId, DONE))
      .to.be.revertedWithCustomError(monitor, "PackMonitorBadTransition").withArgs(measureId, CANCELLED, DONE);
    await expect(monitor.connect(s.scorer).setMeasureStatus(99, DONE))
      .to.be.revertedWithCustomError(monitor, "PackMonitorUnknownMeasure").withArgs(99);
  });

  it("refuses a replacement from a stale root, against a wrong measure or with unequal lists", async function () {
    await monitoringWithCycle();
    const { measureId: reminders } = await openMeasure(WEEKLY_REMINDERS);
    const t = replacementTrees();
    const replace = (measureId, previous, olds, news) => monitor.connect(s.scorer).recordReplacement(
      packId, 1, measureId, previous, t.after.root, t.out.root, t.in.root, olds, news,
    );
    await expect(replace(0, id("stale"), [t.old[0]], [newcomer[0]]))
      .to.be.revertedWithCustomError(monitor, "PackMonitorStaleRoot").withArgs(packId, kept.root, id("stale"));
    await expect(replace(reminders, kept.root, [t.old[0]], [newcomer[0]]))
      .to.be.revertedWithCustomError(monitor, "PackMonitorWrongMeasure").withArgs(reminders);
    await expect(replace(0, kept.root, [t.old[0]], []))
      .to.be.revertedWithCustomError(monitor, "PackMonitorBadSwapList").withArgs(1, 0);
    await replace(0, kept.root, [t.old[0]], [newcomer[0]]);
    await expect(replace(0, kept.root, [t.old[0]], [newcomer[0]]))
      .to.be.revertedWithCustomError(monitor, "PackMonitorStaleRoot").withArgs(packId, t.after.root, kept.root);
  });

  it("stops writes while the consortium is paused", async function () {
    await p.packs.connect(s.scorer).startMonitoring(packId);
    const batchId = await scoreCycle(1);
    await governorsDecide(p.registry, [s.govA, s.govB], (r) => r.proposePause());
    await expect(monitor.connect(s.scorer).recordCycle(packId, 1, report(batchId)))
      .to.be.revertedWithCustomError(monitor, "ConsortiumGuardedEnforcedPause");
  });
});
