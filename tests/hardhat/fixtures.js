// Shared deployment for the Hardhat contract tests: the platform with one member per role.
const { ethers, network } = require("hardhat");

const role = (name) => ethers.keccak256(ethers.toUtf8Bytes(name));
const ROLES = Object.fromEntries(
  ["GOVERNOR", "FINANCIER", "CREDIT_BUREAU", "SCORER", "EXCHANGE", "INVESTOR", "IOT_GATEWAY", "AUDITOR"].map((n) => [n, role(n)]),
);
const LIFETIME = 7 * 24 * 3600;
const EDGES = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
const BAD_RATES = [400000, 250000, 180000, 120000, 90000, 60000, 40000, 25000, 15000, 8000];

async function deployPlatform() {
  const [deployer, govA, govB, govC, financier, bureau, scorer, exchange, investor, gateway, auditor, outsider, financier2] =
    await ethers.getSigners();
  const registry = await (await ethers.getContractFactory("MemberRegistry")).deploy(LIFETIME);
  await registry.bootstrap(
    [govA, govB, govC, financier, financier2, bureau, scorer, exchange, investor, gateway, auditor].map((s) => s.address),
    ["Gov A", "Gov B", "Gov C", "Financier", "Financier 2", "Bureau", "Scorer", "Exchange", "Investor", "IoT", "Auditor"],
    [[ROLES.GOVERNOR], [ROLES.GOVERNOR], [ROLES.GOVERNOR], [ROLES.FINANCIER], [ROLES.FINANCIER], [ROLES.CREDIT_BUREAU],
      [ROLES.SCORER], [ROLES.EXCHANGE], [ROLES.INVESTOR], [ROLES.IOT_GATEWAY], [ROLES.AUDITOR]],
    2,
  );
  const addr = await registry.getAddress();
  const credit = await (await ethers.getContractFactory("CreditRegistry")).deploy(addr);
  const models = await (await ethers.getContractFactory("ModelRegistry")).deploy(addr);
  const scores = await (await ethers.getContractFactory("ScoreRegistry")).deploy(addr, await models.getAddress());
  const packs = await (await ethers.getContractFactory("AssetPack")).deploy(
    addr, await credit.getAddress(), await scores.getAddress(),
  );
  return {
    registry, credit, models, scores, packs,
    signers: { deployer, govA, govB, govC, financier, financier2, bureau, scorer, exchange, investor, gateway, auditor, outsider },
  };
}

async function governorsDecide(registry, [proposer, approver], proposeFn) {
  await proposeFn(registry.connect(proposer));
  const id = await registry.proposalCount();
  await registry.connect(approver).approve(id);
  await registry.connect(approver).execute(id);
  return id;
}

async function snapshot() {
  return network.provider.send("evm_snapshot");
}

async function revert(id) {
  await network.provider.send("evm_revert", [id]);
}

module.exports = { ROLES, EDGES, BAD_RATES, deployPlatform, governorsDecide, snapshot, revert, role };
