"""Leaf values of a StandardMerkleTree: checking, canonical form, ABI encoding, JSON form.

A leaf is a row of values typed by the tree's leaf encoding (Solidity ABI type strings,
as in `@openzeppelin/merkle-tree`). Rows are ABI-encoded exactly as `abi.encode` does.
Canonical Python forms: integers as int, address as an EIP-55 checksummed str, bytes
and bytesN as bytes, bool, str, arrays as lists and tuples as tuples. In JSON (the
library's dump format) integers become decimal strings and bytes 0x-hex, since JSON
numbers cannot carry uint256.

Rows whose types are all static scalars (uintN, intN, address, bool, bytesN) can be
encoded column-wise with numpy, without a Python call per value: see
`encode_static_columns`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import eth_abi
import numpy as np
from eth_abi.exceptions import EncodingError, ParseError
from eth_abi.grammar import ABIType, BasicType, TupleType, normalize, parse
from eth_utils import to_checksum_address

from chain.errors import ChainError

WORD = 32
_STATIC_SCALAR_BASES = {"uint", "int", "address", "bool", "bytes"}


class MerkleTreeError(ChainError, ValueError):
    """A Merkle tree, proof, leaf encoding or leaf value is invalid."""


def parse_leaf_encoding(leaf_encoding: Sequence[str]) -> tuple[ABIType, ...]:
    """Parse and check each ABI type string of a leaf encoding."""
    if isinstance(leaf_encoding, str) or not leaf_encoding:
        raise MerkleTreeError("leaf encoding must be a non-empty list of ABI type strings")
    parsed = []
    for abi_type in leaf_encoding:
        try:
            node = parse(normalize(abi_type))
            node.validate()
        except (ParseError, ValueError, TypeError) as error:
            raise MerkleTreeError(f"invalid ABI type {abi_type!r}: {error}") from error
        if _uses_fixed_point(node):
            raise MerkleTreeError(f"fixed-point type {abi_type!r} is not supported by the JavaScript library")
        parsed.append(node)
    return tuple(parsed)


def _uses_fixed_point(node: ABIType) -> bool:
    if isinstance(node, TupleType):
        return any(_uses_fixed_point(component) for component in node.components)
    return node.base in ("fixed", "ufixed")


def is_static_scalar(node: ABIType) -> bool:
    """True for uintN, intN, address, bool and bytesN: one 32-byte word, no arrays or tuples."""
    return (
        isinstance(node, BasicType)
        and not node.is_array
        and node.base in _STATIC_SCALAR_BASES
        and not (node.base == "bytes" and node.sub is None)
    )


def canonical_value(node: ABIType, value: Any) -> Any:
    """Check `value` against the ABI type and return its canonical Python form."""
    if node.is_array:
        if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, (Sequence, np.ndarray)):
            raise MerkleTreeError(f"expected a list for {node.to_type_str()}, got {value!r}")
        length = node.arrlist[-1]
        if length and len(value) != length[0]:
            raise MerkleTreeError(f"expected {length[0]} items for {node.to_type_str()}, got {len(value)}")
        return [canonical_value(node.item_type, item) for item in value]
    if isinstance(node, TupleType):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != len(node.components):
            raise MerkleTreeError(f"expected {len(node.components)} values for {node.to_type_str()}, got {value!r}")
        return tuple(canonical_value(component, item) for component, item in zip(node.components, value))
    return _canonical_scalar(node, value)


def _canonical_scalar(node: BasicType, value: Any) -> Any:
    base = node.base
    if base in ("uint", "int"):
        number = _to_int(value, node.to_type_str())
        low, high = integer_bounds(base, node.sub)
        if not low <= number <= high:
            raise MerkleTreeError(f"{value!r} is out of range for {node.to_type_str()}")
        return number
    if base == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise MerkleTreeError(f"expected a bool, got {value!r}")
        return bool(value)
    if base == "string":
        if not isinstance(value, str):
            raise MerkleTreeError(f"expected a str, got {value!r}")
        return value
    if base == "address":
        raw = _to_bytes(value, "address")
        if len(raw) != 20:
            raise MerkleTreeError(f"an address has 20 bytes, got {len(raw)}")
        return to_checksum_address(raw)
    if base == "bytes":
        raw = _to_bytes(value, node.to_type_str())
        if node.sub is not None and len(raw) > node.sub:  # shorter is right-padded, as both libraries do
            raise MerkleTreeError(f"{node.to_type_str()} holds at most {node.sub} bytes, got {len(raw)}")
        return raw
    raise MerkleTreeError(f"unsupported ABI type {node.to_type_str()}")


def integer_bounds(base: str, bits: int) -> tuple[int, int]:
    """Inclusive value range of uintN / intN."""
    if base == "uint":
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _to_int(value: Any, type_name: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise MerkleTreeError(f"expected an integer for {type_name}, got a bool")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            digits = text[1:] if text.startswith("-") else text
            if digits[:2].lower() == "0x":
                number = int(digits[2:], 16)
            elif digits.isdigit():
                number = int(digits, 10)
            else:
                raise ValueError(text)
        except ValueError as error:
            raise MerkleTreeError(f"expected an integer for {type_name}, got {value!r}") from error
        return -number if text.startswith("-") else number
    raise MerkleTreeError(f"expected an integer for {type_name}, got {value!r}")


def _to_bytes(value: Any, type_name: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 1:
        return value.tobytes()
    if isinstance(value, str) and value[:2].lower() == "0x" and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise MerkleTreeError(f"expected bytes or a 0x-hex string for {type_name}, got {value!r}")


def canonical_row(nodes: Sequence[ABIType], row: Any) -> tuple[Any, ...]:
    """Check a leaf row (one value per type) and return it in canonical form."""
    if isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray)) or len(row) != len(nodes):
        raise MerkleTreeError(f"expected a row of {len(nodes)} values, got {row!r}")
    return tuple(canonical_value(node, value) for node, value in zip(nodes, row))


def _abi_value(node: ABIType, value: Any) -> Any:
    """Canonical form -> the form eth_abi takes (addresses as raw bytes: no checksum re-validation)."""
    if node.is_array:
        return [_abi_value(node.item_type, item) for item in value]
    if isinstance(node, TupleType):
        return tuple(_abi_value(component, item) for component, item in zip(node.components, value))
    if node.base == "address":
        return bytes.fromhex(value[2:])
    return value


def encode_row(leaf_encoding: Sequence[str], nodes: Sequence[ABIType], row: tuple[Any, ...]) -> bytes:
    """abi.encode of a canonical row."""
    try:
        return eth_abi.encode(list(leaf_encoding), [_abi_value(node, value) for node, value in zip(nodes, row)])
    except (EncodingError, TypeError, ValueError) as error:
        raise MerkleTreeError(f"cannot ABI-encode {row!r} as {list(leaf_encoding)}: {error}") from error


def encode_rows(leaf_encoding: Sequence[str], nodes: Sequence[ABIType], rows: Sequence[tuple[Any, ...]]) -> list[bytes]:
    """abi.encode of each canonical row; static scalar rows skip eth_abi (same bytes, ~10x faster)."""
    if all(is_static_scalar(node) for node in nodes):
        return [b"".join(_word_of(node, value) for node, value in zip(nodes, row)) for row in rows]
    return [encode_row(leaf_encoding, nodes, row) for row in rows]


def json_value(node: ABIType, value: Any) -> Any:
    """Canonical value -> the JSON form used in dumps (ints as decimal strings, bytes as 0x-hex)."""
    if node.is_array:
        return [json_value(node.item_type, item) for item in value]
    if isinstance(node, TupleType):
        return [json_value(component, item) for component, item in zip(node.components, value)]
    if node.base in ("uint", "int"):
        return str(value)
    if node.base == "bytes":
        return "0x" + value.hex()
    return value


def check_column_lengths(nodes: Sequence[ABIType], columns: Sequence[Any]) -> int:
    """One column per type, all of the same length; returns that length."""
    if isinstance(columns, (str, bytes)) or len(columns) != len(nodes):
        raise MerkleTreeError(f"expected {len(nodes)} columns, got {len(columns)}")
    lengths = {len(column) for column in columns}
    if len(lengths) != 1:
        raise MerkleTreeError(f"columns have different lengths: {sorted(lengths)}")
    return lengths.pop()


def encode_static_columns(nodes: Sequence[ABIType], columns: Sequence[Any]) -> np.ndarray:
    """ABI-encode rows given as columns of static scalars: an (n, 32 * len(nodes)) uint8 array."""
    rows = check_column_lengths(nodes, columns)
    encoded = np.zeros((rows, WORD * len(nodes)), dtype=np.uint8)
    for position, (node, column) in enumerate(zip(nodes, columns)):
        words = encoded[:, position * WORD : (position + 1) * WORD]
        try:
            _fill_words(node, column, words)
        except MerkleTreeError as error:
            raise MerkleTreeError(f"column {position} ({node.to_type_str()}): {error}") from error
    return encoded


def _fill_words(node: BasicType, column: Any, words: np.ndarray) -> None:
    if isinstance(column, np.ndarray) and _fill_words_vectorised(node, column, words):
        return
    # General column (list, object array, unusual dtype): one Python call per value.
    cells = [_word_of(node, canonical_value(node, value)) for value in column]
    if cells:
        words[:] = np.frombuffer(b"".join(cells), dtype=np.uint8).reshape(len(cells), WORD)


def _word_of(node: BasicType, value: Any) -> bytes:
    if node.base in ("uint", "int"):
        return value.to_bytes(WORD, "big", signed=node.base == "int")
    if node.base == "bool":
        return int(value).to_bytes(WORD, "big")
    if node.base == "address":
        return bytes(12) + bytes.fromhex(value[2:])
    return value.ljust(WORD, b"\0")


def _fill_words_vectorised(node: BasicType, column: np.ndarray, words: np.ndarray) -> bool:
    """Encode a numpy column without per-value Python calls; False if its dtype has no fast path."""
    base, kind = node.base, column.dtype.kind
    if base in ("uint", "int") and column.ndim == 1 and kind in "iu":
        if column.size:
            low, high = integer_bounds(base, node.sub)
            smallest, largest = int(column.min()), int(column.max())
            if smallest < low or largest > high:
                bad = smallest if smallest < low else largest
                raise MerkleTreeError(f"{bad} is out of range for {node.to_type_str()}")
        big_endian = column.astype(">u8" if kind == "u" else ">i8")
        words[:, WORD - 8 :] = big_endian.view(np.uint8).reshape(-1, 8)
        if kind == "i":
            words[column < 0, : WORD - 8] = 0xFF  # two's complement sign extension to 256 bits
        return True
    if base == "bool" and column.ndim == 1 and kind == "b":
        words[:, WORD - 1] = column
        return True
    if base == "address" and column.ndim == 2 and column.dtype == np.uint8:
        if column.shape[1] != 20:
            raise MerkleTreeError(f"an address column needs 20 bytes per row, got {column.shape[1]}")
        words[:, 12:] = column
        return True
    if base == "bytes" and column.ndim == 2 and column.dtype == np.uint8:
        if column.shape[1] > node.sub:
            raise MerkleTreeError(f"{node.to_type_str()} holds at most {node.sub} bytes, got {column.shape[1]}")
        words[:, : column.shape[1]] = column
        return True
    return False


class ColumnRows(Sequence):
    """Rows of a column-built tree, made on demand so a million rows cost nothing until read."""

    def __init__(self, nodes: Sequence[Any], columns: Sequence[Any]) -> None:
        self._nodes, self._columns = nodes, columns

    def __len__(self) -> int:
        return len(self._columns[0])

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        return tuple(canonical_value(node, column[index]) for node, column in zip(self._nodes, self._columns))
