"""The export bundle: what the platform publishes to the auditor about one pack.

JSON lines, so that a pack of 100,000 assets streams in and out without one huge document:

1. a header: ``{"kind": "header", "format": "abs-audit-bundle", "version": 1, "subject": "pack",
   "pack": {...what the platform says it committed...}}``;
2. one line per asset: ``{"kind": "asset", "loan_id", "record" (the canonical loan record),
   "record_hash", "outcome" (kept | removed | excluded), "reason", "score", "level", "pd_ppm",
   "credit": {"batch_id", "salted_hash", "proof", and "salt" + "record_json" when the bureau's
   current record is the one checked}}``;
3. one line per tree (``submitted``, ``excluded``, ``score``, ``kept``, ``removed``):
   ``{"kind": "leaves", "tree", "hashes"}``, the tree's leaf layer (``chain.audit.leafset``).

Nothing in a bundle is trusted: the auditor checks every line against the chain. A bundle is
about 2 kB per asset (20 MB for 10,000, most of it bureau evidence); gzipped, 3.4 times smaller:
``gzipped`` streams it so, and ``open_bundle`` reads either form.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from chain.audit.pack_checks import AssetRow

BUNDLE_FORMAT = "abs-audit-bundle"
BUNDLE_VERSION = 1
TREES = ("submitted", "excluded", "score", "kept", "removed")


class BundleError(ValueError):
    """A bundle that cannot be read (wrong format or version, malformed line)."""


@dataclass
class PackBundle:
    header: dict[str, Any]
    rows: list[AssetRow] = field(default_factory=list)
    leaves: dict[str, list[str]] = field(default_factory=dict)

    @property
    def chain_pack_id(self) -> int:
        return int(self.header["pack"]["chain_pack_id"])


def header_line(subject: str, body: dict[str, Any]) -> str:
    return dumps({"kind": "header", "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "subject": subject,
                  subject: body})


def asset_line(row: AssetRow) -> str:
    return dumps({"kind": "asset", "loan_id": row.loan_id, "record": row.record, "record_hash": row.record_hash,
                  "outcome": row.outcome, "reason": row.reason, "score": row.score, "level": row.level,
                  "pd_ppm": row.pd_ppm, "credit": row.credit})


def leaves_line(tree: str, hashes: list[str]) -> str:
    return dumps({"kind": "leaves", "tree": tree, "hashes": hashes})


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n"


def read_pack_bundle(lines: Iterable[str | bytes]) -> PackBundle:
    bundle: PackBundle | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise BundleError(f"line {number} is not JSON: {exc}") from None
        if bundle is None:
            bundle = PackBundle(checked_header(item, "pack"))
        elif item.get("kind") == "asset":
            bundle.rows.append(_row(item, number))
        elif item.get("kind") == "leaves" and item.get("tree") in TREES:
            bundle.leaves[item["tree"]] = list(item["hashes"])
        else:
            raise BundleError(f"line {number}: unexpected {item.get('kind')!r} item")
    if bundle is None:
        raise BundleError("the bundle is empty")
    return bundle


def checked_header(item: dict[str, Any], subject: str) -> dict[str, Any]:
    if item.get("kind") != "header" or item.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not an {BUNDLE_FORMAT} (the first line must be its header)")
    if item.get("version") != BUNDLE_VERSION:
        raise BundleError(f"bundle version {item.get('version')} is not supported ({BUNDLE_VERSION} is)")
    if item.get("subject") != subject or subject not in item:
        raise BundleError(f"a {item.get('subject')!r} bundle, not a {subject!r} one")
    return item


def _row(item: dict[str, Any], number: int) -> AssetRow:
    try:
        return AssetRow(loan_id=item["loan_id"], record=item["record"], record_hash=item["record_hash"],
                        outcome=item["outcome"], reason=item.get("reason"), score=item.get("score"),
                        level=item.get("level"), pd_ppm=item.get("pd_ppm"), credit=item.get("credit"))
    except KeyError as exc:
        raise BundleError(f"line {number}: an asset without {exc}") from None


def iter_text_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines of a streamed body (an HTTP response's chunks)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line.decode() for line in complete)
    if pending.strip():
        yield pending.decode()


def gzipped(lines: Iterable[str], level: int = 6) -> Iterator[bytes]:
    """The lines as one gzip stream, chunk by chunk (for a streamed ``Content-Encoding: gzip`` answer)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    for line in lines:
        chunk = packer.compress(line.encode())
        if chunk:
            yield chunk
    yield packer.flush()


def open_bundle(path: str | Path) -> IO[str]:
    """A bundle file as text, gzipped (by its magic bytes) or plain."""
    with Path(path).open("rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if packed else Path(path).open(encoding="utf-8")
