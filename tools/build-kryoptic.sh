#!/usr/bin/env bash
# Builds the Kryoptic 1.5.4 PKCS#11 module (a second software token for the HSM test suite).
#
# cargo cannot install a cdylib, so this fetches the crate's source through cargo (a stub crate
# depending on `kryoptic = "=1.5.4"`, `cargo fetch`), copies it out of the cargo registry and
# builds it with the `minimal` feature set (its default features need OpenSSL >= 3.2, which
# Debian 12 lacks; `minimal` has no EdDSA, DES or ChaCha20).
#
# Output: $KRYOPTIC_DIR/libkryoptic_pkcs11.so (default ./.cache-kryoptic/, gitignored), printed
# on the last line. Idempotent: when the .so exists, nothing is fetched or built.
#
#   tools/build-kryoptic.sh            # then:
#   HSMKMS_TEST_PKCS11=kryoptic HSMKMS_KRYOPTIC_MODULE=$PWD/.cache-kryoptic/libkryoptic_pkcs11.so \
#       cargo nextest run --test hsm
set -euo pipefail

VERSION=1.5.4
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${KRYOPTIC_DIR:-$ROOT/.cache-kryoptic}"
SO="$OUT/libkryoptic_pkcs11.so"

if [[ -f "$SO" ]]; then
    echo "$SO"
    exit 0
fi

# Build dependencies (Debian names). Installed only when missing and only when run as root.
need=()
for pkg in libclang-dev libssl-dev pkg-config libsqlite3-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq && apt-get install -y --no-install-recommends "${need[@]}"
    else
        echo "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
        exit 1
    fi
fi

mkdir -p "$OUT"
WORK="$OUT/work"
STUB="$WORK/stub"
mkdir -p "$STUB/src"
cat >"$STUB/Cargo.toml" <<TOML
[package]
name = "kryoptic-fetch-stub"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
kryoptic = { version = "=$VERSION", default-features = false }

[workspace]
TOML
echo "fn main() {}" >"$STUB/src/main.rs"

CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
(cd "$STUB" && cargo fetch --quiet)
SRC=$(ls -d "$CARGO_HOME"/registry/src/*/kryoptic-"$VERSION" | head -n1)
if [[ ! -d "$SRC" ]]; then
    echo "kryoptic $VERSION source not found under $CARGO_HOME/registry/src after cargo fetch" >&2
    exit 1
fi
rm -rf "$WORK/kryoptic"
cp -r "$SRC" "$WORK/kryoptic"
# The published crate is a workspace member on its own: make sure cargo does not look upwards.
grep -q '^\[workspace\]' "$WORK/kryoptic/Cargo.toml" || printf '\n[workspace]\n' >>"$WORK/kryoptic/Cargo.toml"

(cd "$WORK/kryoptic" &&
    CARGO_TARGET_DIR="$WORK/target" cargo build --release --locked ${KRYOPTIC_JOBS:+-j "$KRYOPTIC_JOBS"} --no-default-features \
        --features minimal,kryoptic-lib/dynamic)

built=$(ls "$WORK"/target/release/libkryoptic_pkcs11.so 2>/dev/null || true)
if [[ -z "$built" ]]; then
    echo "build finished but libkryoptic_pkcs11.so not found under $WORK/target/release" >&2
    ls "$WORK"/target/release >&2 || true
    exit 1
fi
cp "$built" "$SO.tmp" && mv "$SO.tmp" "$SO"
echo "$SO"
