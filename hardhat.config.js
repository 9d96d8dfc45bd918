// Hardhat 2 configuration: the local consortium node and the contract compile path (a).
// The compiler is the pinned npm `solc` package (soljson.js); Hardhat must never download one,
// so the solc-build subtask is overridden. Compiler settings are shared with the Python
// compile path (chain/compile.py) through contracts/solc-settings.json, which is what makes
// the two paths produce byte-identical bytecode.
const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");

const solcSettings = require("./contracts/solc-settings.json");

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== solcSettings.version) {
    throw new Error(`only solc ${solcSettings.version} is installed (npm solc); asked for ${args.solcVersion}`);
  }
  return {
    compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
    isSolcJs: true,
    version: solcSettings.version,
    longVersion: solcSettings.longVersion,
  };
});

// Zero gas price, as on a consortium QBFT network: the base fee must start at 0 and the block
// gas limit must be large, or the base fee rises to 1 wei and zero-price transactions hang.
const intervalMs = process.env.HARDHAT_INTERVAL_MS ? Number(process.env.HARDHAT_INTERVAL_MS) : 0;

module.exports = {
  solidity: {
    version: solcSettings.version,
    settings: solcSettings.settings,
  },
  paths: {
    sources: "./contracts",
    tests: "./tests/hardhat",
    cache: "./build/hardhat-cache",
    artifacts: "./build/artifacts",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      initialBaseFeePerGas: 0,
      gasPrice: 0,
      blockGasLimit: 1_000_000_000,
      allowUnlimitedContractSize: false,
      mining: intervalMs > 0 ? { auto: false, interval: intervalMs } : { auto: true },
    },
  },
  mocha: { timeout: 120000 },
};
