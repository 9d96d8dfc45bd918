"""The local Hardhat node: started on 127.0.0.1, found again by its pid file, stopped by PID."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chain.errors import NodeError
from chain.node import HardhatNode, free_port, rpc_call

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def test_node_starts_answers_and_stops_with_its_whole_process_group(tmp_path):
    node = HardhatNode(free_port(), var_dir=tmp_path)

    status = node.start()
    try:
        group = [int(p.name) for p in Path("/proc").iterdir() if _in_group(p, status.pid)]
        assert status.running and status.chain_id == 31337 and status.block_number == 0
        assert node.pid_file.read_text().strip() == str(status.pid)
        assert node.log_file.exists()
        assert HardhatNode(node.port, var_dir=tmp_path).start().pid == status.pid  # found, not restarted
    finally:
        assert node.stop()

    assert not node.pid_file.exists()
    assert len(group) >= 2  # npx and the node itself
    assert not any(_alive(pid) for pid in group)
    with pytest.raises(OSError):
        rpc_call(node.url, "eth_chainId")
    assert not node.status().running


def _in_group(proc: Path, pgid: int) -> bool:
    if not proc.name.isdigit():
        return False
    try:
        return int((proc / "stat").read_text().rsplit(") ", 1)[1].split()[2]) == pgid
    except (OSError, IndexError, ValueError):
        return False


def test_stop_never_signals_a_process_that_is_not_our_node(tmp_path):
    node = HardhatNode(free_port(), var_dir=tmp_path)
    tmp_path.mkdir(exist_ok=True)
    node.pid_file.write_text(f"{os.getpid()}\n")  # a stale pid file naming this very process

    assert not node.status().running
    assert node.stop() is False
    assert not node.pid_file.exists()


def test_a_port_serving_someone_elses_node_is_refused(hardhat_node, tmp_path):
    stranger = HardhatNode(hardhat_node.port, var_dir=tmp_path)  # no pid file of ours here

    with pytest.raises(NodeError, match="not from a node we started"):
        stranger.start()
    assert hardhat_node.status().running
