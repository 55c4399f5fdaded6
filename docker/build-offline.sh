#!/usr/bin/env bash
# Builds the hsmkms runtime image without pulling anything (air-gapped labs; no registry, no base
# image): a root file system assembled from the locally built release binary, the host's SoftHSM
# module and softhsm2-util, their shared-library closure (ldd, the dynamic loader included), CA
# certificates and a minimal /etc, then `FROM scratch` + `ADD rootfs.tar`. Same layout, user,
# volume, ports, entrypoint and health check as docker/Dockerfile.
#
#   cargo build --release --locked --bin hsmkms     # first: the script uses this binary
#   docker/build-offline.sh                         # → hsmkms:dev
#
# Environment: HSMKMS_IMAGE (tag, default hsmkms:dev), HSMKMS_BIN (binary, default
# $CARGO_TARGET_DIR/release/hsmkms), SOFTHSM_MODULE (default /usr/lib/softhsm/libsofthsm2.so).
# Needs on the host: docker (engine answering), softhsm2, ca-certificates, ldd, ldconfig, tar.
# Idempotent: a second run with the same inputs gives the same root file system (sorted tar,
# fixed mtimes and owners) and retags the image.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TAG="${HSMKMS_IMAGE:-hsmkms:dev}"
BIN="${HSMKMS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/hsmkms}"
MODULE="${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
UTIL=/usr/bin/softhsm2-util
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
APP_UID=10001

fail() { echo "build-offline: $*" >&2; exit 1; }
command -v docker >/dev/null || fail "docker is not installed: on Debian 12 \`apt-get install docker.io\` and start the engine (\`dockerd &\` or systemctl start docker)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed): start it (\`dockerd &\` or systemctl start docker), or set DOCKER_HOST"
[ -x "$BIN" ] || fail "$BIN missing: build it first with \`cargo build --release --locked --bin hsmkms\` (or set HSMKMS_BIN)"
[ -f "$MODULE" ] || fail "$MODULE missing: \`apt-get install softhsm2\`"
[ -x "$UTIL" ] || fail "$UTIL missing: \`apt-get install softhsm2\`"
[ -f "$CA_BUNDLE" ] || fail "$CA_BUNDLE missing: \`apt-get install ca-certificates\`"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
R="$WORK/rootfs"
mkdir -p "$R"/{usr/local/bin,etc/ssl/certs,var/lib/hsmkms,tmp,run/secrets}

# Files, their shared libraries (as ldd resolves them) and the dynamic loader, each copied to
# the same path in the root file system, symlinks resolved.
copy() { mkdir -p "$R$(dirname "$1")"; cp -L "$1" "$R$1"; }
closure() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
install -m 0755 "$BIN" "$R/usr/local/bin/hsmkms"
copy "$MODULE"
copy "$UTIL"
for f in "$BIN" "$MODULE" "$UTIL"; do
  closure "$f"
done | sort -u | while read -r lib; do copy "$lib"; done
cp -L "$CA_BUNDLE" "$R/etc/ssl/certs/ca-certificates.crt"

# A minimal /etc: the non-root user, name resolution, and the loader's cache of library dirs.
cat > "$R/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/usr/sbin/nologin
hsmkms:x:$APP_UID:$APP_UID:hsmkms:/var/lib/hsmkms:/usr/sbin/nologin
PASSWD
cat > "$R/etc/group" <<GROUP
root:x:0:
hsmkms:x:$APP_UID:
GROUP
printf 'hosts: files dns\n' > "$R/etc/nsswitch.conf"
find "$R" -name '*.so*' -printf '/%P\n' | xargs -rn1 dirname | sort -u > "$R/etc/ld.so.conf"
ldconfig -r "$R"

chown "$APP_UID:$APP_UID" "$R/var/lib/hsmkms"
chmod 0700 "$R/var/lib/hsmkms"
chmod 1777 "$R/tmp"
EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --mtime="@$EPOCH" --numeric-owner --owner=0 --group=0 \
  --exclude=./var/lib/hsmkms -C "$R" -cf "$WORK/rootfs.tar" .
# The volume's mount point keeps its owner (a named volume copies it on first use).
tar --mtime="@$EPOCH" --numeric-owner -C "$R" -rf "$WORK/rootfs.tar" ./var/lib/hsmkms

REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
cat > "$WORK/Dockerfile" <<DOCKERFILE
FROM scratch
ADD rootfs.tar /
$(sed -n '/^# --- runtime metadata/,/^# --- end/p' docker/Dockerfile)
LABEL org.opencontainers.image.revision="$REV" org.hsmkms.build="offline"
DOCKERFILE
old=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$WORK" >/dev/null
new=$(docker image inspect -f '{{.Id}}' "$TAG")
# The image this tag named before, now untagged (kept if a container still uses it).
if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
size=$(docker image inspect -f '{{.Size}}' "$TAG")
echo "build-offline: $TAG built ($size bytes, $((size / 1024 / 1024)) MiB)"
