"""Compiling `keccak.c` into the shared library that `chain.native` loads.

The library goes to `chain/native/_build/libabskeccak-<digest>.so` (git-ignored), where the
digest covers the C source and the compiler flags: a changed source gets a new file name, so
it is rebuilt and a stale library is never loaded. The system C compiler does the work
(`$CC`, else `cc`, `gcc` or `clang`); nothing is downloaded. Without a compiler there is no
library and every caller keeps the pure path.

    python -m chain.native.build          # build if missing, print the library's path
    python -m chain.native.build --force  # rebuild
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("keccak.c")
BUILD_DIR = Path(__file__).with_name("_build")
FLAGS = ("-O3", "-std=c99", "-fPIC", "-shared")
LIBRARY_PREFIX = "libabskeccak-"


class NativeBuildError(RuntimeError):
    """No C compiler, or it failed on keccak.c."""


def source_digest() -> str:
    """12 hex digits of sha256 over the C source and the flags it is compiled with."""
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update(" ".join(FLAGS).encode())
    return digest.hexdigest()[:12]


def library_path() -> Path:
    """Where the library of the current source lives once built."""
    return BUILD_DIR / f"{LIBRARY_PREFIX}{source_digest()}.so"


def find_compiler() -> list[str] | None:
    """The compiler command: `$CC` if set and found, else cc, gcc or clang; None if none exists."""
    configured = shlex.split(os.environ.get("CC", ""))
    if configured and shutil.which(configured[0]):
        return configured
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def build(force: bool = False) -> Path:
    """Compile the library unless it already exists; its path.

    The compiler writes a temporary file that is renamed into place, so concurrent builds
    (parallel test workers) never load a half-written library. Libraries of older sources
    are removed.
    """
    target = library_path()
    if target.exists() and not force:
        return target
    compile_library(target)
    for stale in BUILD_DIR.glob(f"{LIBRARY_PREFIX}*.so"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def compile_library(target: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile keccak.c to `target` (through a temporary file renamed into place)."""
    compiler = find_compiler()
    if compiler is None:
        raise NativeBuildError("no C compiler found (set CC, or install cc/gcc/clang)")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".so", dir=target.parent)
    os.close(handle)
    try:
        command = [*compiler, *FLAGS, *extra_flags, "-o", temporary, str(SOURCE)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise NativeBuildError(f"{' '.join(compiler)} failed on {SOURCE.name}:\n{result.stderr.strip()}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        path = build(force="--force" in args)
    except (NativeBuildError, OSError) as error:
        print(f"[native] no native Keccak, the pure path will be used: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
