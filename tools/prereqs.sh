#!/usr/bin/env bash
# Installs what hsmkms needs on a Debian 12 machine, only what is missing. Safe to run again.
# Needs root (or sudo) for apt; the Rust toolchain itself must already be installed (rustup).
set -euo pipefail

APT_PACKAGES=(
  softhsm2          # the development/test HSM (PKCS#11 module /usr/lib/softhsm/libsofthsm2.so)
  opensc            # pkcs11-tool (token set-up for Kryoptic)
  opensc-pkcs11     # pkcs11-spy.so: the test proving each KMIP crypto call reaches the module
  libclang-dev      # bindgen, for building the Kryoptic test token
  libssl-dev pkg-config libsqlite3-dev   # Kryoptic's build dependencies
  python3 python3-venv   # the OASIS vector runner and PyKMIP (in a virtual environment)
  cmake golang-go   # the aws-lc FIPS module build (feature `fips`)
  debootstrap       # the debian:bookworm-slim stand-in for docker/Dockerfile's runtime stage
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "prereqs: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "prereqs: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "prereqs: cargo not found: install Rust with rustup (https://rustup.rs)" >&2; exit 1; }
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "prereqs: installing cargo-nextest"
  cargo install --locked cargo-nextest >/dev/null
fi

# The docker stage (tools/docker-tests.sh) needs a Docker engine; this script cannot install or
# start one for you, so it only says so (the stage itself fails without one).
if ! command -v docker >/dev/null; then
  echo "prereqs: docker is not installed: the docker stage needs an engine (Debian 12: apt-get install docker.io, then systemctl start docker or dockerd &)" >&2
elif ! docker info >/dev/null 2>&1; then
  echo "prereqs: no Docker engine answers (docker info failed): start it (systemctl start docker or dockerd &) before the docker stage" >&2
fi
