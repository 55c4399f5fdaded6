#!/usr/bin/env bash
# The whole test suite, with all set-up, on a fresh Debian 12 machine (README's second command).
# Prints the time of each stage. Fails (never skips) when something it needs is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export KMIP_VECTORS_DIR="${KMIP_VECTORS_DIR:-$ROOT/../shared/kmip-vectors/vectors}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"

declare -a TIMINGS=()
stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> [$name] $*"
  "$@"
  local dt=$((SECONDS - t0))
  TIMINGS+=("$(printf '%-28s %5ds' "$name" "$dt")")
  echo "==> [$name] done in ${dt}s"
}
NEXTEST_LOG=$(mktemp)
report() {
  echo "==> stage timings"
  printf '    %s\n' "${TIMINGS[@]}"
  echo "    total ${SECONDS}s"
  # The closing line CI reads: the test runner's counts.
  local passed failed
  # awk only: a grep that matches nothing would end this trap early under `set -e`.
  passed=$(awk '/^ +Summary \[/ { for (i = 2; i <= NF; i++) if ($i ~ /^passed,?$/) s += $(i-1) } END { print s+0 }' "$NEXTEST_LOG")
  failed=$(awk '/^ +Summary \[/ { for (i = 2; i <= NF; i++) if ($i ~ /^failed,?$/) s += $(i-1) } END { print s+0 }' "$NEXTEST_LOG")
  echo "tests: ${passed} passed, ${failed} failed"
  rm -f "$NEXTEST_LOG"
}
# nextest, with its summary kept for the closing line.
nextest() {
  cargo nextest run --workspace --locked --no-fail-fast "$@" 2>&1 | tee -a "$NEXTEST_LOG"
  return "${PIPESTATUS[0]}"
}
trap report EXIT

[ -d "$KMIP_VECTORS_DIR" ] || {
  echo "KMIP_VECTORS_DIR=$KMIP_VECTORS_DIR is not a directory: check out ../shared next to this repository or set it" >&2
  exit 1
}

stage prereqs       tools/prereqs.sh
stage fmt           cargo fmt --all -- --check
stage clippy        cargo clippy --workspace --all-targets --locked -- -D warnings
stage kryoptic      tools/build-kryoptic.sh
stage pykmip-venv    tools/pykmip-env.sh
stage tests         nextest
# The HSM suite once more against the second token (every primitive, KEK versions, recovery).
hsm_suite_on_kryoptic() {
  HSMKMS_TEST_PKCS11=kryoptic HSMKMS_KRYOPTIC_MODULE="$ROOT/.cache-kryoptic/libkryoptic_pkcs11.so" \
    nextest --test hsm --test keystore --test server_crypto --test server_crypto_proof
}
stage tests-kryoptic hsm_suite_on_kryoptic
stage dev-mode      tools/dev-smoke.sh
# OASIS SKLC-M, SKFF-M, OMOS-M, TL-M, CS-BC-M, CS-RNG-M (1.4 and 2.1) against a fresh server; allow-list in tools/vectors-allowed.txt.
stage vectors       tools/vectors.sh
# The same stage with the server on Kryoptic (its own allow-list: no DES in its `minimal` build).
stage vectors-kryoptic env VECTOR_TOKEN=kryoptic tools/vectors.sh
stage fuzz-smoke    tools/fuzz-smoke.sh "$FUZZ_SECONDS"
