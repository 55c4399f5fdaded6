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
# The HSM suite once more against the second token (every primitive, KEK versions, recovery),
# with the FIPS known-answer tests and the FIPS Create checks.
hsm_suite_on_kryoptic() {
  HSMKMS_TEST_PKCS11=kryoptic HSMKMS_KRYOPTIC_MODULE="$ROOT/.cache-kryoptic/libkryoptic_pkcs11.so" \
    nextest --test hsm --test keystore --test server_crypto --test server_crypto_proof --test fips_selftest --test fips_create \
      --test hsm_asym --test server_sign --test fips_crypto
}
stage tests-kryoptic hsm_suite_on_kryoptic
stage dev-mode      tools/dev-smoke.sh
# The image built offline (no registry), its checks (non-root, no key or PIN inside, size), the
# container tests and the README's example on the machine's Docker engine (issue 10).
docker_stage() {
  tools/docker-tests.sh 2>&1 | tee -a "$NEXTEST_LOG"
  return "${PIPESTATUS[0]}"
}
stage docker        docker_stage
# OASIS SKLC-M, SKFF-M, OMOS-M, TL-M, CS-BC-M, CS-RNG-M, CS-AC-M, AKLC-M, BL-M (1.4 and 2.1) against a fresh server; allow-list in tools/vectors-allowed.txt.
stage vectors       tools/vectors.sh
# The same stage with the server on Kryoptic (its own allow-list: no DES in its `minimal` build).
stage vectors-kryoptic env VECTOR_TOKEN=kryoptic tools/vectors.sh
# FIPS (issue 9): no `ring` anywhere in the fips build's tree (normal and dev dependencies).
no_ring_in_fips() {
  local out err rc=0
  err=$(mktemp)
  out=$(cargo tree -e normal,dev --features fips --locked -i ring 2>"$err") || rc=$?
  if [ "$rc" != 0 ] && ! grep -q "did not match any packages" "$err"; then
    cat "$err" >&2; rm -f "$err"; return 1
  fi
  rm -f "$err"
  [ -z "$out" ] || { echo "ring is in the fips dependency tree:" >&2; echo "$out" >&2; return 1; }
  echo "no ring in the fips tree"
}
stage fips-no-ring  no_ring_in_fips
stage fips-clippy   cargo clippy -p hsmkms --all-targets --locked --features fips -- -D warnings
# The fips binary, and with it the general suite (requests unchecked: the tests' services run with
# the policy off, TLS in the AWS-LC FIPS module) and the FIPS set with the policy on (fips_tls,
# fips_policy, fips_create, fips_crypto, fips_selftest, the library's policy and self-check unit
# tests).
fips_tests() {
  cargo build -p hsmkms --locked --features fips --bins
  cargo nextest run --workspace --locked --no-fail-fast --features fips 2>&1 | tee -a "$NEXTEST_LOG"
  return "${PIPESTATUS[0]}"
}
# The OASIS vectors against the fips binary with the policy on: every refusal is listed in
# fips/vectors-refused.txt with the Result Message it must carry.
fips_vectors() {
  local allowed out rc=0 f msg _why
  allowed=$(mktemp); out=$(mktemp)
  cat tools/vectors-allowed.txt fips/vectors-refused.txt > "$allowed"
  # Lifecycle, Locate and cryptography with the policy on: CS-BC-M's ECB encryption of data,
  # 8-bit GCM tags and ChaCha20 are refused (listed in fips/vectors-refused.txt); CS-AC-M passes
  # but for the SoftHSM limits of tools/vectors-allowed.txt.
  VECTOR_PROFILES="SKLC-M SKFF-M OMOS-M TL-M CS-BC-M CS-RNG-M CS-AC-M" VECTORS_ALLOWED="$allowed" HSMKMS_FEATURES=fips \
    tools/vectors.sh | tee "$out" || rc=$?
  while IFS='|' read -r f msg _why; do
    case "$f" in ''|'#'*) continue ;; esac
    f=$(echo "$f" | xargs); msg=$(echo "$msg" | sed -E 's/^ +| +$//g')
    grep -F "FAIL $f" "$out" | grep -qF "ResultMessage=\"$msg" || {
      echo "fips-vectors: $f did not fail with \"$msg\"" >&2; rc=1; }
  done < fips/vectors-refused.txt
  rm -f "$allowed" "$out"
  return "$rc"
}
stage fips-tests    fips_tests
stage fips-vectors  fips_vectors
stage fuzz-smoke    tools/fuzz-smoke.sh "$FUZZ_SECONDS"
