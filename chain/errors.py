"""The chain package's exception tree: one root, each subclass also a builtin it resembles."""

from __future__ import annotations


class ChainError(Exception):
    """Root of every error raised by the chain package."""


class CompilationError(ChainError, RuntimeError):
    """The Solidity compiler refused the sources or could not be run."""


# ---------------------------------------------------------------- keys


class KeystoreError(ChainError, RuntimeError):
    """A member key could not be created, read or decrypted."""


class InvalidMemberNameError(ChainError, ValueError):
    """A member name is not lowercase letters, digits and single hyphens."""


class UnknownMemberKeyError(KeystoreError, LookupError):
    """No key is stored (keystore or environment) for the member name."""


class MemberKeyExistsError(KeystoreError, FileExistsError):
    """The keystore already holds a key for the member; keys are never overwritten."""


# ---------------------------------------------------------------- backends


class UnsupportedBackendError(ChainError, ValueError):
    """The chain URL names no backend this package can talk to."""


class BackendCapabilityError(ChainError, RuntimeError):
    """The backend cannot do what was asked (fund an account, travel in time, snapshot)."""


# ---------------------------------------------------------------- transactions


class TransactionError(ChainError, RuntimeError):
    """A transaction could not be sent, or its outcome could not be established."""


class TransactionRejectedError(TransactionError):
    """The node refused the signed transaction before executing it (fee, nonce, size, ...)."""


class ReceiptTimeoutError(TransactionError, TimeoutError):
    """No receipt arrived for a sent transaction within the allowed time."""

    def __init__(self, message: str, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionFailedError(TransactionError):
    """A mined transaction has status 0 but no revert could be reproduced (e.g. out of gas)."""

    def __init__(self, message: str, tx_hash: str, receipt: object | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash
        self.receipt = receipt


# ---------------------------------------------------------------- reverts


class ContractRevertError(ChainError, RuntimeError):
    """A contract call or transaction reverted. ``data`` is the raw revert data.

    ``tx_hash`` and ``receipt`` are set when the revert happened in a mined transaction.
    """

    def __init__(self, message: str, data: bytes) -> None:
        super().__init__(message)
        self.data = data
        self.selector = "0x" + data[:4].hex() if len(data) >= 4 else None
        self.tx_hash: str | None = None
        self.receipt: object | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):  # subclasses take other constructor arguments; keep pickling working
        return _rebuild_revert, (type(self), self.__dict__.copy(), self.args)


def _rebuild_revert(cls: type, state: dict, args: tuple) -> ContractRevertError:
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ContractCustomError(ContractRevertError):
    """A revert decoded against a known ABI error: ``name``, ``args`` (decoded tuple), ``selector``.

    ``args`` deliberately replaces ``BaseException.args``: it is what the contract said.
    """

    def __init__(
        self, name: str, signature: str, args: tuple, data: bytes, arg_names: tuple[str, ...] = ()
    ) -> None:
        rendered = ", ".join(repr(value) for value in args)
        super().__init__(f"{name}({rendered})", data)
        self.name = name
        self.signature = signature
        self.args = args
        self.arg_names = arg_names

    @property
    def named_args(self) -> dict[str, object]:
        """The arguments by their ABI names (positional names ``arg0``... where the ABI has none)."""
        names = [self.arg_names[i] if i < len(self.arg_names) else "" for i in range(len(self.args))]
        return {name or f"arg{i}": value for i, (name, value) in enumerate(zip(names, self.args))}

    def __str__(self) -> str:
        return f"{self.name}({', '.join(repr(value) for value in self.args)})"


class ContractReasonError(ContractCustomError):
    """A revert with the builtin ``Error(string)``: ``reason`` is the string."""

    @property
    def reason(self) -> str:
        return self.args[0]


class ContractPanicError(ContractCustomError):
    """A revert with the builtin ``Panic(uint256)``: ``code`` and a plain-words ``description``."""

    @property
    def code(self) -> int:
        return self.args[0]

    @property
    def description(self) -> str:
        return PANIC_DESCRIPTIONS.get(self.code, "unknown panic code")

    def __str__(self) -> str:
        return f"Panic(0x{self.code:02x}: {self.description})"


class UndecodedRevertError(ContractRevertError):
    """A revert whose data matches no known error (or is empty, as for a bare ``revert()``)."""

    def __str__(self) -> str:
        if not self.data:
            return "reverted without data"
        return f"reverted with unknown error {self.selector} ({len(self.data)} bytes of data)"


# Solidity's panic codes (docs: "Panic via assert and Error via require").
PANIC_DESCRIPTIONS = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function pointer",
}


# ---------------------------------------------------------------- manifest, events, deployment, node


class ManifestError(ChainError, ValueError):
    """The deployment manifest is missing, malformed or disagrees with the chain."""


class UnknownContractError(ManifestError, LookupError):
    """The manifest records no contract of that name."""


class EventDecodingError(ChainError, ValueError):
    """A log of a manifest contract matches no event of its ABI (the manifest's ABI is stale)."""


class DeploymentError(ChainError, RuntimeError):
    """Deploying the platform or seating the consortium could not complete."""


class NodeError(ChainError, RuntimeError):
    """The local Hardhat node could not be started, reached or stopped."""


class NodeStartTimeoutError(NodeError, TimeoutError):
    """The Hardhat node did not answer JSON-RPC within the allowed time."""
