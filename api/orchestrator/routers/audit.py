"""The auditor's door (DESIGN step 10): export bundles, AUDITOR only; and the attestations the
auditors recorded on chain, for investors, the exchange and auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from api.audit.bundle import gzipped
from api.audit.export import export_pack_lines
from api.auth import require_any_role
from api.orchestrator.deps import MemberDep, OrchestratorDep
from api.orchestrator.routers.packs import ERRORS
from chain.audit.attestation import read_attestations
from chain.roles import Role

router = APIRouter(prefix="/v1", tags=["audit"])
ATTESTATION_READERS = (Role.INVESTOR.name, Role.EXCHANGE.name, Role.AUDITOR.name)
BUNDLE_MEDIA_TYPE = "application/x-ndjson"
BUNDLE_EXAMPLE = "\n".join((
    '{"kind":"header","format":"abs-audit-bundle","version":1,"subject":"pack","pack":{"chain_pack_id":7,...}}',
    '{"kind":"asset","loan_id":"L-1","record":{...},"record_hash":"0x..","outcome":"kept","score":71,"level":8,'
    '"pd_ppm":21000,"credit":{"batch_id":3,"salted_hash":"0x..","salt":"0x..","record_json":"{...}","proof":[]}}',
    '{"kind":"leaves","tree":"kept","hashes":["0x..","0x.."]}'))
ATTESTATION_EXAMPLE = [{
    "attestation_id": 1, "subject": "pack_root", "pack_id": 7, "root": "0x" + "ab" * 32, "from_block": 0,
    "to_block": 0, "verdict": "clean", "findings": 0, "report_hash": "0x" + "cd" * 32, "nonce": 1,
    "auditor": "0x" + "12" * 20, "submitter": "0x" + "12" * 20, "attested_at": 1767225600}]


@router.get("/audit/packs/{chain_pack_id}/bundle", summary="A pack's export bundle (AUDITOR)",
            responses={**ERRORS, 200: {"content": {BUNDLE_MEDIA_TYPE: {"example": BUNDLE_EXAMPLE}}}},
            response_class=StreamingResponse)
def pack_bundle(chain_pack_id: int, orchestrator: OrchestratorDep, member: MemberDep,
                accept_encoding: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """JSON lines (``api.audit.bundle``): header, one line per asset with its bureau evidence, leaf layers.

    Keyed by the pack's id **on chain**, the id an auditor reads from the chain. Gzipped (about
    3.4 times smaller) when the client accepts it.
    """
    require_any_role(member, Role.AUDITOR.name)
    client = getattr(orchestrator.credit, "bureau_client", None)
    lines = export_pack_lines(orchestrator.engine, chain_pack_id, client() if client else None)
    headers = {"Content-Disposition": f'attachment; filename="pack-{chain_pack_id}.jsonl"'}
    if accept_encoding and "gzip" in accept_encoding.lower():
        return StreamingResponse(gzipped(lines), media_type=BUNDLE_MEDIA_TYPE,
                                 headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return StreamingResponse(lines, media_type=BUNDLE_MEDIA_TYPE, headers=headers)


@router.get("/attestations", summary="Auditors' attestations, read from the chain",
            responses={**ERRORS, 200: {"content": {"application/json": {"example": ATTESTATION_EXAMPLE}}}})
def attestations(orchestrator: OrchestratorDep, member: MemberDep,
                 pack_id: Annotated[int | None, Query(description="only those over this on-chain pack")] = None,
                 ) -> list[dict[str, Any]]:
    require_any_role(member, *ATTESTATION_READERS)
    registry = orchestrator.platform.contract("AttestationRegistry")
    return [view.to_dict() for view in read_attestations(registry, pack_id)]
