"""A loan's proof against the chain: in the product's pool now, or replaced out of it.

In the pool: the pool tree of every holding not replaced away, whose root must be
``PackMonitor.currentRoot``; replaced out: the tree of the assets that replacement took out,
whose root is the replacement's ``outRoot``. The answer carries the leaf, the proof and the
exact view to call, so anyone can check it against the chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from api.errors import ConflictError, NotFoundError
from api.monitoring import holdings as store
from api.monitoring import views
from api.monitoring.models import REPLACED, MonitoredProduct
from api.monitoring.tree import pool_tree
from chain.leaves import to_hex32

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService


def _leaves(frame) -> tuple:  # noqa: ANN001 - a holdings frame
    return (list(frame["asset_id"]), list(frame["record_hash"]), list(frame["entry_score"]), list(frame["entry_level"]))


def asset_proof(service: MonitoringService, product: MonitoredProduct, loan_id: str) -> dict:
    with Session(service.o.engine) as session:
        holdings = store.load_holdings(session, product.product_id)
        replacements = views.replacements(session, product.product_id)
    mine = holdings[holdings["loan_id"] == loan_id]
    if mine.empty:
        raise NotFoundError(f"loan {loan_id} was never in product {product.product_id}'s pool")
    row = mine.iloc[0]
    leaf = {"asset_id": to_hex32(row["asset_id"]), "record_hash": to_hex32(row["record_hash"]),
            "score": int(row["entry_score"]), "level": int(row["entry_level"])}
    value = (row["asset_id"], row["record_hash"], int(row["entry_score"]), int(row["entry_level"]))
    if row["status"] != REPLACED:
        tree = pool_tree(*_leaves(store.pool(holdings)))
        onchain = service.chain.current_root(product.chain_pack_id)
        if tree.root != onchain:
            raise ConflictError(f"the pool in the database gives root {tree.root}, the chain holds {onchain}")
        return {"loan_id": loan_id, "state": "in_pool", "root": tree.root, "leaf": leaf, "proof": tree.get_proof(value),
                "verify": f"PackMonitor.verifyCurrent({product.chain_pack_id}, assetId, recordHash, score, level, proof)"}
    for replacement in replacements:
        out = [s["out_loan_id"] for s in replacement.swaps]
        if replacement.status == "accepted" and loan_id in out:
            tree = pool_tree(*_leaves(holdings[holdings["loan_id"].isin(out)]))
            return {"loan_id": loan_id, "state": "replaced_out", "root": tree.root, "leaf": leaf,
                    "proof": tree.get_proof(value), "replacement_id": replacement.chain_replacement_id,
                    "replaced_by": replacement.swaps[out.index(loan_id)]["in"]["loan_id"],
                    "verify": f"PackMonitor.verifyReplacedOut({replacement.chain_replacement_id}, assetId, recordHash, "
                              "score, level, proof)"}
    raise ConflictError(f"loan {loan_id} is marked replaced but no accepted replacement names it")
