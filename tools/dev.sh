#!/usr/bin/env bash
# Development mode (README's first command). On a fresh machine: installs what is missing, builds
# hsmkms, and creates under ./data a SoftHSM token (private SOFTHSM2_CONF), a development CA with
# server and client certificates, the store directory and data/hsmkms.toml; runs `hsmkms init`;
# then starts `hsmkms serve` on 127.0.0.1 and prints how to connect. A second start reuses
# everything. Development only: the PINs and the CA key sit in ./data beside the token.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA="$ROOT/data"

tools/prereqs.sh
cargo build --locked --bin hsmkms
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/hsmkms"

mkdir -p "$DATA/softhsm/tokens" "$DATA/store"
chmod 700 "$DATA"
export SOFTHSM2_CONF="$DATA/softhsm2.conf"
if [ ! -f "$SOFTHSM2_CONF" ]; then
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$DATA/softhsm/tokens" > "$SOFTHSM2_CONF"
fi
pin() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 16; }
[ -f "$DATA/hsm.pin" ] || { pin > "$DATA/hsm.pin"; chmod 600 "$DATA/hsm.pin"; }
[ -f "$DATA/hsm.so-pin" ] || { pin > "$DATA/hsm.so-pin"; chmod 600 "$DATA/hsm.so-pin"; }
if ! softhsm2-util --show-slots 2>/dev/null | grep -q 'Label:[[:space:]]*hsmkms[[:space:]]*$'; then
  echo "dev: creating SoftHSM token \"hsmkms\" in $DATA/softhsm"
  softhsm2-util --init-token --free --label hsmkms \
    --so-pin "$(cat "$DATA/hsm.so-pin")" --pin "$(cat "$DATA/hsm.pin")" >/dev/null
fi

"$BIN" pki --dir "$DATA/pki" --server-name localhost --server-name 127.0.0.1 --client client

if [ ! -f "$DATA/hsmkms.toml" ]; then
  cat > "$DATA/hsmkms.toml" <<'TOML'
# hsmkms development configuration (written by tools/dev.sh). Paths are relative to this file.
[server]
kmip_listen   = "127.0.0.1:5696"
https_listen  = "127.0.0.1:9998"
health_listen = "127.0.0.1:9997"

[tls]
cert      = "pki/server.crt"
key       = "pki/server.key"
client_ca = "pki/ca.crt"
identity  = "cn"

[access]
admins = []

[hsm]
module      = "/usr/lib/softhsm/libsofthsm2.so"
profile     = "softhsm2"
token_label = "hsmkms"
pin_file    = "hsm.pin"

[store]
path = "store"

[logging]
format = "text"
level  = "info"
TOML
fi

# Every start: `init --only-missing` creates the master keys that are missing (all on a fresh
# token; the rest after a first start killed half-way, while the store is still empty) and never
# overwrites one.
"$BIN" init --only-missing --config "$DATA/hsmkms.toml"

cat <<INFO

hsmkms development server: KMIP/TLS on 127.0.0.1:5696, HTTPS POST /kmip on 127.0.0.1:9998,
health on http://127.0.0.1:9997/readyz. Mutual TLS: connect with
  client certificate  $DATA/pki/client-client.crt   (identity "client")
  client key          $DATA/pki/client-client.key
  CA (server and clients) $DATA/pki/ca.crt
More clients: $BIN pki --dir $DATA/pki --client NAME

PyKMIP 0.11 (Python <= 3.11; tools/pykmip-env.sh makes a venv in target/pykmip-venv):
  target/pykmip-venv/bin/python - <<'PY'
from kmip.pie.client import ProxyKmipClient
c = ProxyKmipClient(hostname="127.0.0.1", port=5696,
                    cert="$DATA/pki/client-client.crt", key="$DATA/pki/client-client.key",
                    ca="$DATA/pki/ca.crt")
with c:
    print([str(v) for v in c.proxy.discover_versions().protocol_versions])
PY
Stop with Ctrl-C (graceful shutdown).

INFO
exec "$BIN" serve --config "$DATA/hsmkms.toml"
