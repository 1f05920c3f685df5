#!/usr/bin/env bash
# Line coverage of indexnet/, in two passes combined:
#   1. the whole suite with the JIT on: the Python around the kernels (checks, training, CLI);
#   2. the kernel tests with NUMBA_DISABLE_JIT=1: every @jit function runs as plain Python, so
#      the loop bodies that Numba would compile are measured too.
# Usage: tests/coverage.sh [pytest arguments for pass 1]; PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
export COVERAGE_FILE="$data/.coverage"
# -n 0: coverage measures this process; pytest-xdist workers would go unmeasured.
run=("$python" -m coverage run --parallel-mode --source=indexnet -m pytest -q -p no:cacheprovider -n 0)

"${run[@]}" "$@"
NUMBA_DISABLE_JIT=1 "${run[@]}" \
    tests/test_twins.py tests/test_numerics.py tests/test_gradients.py tests/test_network.py
"$python" -m coverage combine --quiet
"$python" -m coverage report --show-missing --skip-covered --fail-under="${FAIL_UNDER:-95}"
