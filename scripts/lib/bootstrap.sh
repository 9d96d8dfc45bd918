# Sourced by scripts/run, scripts/test and scripts/bench: installs whatever is missing, idempotently.
# Python deps come from requirements.lock, node deps from package-lock.json (npm ci). Each step
# is skipped when a stamp records that the same lock file was already installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
STAMPS="$ROOT/.stamps"
mkdir -p "$STAMPS"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure_python() {
  if [ ! -x .venv/bin/python ]; then
    echo "[bootstrap] creating .venv with $("$PY" --version)"
    "$PY" -m venv .venv
  fi
  local want; want=$(_hash requirements.lock pyproject.toml)
  if [ "$(cat "$STAMPS/python" 2>/dev/null)" != "$want" ]; then
    echo "[bootstrap] installing Python dependencies (requirements.lock)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
    echo "$want" > "$STAMPS/python"
  fi
}

# The native batch Keccak (chain/native/keccak.c) compiled into chain/native/_build/, named by
# the source's hash so a changed source is rebuilt. Optional: without a C compiler the pure
# Python path is used, so a failure only warns.
ensure_native() {
  .venv/bin/python -m chain.native.build >/dev/null \
    || echo "[bootstrap] warning: native Keccak not built; hashing takes the slower pure path" >&2
}

ensure_node() {
  command -v node >/dev/null || { echo "node is required (Node 20)" >&2; exit 1; }
  local want; want=$(_hash package-lock.json)
  if [ ! -d node_modules ] || [ "$(cat "$STAMPS/node" 2>/dev/null)" != "$want" ]; then
    echo "[bootstrap] installing node dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$STAMPS/node"
  fi
}

ensure_postgres() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "[bootstrap] starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  fi
}

ensure_mosquitto() {
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "[bootstrap] starting Mosquitto"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
  fi
}

ensure_all() { ensure_python; ensure_native; ensure_node; }
export PATH="$ROOT/.venv/bin:$PATH"
# The project packages import from the checkout itself, whatever the editable-install finder does.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# One BLAS/OpenMP thread per process: pytest-xdist already uses every core.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
