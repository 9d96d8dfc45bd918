"""The local consortium node: a Hardhat node on 127.0.0.1, started and stopped by PID.

``start`` runs ``npx hardhat node --hostname 127.0.0.1 --port PORT`` from the repository root in
its own process group, records the PID in ``var/hardhat-PORT.pid`` and the output in
``var/hardhat-PORT.log``, and returns once JSON-RPC answers. ``stop`` ends exactly that process
group. Interval mining (several transactions per block) is on when ``interval_ms`` > 0 is given, or
when it is None and ``HARDHAT_INTERVAL_MS`` is set (``hardhat.config.js`` reads the variable);
``interval_ms=0`` forces automine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chain.errors import NodeError, NodeStartTimeoutError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8545
HOST = "127.0.0.1"


@dataclass(frozen=True)
class NodeStatus:
    """What ``status`` found: the PID from the pid file and what the RPC answered."""

    port: int
    url: str
    pid: int | None
    running: bool
    chain_id: int | None = None
    block_number: int | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 2.0) -> object:
    """One JSON-RPC call with the standard library (the node module needs no web3)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise NodeError(f"{method} failed: {answer['error']}")
    return answer["result"]


def _live_group_members(pgid: int) -> list[int]:
    """PIDs of the process group that have not exited (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


class HardhatNode:
    """Start, stop and inspect one Hardhat node, identified by its port."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        root: Path = REPO_ROOT,
        var_dir: Path | None = None,
        interval_ms: int | None = None,
    ) -> None:
        self.port = port
        self.root = Path(root)
        self.var_dir = Path(var_dir) if var_dir else self.root / "var"
        self.interval_ms = interval_ms
        self._process: subprocess.Popen | None = None  # set when this object started the node

    def __repr__(self) -> str:
        return f"HardhatNode(port={self.port})"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.var_dir / f"hardhat-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.var_dir / f"hardhat-{self.port}.log"

    def start(self, timeout: float = 90.0) -> NodeStatus:
        """Start the node unless ours already runs on this port; return once RPC answers."""
        current = self.status()
        if current.running:
            return current
        if current.pid is not None:  # a pid file from a node that died: stale
            self.pid_file.unlink(missing_ok=True)
        if self._rpc_answers():
            raise NodeError(f"port {self.port} already serves JSON-RPC, but not from a node we started")
        self.var_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.interval_ms:
            env["HARDHAT_INTERVAL_MS"] = str(self.interval_ms)
        elif self.interval_ms == 0:  # automine, whatever the caller's environment says
            env.pop("HARDHAT_INTERVAL_MS", None)
        command = ["npx", "hardhat", "node", "--hostname", HOST, "--port", str(self.port)]
        with open(self.log_file, "wb") as log:
            # A new session makes the node (npx -> node) one process group, stopped as a unit.
            process = subprocess.Popen(
                command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self._process = process
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise NodeError(f"hardhat node exited with {process.returncode}:\n{self._log_tail()}")
            if self._rpc_answers():
                return self.status()
            time.sleep(0.2)
        self.stop()
        raise NodeStartTimeoutError(f"hardhat node on port {self.port} did not answer within {timeout} s")

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the node started on this port; False if none was running."""
        pid = self._read_pid()
        if pid is None or not self._is_our_process(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        self._signal_group(pid, signal.SIGTERM)
        if not self._wait_group_gone(pid, timeout):
            self._signal_group(pid, signal.SIGKILL)
            self._wait_group_gone(pid, timeout)
        self._process = None
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> NodeStatus:
        """PID, chain id and block number; ``running`` only if our process answers RPC."""
        pid = self._read_pid()
        ours = pid is not None and self._is_our_process(pid)
        if not ours:
            return NodeStatus(self.port, self.url, pid, False)
        try:
            chain_id = int(rpc_call(self.url, "eth_chainId"), 16)
            block_number = int(rpc_call(self.url, "eth_blockNumber"), 16)
        except (OSError, NodeError, ValueError):
            return NodeStatus(self.port, self.url, pid, False)
        return NodeStatus(self.port, self.url, pid, True, chain_id, block_number)

    # ------------------------------------------------------------ internals

    def _rpc_answers(self) -> bool:
        try:
            rpc_call(self.url, "eth_chainId", timeout=1.0)
            return True
        except (OSError, urllib.error.URLError, NodeError, ValueError):
            return False

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_group_gone(self, pgid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None:
                self._process.poll()  # reap our child, or it lingers as a zombie of this process
            if not _live_group_members(pgid):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A zombie (exited, not yet reaped by its parent) counts as gone.
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
        except (OSError, IndexError):
            return True

    def _is_our_process(self, pid: int) -> bool:
        """Guard against PID reuse: the process must be a hardhat node for this port."""
        if not self._alive(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        # npm rewrites its title into one string, so match words within the joined line.
        words = b" ".join(cmdline).split()
        return b"hardhat" in words and str(self.port).encode() in words

    @staticmethod
    def _signal_group(pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)  # start_new_session made the pid its group's id
        except ProcessLookupError:
            pass

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
