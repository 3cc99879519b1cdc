#!/usr/bin/env bash
# `make check-latest`: does jmt still work with the newest versions settings.ini allows? A throwaway venv installed
# WITHOUT the lock, then the smoke step (tools/smoke.py), a few fast tests, and the packages that moved versus
# requirements.lock (tools/lock.py --drift). Exit status: that of the smoke step and the tests; the drift list is
# information (refresh the lock with `make lock` when the checks pass). LATEST_TESTS overrides the test selection.
set -uo pipefail
cd "$(dirname "$0")/.."
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg OMP_NUM_THREADS=1
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
VENV=$(mktemp -d "${TMPDIR:-/tmp}/jmt-latest-venv.XXXXXX")
trap 'rm -rf "$VENV"' EXIT
"${PY3:-python3}" -m venv "$VENV"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
t0=$(date +%s)
# the newest allowed: no lock; pip and setuptools too, as a new user would get them
"$PY" -m pip install -q --upgrade pip setuptools wheel </dev/null && "$PY" -m pip install -q --upgrade -e ".[dev]" </dev/null \
  || { echo "check-latest: installing the newest allowed versions failed (see pip's message above)"; exit 1; }
echo "check-latest: install took $(( $(date +%s) - t0 )) s"
status=0
"$PY" tools/smoke.py </dev/null || status=1
TESTS=${LATEST_TESTS:-tests/test_repo.py tests/test_lock.py tests/test_fusion_models.py tests/test_affwild2_prepare.py tests/test_cli_errors.py}
if [ $status = 0 ]; then "$PY" -m pytest -q -p no:cacheprovider $TESTS </dev/null || status=1; fi
echo "--- packages that moved versus requirements.lock (newest allowed vs locked)"
"$PY" tools/lock.py --drift
if [ $status = 0 ]; then echo "check-latest: OK with the newest allowed versions; refresh the lock with \`make lock\` if you want them"
else echo "check-latest: FAILED with the newest allowed versions: fix, or cap the package that broke it in settings.ini, before \`make lock\`"; fi
exit $status
