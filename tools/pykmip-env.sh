#!/usr/bin/env bash
# Creates (once) a virtual environment with PyKMIP 0.11.0 for the interoperability test, using
# Debian's Python 3.11 (PyKMIP 0.11 does not run on Python >= 3.12: it imports `ssl.wrap_socket`).
# Prints the venv's python. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYKMIP_PYTHON:-/usr/bin/python3}
VENV=${PYKMIP_VENV:-target/pykmip-venv}
PIN=pykmip==0.11.0

ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$ver" in
  3.8|3.9|3.10|3.11) ;;
  *) echo "pykmip-env: $PY is Python $ver; PyKMIP 0.11 needs <= 3.11 (set PYKMIP_PYTHON)" >&2; exit 1 ;;
esac
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import kmip, sys; sys.exit(0 if kmip.__version__ == "0.11.0" else 1)' 2>/dev/null; then
  echo "$VENV/bin/python"
  exit 0
fi
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "pykmip-env: python3 -m venv failed: install python3-venv (tools/prereqs.sh)" >&2; exit 1; }
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PIN" >&2
"$VENV/bin/python" -c 'import kmip; assert kmip.__version__ == "0.11.0", kmip.__version__'
echo "$VENV/bin/python"
