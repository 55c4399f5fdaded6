#!/usr/bin/env bash
# Runs the TTLV decoder fuzz target for a bounded time (default 60 s), seeded with every OASIS
# vector message (encoded by the OASIS runner at run time, never stored here). cargo-fuzz needs
# nightly features: RUSTC_BOOTSTRAP=1 is scoped to this one command.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
VECTORS=${KMIP_VECTORS_DIR:-../shared/kmip-vectors/vectors}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install --locked cargo-fuzz >/dev/null
fi
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 "$VECTORS/../run_vectors.py" --encode "$VECTORS" | python3 -c '
import sys, os
d = sys.argv[1]
for i, line in enumerate(sys.stdin):
    parts = line.split()
    if len(parts) == 4:
        open(os.path.join(d, "v%05d" % i), "wb").write(bytes.fromhex(parts[3]))
' "$seeds"
mkdir -p fuzz/corpus/decode
RUSTC_BOOTSTRAP=1 cargo fuzz run decode fuzz/corpus/decode "$seeds" -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -print_final_stats=1 2>&1 | tail -n 12
