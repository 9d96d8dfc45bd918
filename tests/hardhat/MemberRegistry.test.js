// Contract tests under `npx hardhat test`: consortium governance of the MemberRegistry.
const { expect } = require("chai");
const { ethers, network } = require("hardhat");

const role = (name) => ethers.keccak256(ethers.toUtf8Bytes(name));
const GOVERNOR = role("GOVERNOR");
const FINANCIER = role("FINANCIER");
const AUDITOR = role("AUDITOR");
const LIFETIME = 7 * 24 * 3600;

async function expectCustomError(promise, contract, name, args) {
  try {
    await promise;
  } catch (err) {
    const data = err.data ?? err.info?.error?.data ?? err.error?.data;
    const parsed = contract.interface.parseError(data);
    expect(parsed, `revert data ${data} is not a custom error of the contract`).to.not.equal(null);
    expect(parsed.name).to.equal(name);
    if (args) expect(parsed.args.map((a) => a.toString())).to.deep.equal(args.map((a) => a.toString()));
    return;
  }
  expect.fail(`expected revert ${name}`);
}

describe("MemberRegistry", function () {
  let registry, deployer, govA, govB, govC, financier, outsider;
  let snapshot;

  before(async function () {
    [deployer, govA, govB, govC, financier, outsider] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("MemberRegistry");
    registry = await factory.deploy(LIFETIME);
    await registry.bootstrap(
      [govA.address, govB.address, govC.address],
      ["Gov A", "Gov B", "Gov C"],
      [[GOVERNOR], [GOVERNOR], [GOVERNOR]],
      2,
    );
    snapshot = await network.provider.send("evm_snapshot");
  });

  afterEach(async function () {
    await network.provider.send("evm_revert", [snapshot]);
    snapshot = await network.provider.send("evm_snapshot");
  });

  async function proposeAdmitFinancier() {
    await registry.connect(govA).proposeAdmit(financier.address, "Financier Ltd", [FINANCIER]);
    return await registry.proposalCount();
  }

  it("seats 2-of-3 governors and ends the deployer's bootstrap powers", async function () {
    expect(await registry.quorum()).to.equal(2n);
    expect(await registry.governorCount()).to.equal(3n);
    expect(await registry.bootstrapped()).to.equal(true);
    await expectCustomError(
      registry.bootstrap([outsider.address], ["X"], [[GOVERNOR]], 1),
      registry, "MemberRegistryBootstrapEnded",
    );
    await expectCustomError(
      registry.connect(outsider).bootstrap([outsider.address], ["X"], [[GOVERNOR]], 1),
      registry, "MemberRegistryNotBootstrapper", [outsider.address],
    );
  });

  it("admits a member with m approvals and not with m-1", async function () {
    const id = await proposeAdmitFinancier();
    await expectCustomError(
      registry.connect(govA).execute(id), registry, "MemberRegistryQuorumNotReached", [id, 1, 2],
    );
    expect(await registry.hasRole(FINANCIER, financier.address)).to.equal(false);
    await registry.connect(govB).approve(id);
    await expect(registry.connect(govC).execute(id))
      .to.emit(registry, "MemberAdmitted").withArgs(financier.address, "Financier Ltd", [FINANCIER]);
    expect(await registry.hasRole(FINANCIER, financier.address)).to.equal(true);
    expect(await registry.isMember(financier.address)).to.equal(true);
  });

  it("refuses an expired proposal", async function () {
    const id = await proposeAdmitFinancier();
    await registry.connect(govB).approve(id);
    await network.provider.send("evm_increaseTime", [LIFETIME + 1]);
    await network.provider.send("evm_mine");
    await expectCustomError(registry.connect(govA).execute(id), registry, "MemberRegistryProposalExpired");
  });

  it("removes a member together with every role it held", async function () {
    const id = await proposeAdmitFinancier();
    await registry.connect(govB).approve(id);
    await registry.connect(govB).execute(id);
    await registry.connect(govA).proposeGrantRole(financier.address, AUDITOR);
    const grant = await registry.proposalCount();
    await registry.connect(govC).approve(grant);
    await registry.connect(govC).execute(grant);
    expect(await registry.rolesOf(financier.address)).to.deep.equal([FINANCIER, AUDITOR]);

    await registry.connect(govA).proposeRemove(financier.address);
    const remove = await registry.proposalCount();
    await registry.connect(govB).approve(remove);
    await expect(registry.connect(govA).execute(remove)).to.emit(registry, "MemberRemoved");
    expect(await registry.rolesOf(financier.address)).to.deep.equal([]);
    expect(await registry.isMember(financier.address)).to.equal(false);
  });

  it("counts only approvals of accounts that are still governors", async function () {
    const admit = await proposeAdmitFinancier(); // govA approves by proposing
    await registry.connect(govB).proposeRemove(govA.address);
    const removeA = await registry.proposalCount();
    await registry.connect(govC).approve(removeA);
    await registry.connect(govC).execute(removeA);
    // Quorum 2 with two governors left: govA's earlier approval no longer counts.
    await expectCustomError(registry.connect(govB).execute(admit), registry, "MemberRegistryQuorumNotReached", [admit, 0, 2]);
  });

  it("cannot drop below its quorum", async function () {
    await registry.connect(govA).proposeRemove(govC.address);
    const first = await registry.proposalCount();
    await registry.connect(govB).approve(first);
    await registry.connect(govB).execute(first);
    await expectCustomError(
      registry.connect(govA).proposeRemove(govB.address), registry, "MemberRegistryInvalidQuorum", [2, 1],
    );
  });

  it("pauses and unpauses the platform by quorum", async function () {
    await registry.connect(govA).proposePause();
    const pause = await registry.proposalCount();
    await registry.connect(govB).approve(pause);
    await expect(registry.connect(govB).execute(pause)).to.emit(registry, "PlatformPaused").withArgs(pause);
    expect(await registry.paused()).to.equal(true);
    await registry.connect(govC).proposeUnpause();
    const unpause = await registry.proposalCount();
    await registry.connect(govA).approve(unpause);
    await registry.connect(govA).execute(unpause);
    expect(await registry.paused()).to.equal(false);
  });

  it("denies governance to non-governors and direct role changes to everyone", async function () {
    await expectCustomError(
      registry.connect(outsider).proposePause(), registry, "MemberRegistryNotGovernor", [outsider.address],
    );
    await expectCustomError(registry.connect(outsider).approve(1), registry, "MemberRegistryNotGovernor");
    await expectCustomError(
      registry.connect(govA).grantRole(FINANCIER, outsider.address), registry, "MemberRegistryDirectRoleChangeDisabled",
    );
  });

  it("refuses a double approval", async function () {
    const id = await proposeAdmitFinancier();
    await expectCustomError(registry.connect(govA).approve(id), registry, "MemberRegistryAlreadyApproved", [id, govA.address]);
  });
});
