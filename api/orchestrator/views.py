"""A stored pack as the API shows it."""

from __future__ import annotations

from api.orchestrator.models import Pack
from api.orchestrator.schemas import ChainInfo, PackView


def _filter_summary(plan: dict | None) -> dict | None:
    if plan is None:
        return None
    return {key: value for key, value in plan.items() if key not in ("curve", "level_mix")}


def pack_view(pack: Pack) -> PackView:
    return PackView(
        id=pack.id,
        financier=pack.financier_name,
        status=pack.status,
        step=pack.step,
        progress_pct=pack.progress_pct,
        asset_count=pack.asset_count,
        total_balance_minor=str(pack.total_balance_minor),
        expected_bad_rate_ppm=pack.expected_bad_rate_ppm,
        filter_mode=pack.filter_mode,
        weight_by=pack.weight_by,
        idempotency_key=pack.idempotency_key,
        chain=ChainInfo(
            pack_id=pack.chain_pack_id, state=pack.chain_state, submission_key=pack.submission_key,
            assets_root=pack.assets_root, model_id=pack.model_id, credit_batch_id=pack.credit_batch_id,
            score_batch_id=pack.score_batch_id,
        ),
        credit=pack.credit_summary,
        scores=pack.score_summary,
        grade=pack.grade,
        filter=_filter_summary(pack.filter_plan),
        error=pack.error,
        step_seconds=pack.step_seconds,
        created_at=pack.created_at,
        updated_at=pack.updated_at,
    )
