#!/usr/bin/env bash
# Development mode (README's first command): installs what is missing, builds hsmkms and starts
# it on the embedded default under ./data. Until the KMIP server lands (issue "The KMIP server"),
# it prepares everything that exists and demonstrates the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/prereqs.sh
cargo build --locked --bin hsmkms
BIN=target/debug/hsmkms
mkdir -p data
echo "hsmkms built: $BIN"
echo "Example: a KMIP 1.4 DiscoverVersions request encoded from XML and decoded back:"
cat > data/example-request.xml <<'XML'
<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="DiscoverVersions"/>
    <RequestPayload/>
  </BatchItem>
</RequestMessage>
XML
"$BIN" ttlv encode --from xml --hex < data/example-request.xml | tee data/example-request.hex
"$BIN" ttlv decode --to json < data/example-request.hex
