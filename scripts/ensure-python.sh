#!/usr/bin/env bash
# Creates the Python virtualenv that the third-party-client tests (end2end/python) run in, and
# installs end2end/python/requirements.txt into it -- only when the venv is missing, broken, or
# was built from other requirements (a stamp file keeps their sha256). Quiet when nothing to do.
#
#   KEYPORT_PY_VENV  where the venv lives (default .venv, relative to the repo root)
#   PYTHON           interpreter to build it with (default python3; CPython >= 3.11, which schemathesis needs)
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${KEYPORT_PY_VENV:-.venv}
PYTHON=${PYTHON:-python3}
REQUIREMENTS=end2end/python/requirements.txt
STAMP=$VENV/.keyport-requirements.sha256

say() { printf '==> %s\n' "$*" >&2; }

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)

# Up to date: the venv's interpreter still runs (a removed/upgraded base Python breaks it) and
# the stamp matches the requirements.
if [[ -f $STAMP && "$(cat "$STAMP")" == "$want" ]] && "$VENV/bin/python" -c '' 2>/dev/null; then
  exit 0
fi

if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "ensure-python: $PYTHON not found; install CPython 3 (with its venv module) first" >&2
    exit 1
  fi
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "ensure-python: $PYTHON lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  say "creating the Python venv $VENV"
  "$PYTHON" -m venv --clear "$VENV"
fi

say "installing Python test clients into $VENV (end2end/python/requirements.txt)"
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
printf '%s\n' "$want" >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
