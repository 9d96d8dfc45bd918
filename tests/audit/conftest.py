"""Audit tests: one world per session (``audit_support.build_audit_world``): the embedded chain,
two committed packs, an issued product with holders and a paid period, IoT windows and a freeze.
Tests that write to the chain (attestations) run between a snapshot and a revert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_support import AuditWorld, build_audit_world

from chain.backends import revert, snapshot


@pytest.fixture(scope="session")
def audit_world(tmp_path_factory) -> AuditWorld:
    return build_audit_world(tmp_path_factory.mktemp("audit-world"))


@pytest.fixture
def chain_snapshot(audit_world: AuditWorld) -> Iterator[None]:
    token = snapshot(audit_world.w3)
    yield
    revert(audit_world.w3, token)
    audit_world.consortium.resync()
