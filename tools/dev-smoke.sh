#!/usr/bin/env bash
# Checks the README's first command: `tools/dev.sh` on this checkout leaves a running server
# that PyKMIP reaches with the settings it prints; a second start reuses everything; SIGTERM
# stops it cleanly. Uses ./data (created if missing) and the default ports 5696/9998/9997.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/hsmkms"
LOG=$(mktemp)
PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

start() {
  tools/dev.sh > "$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 240); do
    if "$BIN" health --addr 127.0.0.1:9997 >/dev/null 2>&1; then return 0; fi
    kill -0 "$PID" 2>/dev/null || { cat "$LOG"; echo "dev-smoke: tools/dev.sh exited" >&2; exit 1; }
    sleep 0.5
  done
  cat "$LOG"; echo "dev-smoke: server not ready after 120 s" >&2; exit 1
}

stop() {
  kill -TERM "$PID"
  wait "$PID" || { cat "$LOG"; echo "dev-smoke: server did not stop cleanly" >&2; exit 1; }
  PID=""
}

start
# The PyKMIP example exactly as dev.sh prints it.
snippet=$(awk '/^  target\/pykmip-venv\/bin\/python - <<.PY.$/{f=1; next} /^PY$/{f=0} f' "$LOG")
[ -n "$snippet" ] || { cat "$LOG"; echo "dev-smoke: no PyKMIP example printed" >&2; exit 1; }
out=$(target/pykmip-venv/bin/python - <<<"$snippet")
echo "dev-smoke: PyKMIP discover_versions -> $out"
grep -q "2.0" <<<"$out" && grep -q "1.0" <<<"$out" || { echo "dev-smoke: unexpected answer" >&2; exit 1; }
stop
grep -q "creating SoftHSM token" "$LOG" || echo "dev-smoke: (token already existed from an earlier run)"
start
grep -q "creating SoftHSM token" "$LOG" && { echo "dev-smoke: second start created a new token" >&2; exit 1; }
stop
echo "dev-smoke: first and second start served; clean shutdown"
