#!/usr/bin/env bash
# The container stage (issue 10): builds the release binary and the image offline
# (docker/build-offline.sh), checks the image (non-root user, no private key or PIN inside,
# prints its size), runs the container tests (tests/container.rs) and the README's example
# (examples/softhsm_in_docker.rs) on the machine's Docker engine, then builds and starts
# docker/Dockerfile's runtime stage on a local debian:bookworm-slim stand-in
# (docker/check-registry-runtime.sh). Fails, never skips, without an engine.
set -euo pipefail
cd "$(dirname "$0")/.."
export HSMKMS_IMAGE="${HSMKMS_IMAGE:-hsmkms:dev}"

fail() { echo "docker-tests: $*" >&2; exit 1; }
command -v docker >/dev/null || fail "docker is not installed: on Debian 12 \`apt-get install docker.io\`, then start the engine (\`systemctl start docker\` or \`dockerd &\`)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed): start it (\`systemctl start docker\` or \`dockerd &\`) or set DOCKER_HOST"

# The README quotes the example CI runs: the copy must match the file.
readme_copy=$(awk '/^<!-- example: examples\/softhsm_in_docker.rs -->$/ {f=1; next} f && /^```rust$/ {g=1; next} g && /^```$/ {exit} g' README.md)
[ "$readme_copy" = "$(cat examples/softhsm_in_docker.rs)" ] \
  || fail "README.md's copy of examples/softhsm_in_docker.rs differs from the file: update the README"

cargo build --release --locked --bin hsmkms
docker/build-offline.sh

user=$(docker image inspect -f '{{.Config.User}}' "$HSMKMS_IMAGE")
[ "$user" = "10001:10001" ] || fail "$HSMKMS_IMAGE runs as '$user', not the non-root 10001:10001"

# Nothing secret in the image: no PEM private key in any file of any layer, no PIN file, no
# token, and an empty volume directory (all of it is made on first start, in the volume).
docker save "$HSMKMS_IMAGE" | python3 -c '
import io, re, sys, tarfile
pem = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{32}")
bad, files = [], 0
outer = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()))
for m in outer.getmembers():
    if not (m.isfile() and m.name.endswith("layer.tar")):
        continue
    layer = tarfile.open(fileobj=outer.extractfile(m))
    for f in layer.getmembers():
        name = f.name.lstrip("./")
        if name.startswith("var/lib/hsmkms/") or re.search(r"(^|/)(hsm\.pin|hsm\.so-pin|[^/]*\.key)$", name):
            bad.append(name + " (should only be created in the volume)")
        if f.isfile():
            files += 1
            if pem.search(layer.extractfile(f).read()):
                bad.append(name + " (holds a PEM private key)")
if bad:
    sys.exit("docker-tests: secrets in the image: " + ", ".join(bad))
print(f"docker-tests: scanned {files} files of the image: no private key, PIN or token")
'
size=$(docker image inspect -f '{{.Size}}' "$HSMKMS_IMAGE")
echo "docker-tests: $HSMKMS_IMAGE is $size bytes ($((size / 1024 / 1024)) MiB)"

# The harness, the container tests and the example are behind the `testing` feature: lint them.
cargo clippy -p hsmkms --locked --features testing --lib --tests --examples -- -D warnings
cargo nextest run --locked --no-fail-fast --features testing --test container
cargo run --locked --features testing --example softhsm_in_docker
# docker/Dockerfile's runtime stage on a debootstrapped debian:bookworm-slim stand-in (no registry).
docker/check-registry-runtime.sh
