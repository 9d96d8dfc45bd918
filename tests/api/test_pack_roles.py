"""Who may do what, by the member's on-chain roles: every boundary of the pack API."""

from __future__ import annotations

import pytest

from support import SECOND_FINANCIER, pack_csv, pack_frame

CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def queued(make_api):
    """An app whose pipeline does not run, and one pack of `financier` in it."""
    api = make_api(pipeline_threads=0)
    body = pack_csv(pack_frame(8, seed=4001, financier="roles"))
    response = api.post("/v1/packs/csv", key="roles-1", content=body, headers=CSV)
    assert response.status_code == 202
    return api, response.json()["id"], body


def test_every_call_needs_a_known_unrevoked_key(queued):
    api, pack_id, _ = queued
    assert api.client.get(f"/v1/packs/{pack_id}").status_code == 401
    assert api.client.get(f"/v1/packs/{pack_id}", headers={"X-API-Key": "abs_nope"}).status_code == 401
    assert api.client.get("/v1/me", headers={"X-API-Key": api.headers("financier")["Authorization"][7:]}).json()[
        "roles"] == ["FINANCIER"]


def test_a_member_without_any_role_is_refused(queued):
    api, pack_id, _ = queued
    response = api.get(f"/v1/packs/{pack_id}", as_="outsider")
    assert response.status_code == 403 and "holds no role" in response.json()["message"]


@pytest.mark.parametrize("member", ["investor", "auditor", "scorer", "bureau", "exchange"])
def test_only_a_financier_may_submit(queued, member):
    api, _, body = queued
    response = api.post("/v1/packs/csv", as_=member, key=f"by-{member}", content=body, headers=CSV)
    assert response.status_code == 403
    assert response.json()["details"]["needed"] == ["FINANCIER"]


def test_a_financier_cannot_see_or_touch_another_financiers_pack(queued):
    api, pack_id, _ = queued
    assert api.get(f"/v1/packs/{pack_id}", as_=SECOND_FINANCIER).status_code == 404
    assert api.get("/v1/packs", as_=SECOND_FINANCIER).json() == {"packs": [], "total": 0}
    for path in (f"/v1/packs/{pack_id}/assets", f"/v1/packs/{pack_id}/report",
                 f"/v1/packs/{pack_id}/assets/x/proof", f"/v1/packs/{pack_id}/export/kept.csv"):
        assert api.get(path, as_=SECOND_FINANCIER).status_code == 404, path
    assert api.post(f"/v1/packs/{pack_id}/withdraw", as_=SECOND_FINANCIER).status_code == 404
    assert api.get(f"/v1/packs/{pack_id}").status_code == 200
    assert api.get("/v1/packs").json()["total"] == 1


def test_the_auditor_reads_everything_and_writes_nothing(queued):
    api, pack_id, _ = queued
    assert api.get(f"/v1/packs/{pack_id}", as_="auditor").status_code == 200
    assert api.get("/v1/packs", as_="auditor").json()["total"] == 1
    assert api.get(f"/v1/packs/{pack_id}/assets", as_="auditor").json()["total"] == 8
    for path in ("withdraw", "resume"):
        response = api.post(f"/v1/packs/{pack_id}/{path}", as_="auditor")
        assert response.status_code == 403, path
    response = api.post(f"/v1/packs/{pack_id}/filter", as_="auditor", json={"filter_mode": "global"})
    assert response.status_code == 403


def test_investors_and_the_exchange_see_no_pack_before_it_is_issued(queued):
    api, pack_id, _ = queued
    for member in ("investor", "exchange"):
        assert api.get(f"/v1/packs/{pack_id}", as_=member).status_code == 404
        assert api.get("/v1/packs", as_=member).json()["total"] == 0


def test_a_role_revoked_on_chain_closes_the_door(queued, world):
    """Roles come from the chain at request time (cached a few seconds), not from the key."""
    api, pack_id, _ = queued
    registry = world.consortium.registry
    auditor = world.consortium.address("auditor")
    roles = api.app.state.roles
    assert api.get(f"/v1/packs/{pack_id}", as_="auditor").status_code == 200
    from chain.deploy import pass_proposal
    from chain.roles import Role

    pass_proposal(registry, world.consortium.governors, registry.functions.proposeRevokeRole(auditor, bytes(Role.AUDITOR)))
    try:
        roles.invalidate()
        assert api.get(f"/v1/packs/{pack_id}", as_="auditor").status_code == 403
    finally:
        pass_proposal(registry, world.consortium.governors,
                      registry.functions.proposeGrantRole(auditor, bytes(Role.AUDITOR)))
        roles.invalidate()
    assert api.get(f"/v1/packs/{pack_id}", as_="auditor").status_code == 200
