#!/usr/bin/env bash
# Keeps docker/Dockerfile honest where no registry answers: makes a stand-in for
# `debian:bookworm-slim` with debootstrap (minbase, cached in .cache-docker/ of the checkout) and
# `docker import`, builds the Dockerfile's runtime stage on it with the locally built release
# binary in place of the builder stage's (the `rust:1-bookworm` builder stage itself needs a
# registry and is not built here), starts it and waits until Docker reports it healthy.
#
#   cargo build --release --locked --bin hsmkms && docker/check-registry-runtime.sh
#
# Needs: docker, debootstrap (`apt-get install debootstrap`), and Debian's mirror (DEBIAN_MIRROR,
# default http://deb.debian.org/debian) for debootstrap and the stage's apt-get. Leaves the
# stand-in tagged debian:bookworm-slim (only made when that tag is missing) and the image
# hsmkms:registry-runtime-check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="${HSMKMS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/hsmkms}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="$ROOT/.cache-docker"
TAG=hsmkms:registry-runtime-check

fail() { echo "check-registry-runtime: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed)"
[ -x "$BIN" ] || fail "$BIN missing: cargo build --release --locked --bin hsmkms"

if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || fail "debootstrap missing: apt-get install debootstrap"
  if [ ! -f "$CACHE/bookworm-minbase.tar" ]; then
    rm -rf "$CACHE/rootfs"
    mkdir -p "$CACHE"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$MIRROR" >/dev/null
    tar --numeric-owner -C "$CACHE/rootfs" -cf "$CACHE/bookworm-minbase.tar" .
    rm -rf "$CACHE/rootfs"
  fi
  docker import --change 'CMD ["bash"]' "$CACHE/bookworm-minbase.tar" debian:bookworm-slim >/dev/null
  echo "check-registry-runtime: debian:bookworm-slim stand-in imported (debootstrap minbase)"
fi

WORK=$(mktemp -d)
CID=""
cleanup() { [ -n "$CID" ] && docker rm -f -v "$CID" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
cp "$BIN" "$WORK/hsmkms"
# The runtime stage, from its FROM to the end, with the binary from the build context.
awk '/^FROM debian:bookworm-slim AS runtime$/ {f=1} f' docker/Dockerfile \
  | sed 's|^COPY --from=builder /usr/local/bin/hsmkms |COPY hsmkms |' > "$WORK/Dockerfile"
grep -q '^COPY hsmkms /usr/local/bin/hsmkms$' "$WORK/Dockerfile" \
  || fail "docker/Dockerfile's runtime stage no longer copies /usr/local/bin/hsmkms from the builder"
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$WORK" >/dev/null

user=$(docker image inspect -f '{{.Config.User}}' "$TAG")
[ "$user" = "10001:10001" ] || fail "$TAG runs as '$user'"
CID=$(docker run -d "$TAG")
for _ in $(seq 1 60); do
  status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$CID")
  case "$status" in
    "running healthy") break ;;
    running*) sleep 2 ;;
    *) docker logs "$CID" >&2; fail "the container stopped: $status" ;;
  esac
done
[ "$status" = "running healthy" ] || { docker logs "$CID" >&2; fail "not healthy after 120 s: $status"; }
size=$(docker image inspect -f '{{.Size}}' "$TAG")
echo "check-registry-runtime: docker/Dockerfile's runtime stage on debian:bookworm-slim (stand-in) is healthy; $size bytes"
