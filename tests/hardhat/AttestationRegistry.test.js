// Contract tests of auditors' attestations: an EIP-712 statement signed by an AUDITOR member is
// recorded (by any AUDITOR key: a relayer), one signed by anyone else is refused with the
// custom error, and the same signed statement cannot be recorded twice.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { ROLES, deployPlatform, governorsDecide, snapshot, revert } = require("./fixtures");

const PACK_ROOT = 0, BLOCK_RANGE = 1;
const CLEAN = 0, FINDINGS = 1;
const TYPES = {
  Statement: [
    { name: "kind", type: "uint8" }, { name: "packId", type: "uint256" }, { name: "root", type: "bytes32" },
    { name: "fromBlock", type: "uint64" }, { name: "toBlock", type: "uint64" }, { name: "verdict", type: "uint8" },
    { name: "findings", type: "uint32" }, { name: "reportHash", type: "bytes32" }, { name: "nonce", type: "uint256" },
  ],
};
const ZERO = ethers.ZeroHash;
const h = (text) => ethers.keccak256(ethers.toUtf8Bytes(text));

function packStatement(overrides = {}) {
  return { kind: PACK_ROOT, packId: 7n, root: h("kept root"), fromBlock: 0n, toBlock: 0n, verdict: CLEAN,
    findings: 0, reportHash: h("report"), nonce: 1n, ...overrides };
}

describe("AttestationRegistry", function () {
  let f, s, attestations, domain, snap;

  before(async function () {
    f = await deployPlatform();
    s = f.signers;
    attestations = await (await ethers.getContractFactory("AttestationRegistry")).deploy(await f.registry.getAddress());
    const { chainId } = await ethers.provider.getNetwork();
    domain = { name: "AttestationRegistry", version: "1", chainId, verifyingContract: await attestations.getAddress() };
    snap = await snapshot();
  });

  afterEach(async function () {
    await revert(snap);
    snap = await snapshot();
  });

  const sign = (signer, statement) => signer.signTypedData(domain, TYPES, statement);

  it("records a statement an auditor signed, with the signer as auditor of record", async function () {
    const statement = packStatement();
    const signature = await sign(s.auditor, statement);
    const digest = ethers.TypedDataEncoder.hash(domain, TYPES, statement);
    expect(await attestations.statementDigest(statement)).to.equal(digest);
    await expect(attestations.connect(s.auditor).attest(statement, signature))
      .to.emit(attestations, "AttestationRecorded");
    expect(await attestations.attestationCount()).to.equal(1n);
    expect(await attestations.attestationOfDigest(digest)).to.equal(1n);
    const recorded = await attestations.attestation(1n);
    expect(recorded.auditor).to.equal(s.auditor.address);
    expect(recorded.statement.root).to.equal(statement.root);
    expect(recorded.statement.packId).to.equal(7n);
  });

  it("lets another AUDITOR key relay the signed statement: the signature names the auditor", async function () {
    const relayer = s.govC; // given the AUDITOR role by governance below
    await governorsDecide(f.registry, [s.govA, s.govB], (r) => r.proposeGrantRole(relayer.address, ROLES.AUDITOR));
    const statement = packStatement({ nonce: 2n });
    await attestations.connect(relayer).attest(statement, await sign(s.auditor, statement));
    const recorded = await attestations.attestation(1n);
    expect(recorded.auditor).to.equal(s.auditor.address);
    expect(recorded.submitter).to.equal(relayer.address);
  });

  it("refuses a statement signed by a non-auditor, naming the signer", async function () {
    const statement = packStatement();
    const forged = await sign(s.financier, statement);
    await expect(attestations.connect(s.auditor).attest(statement, forged))
      .to.be.revertedWithCustomError(attestations, "AttestationRegistrySignerNotAuditor")
      .withArgs(s.financier.address);
    // a signature over another statement recovers to some other address: refused the same way
    const other = await sign(s.auditor, packStatement({ findings: 3, verdict: FINDINGS }));
    await expect(attestations.connect(s.auditor).attest(statement, other))
      .to.be.revertedWithCustomError(attestations, "AttestationRegistrySignerNotAuditor");
    await expect(attestations.connect(s.auditor).attest(statement, "0x1234"))
      .to.be.revertedWithCustomError(attestations, "AttestationRegistryInvalidSignature");
  });

  it("refuses a replay of the same signed statement", async function () {
    const statement = packStatement();
    const signature = await sign(s.auditor, statement);
    await attestations.connect(s.auditor).attest(statement, signature);
    const digest = ethers.TypedDataEncoder.hash(domain, TYPES, statement);
    await expect(attestations.connect(s.auditor).attest(statement, signature))
      .to.be.revertedWithCustomError(attestations, "AttestationRegistryAlreadyAttested").withArgs(digest, 1n);
  });

  it("refuses a submitter without the AUDITOR role", async function () {
    const statement = packStatement();
    await expect(attestations.connect(s.outsider).attest(statement, await sign(s.auditor, statement)))
      .to.be.revertedWithCustomError(attestations, "ConsortiumGuardedUnauthorizedAccount")
      .withArgs(s.outsider.address, ROLES.AUDITOR);
  });

  it("records block ranges and checks subject fields, verdict and report hash", async function () {
    const now = BigInt(await ethers.provider.getBlockNumber());
    const range = { kind: BLOCK_RANGE, packId: 0n, root: ZERO, fromBlock: 0n, toBlock: now, verdict: FINDINGS,
      findings: 2, reportHash: h("range report"), nonce: 1n };
    await attestations.connect(s.auditor).attest(range, await sign(s.auditor, range));
    expect((await attestations.attestation(1n)).statement.toBlock).to.equal(now);

    const refusals = [
      [{ ...range, toBlock: now + 100n }, "AttestationRegistryFutureBlock"],
      [{ ...range, fromBlock: 5n, toBlock: 4n }, "AttestationRegistryInvalidSubject"],
      [{ ...range, packId: 3n }, "AttestationRegistryInvalidSubject"],
      [packStatement({ root: ZERO }), "AttestationRegistryInvalidSubject"],
      [packStatement({ verdict: CLEAN, findings: 1 }), "AttestationRegistryVerdictMismatch"],
      [packStatement({ verdict: FINDINGS, findings: 0 }), "AttestationRegistryVerdictMismatch"],
      [packStatement({ reportHash: ZERO }), "AttestationRegistryZeroReport"],
    ];
    for (const [statement, error] of refusals) {
      await expect(attestations.connect(s.auditor).attest(statement, await sign(s.auditor, statement)))
        .to.be.revertedWithCustomError(attestations, error);
    }
    await expect(attestations.attestation(2n))
      .to.be.revertedWithCustomError(attestations, "AttestationRegistryUnknownAttestation").withArgs(2n);
  });
});
