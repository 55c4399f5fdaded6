"""PyKMIP 0.11.0 against hsmkms, with PyKMIP's default client settings (KMIP 1.2, its default TLS
context). Usage: interop.py HOST PORT CERT KEY CA. Prints one `key=value` line per fact; the Rust
test (tests/server_pykmip.rs) asserts them. Exits non-zero on any failure."""

import logging
import sys

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)

def name(enum, item):
    value = item.value
    return value.name if hasattr(value, "name") else enum(value).name


host, port, cert, key, ca = sys.argv[1:6]
client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    r = client.proxy.discover_versions()
    print("discover_status=%s" % r.result_status.value.name)
    print("versions=%s" % ",".join(
        "%d.%d" % (v.major, v.minor) for v in r.protocol_versions))

    r = client.proxy.query(query_functions=[
        enums.QueryFunction.QUERY_OPERATIONS,
        enums.QueryFunction.QUERY_OBJECTS,
        enums.QueryFunction.QUERY_SERVER_INFORMATION,
    ])
    print("query_status=%s" % r.result_status.value.name)
    print("operations=%s" % ",".join(name(enums.Operation, o) for o in r.operations))
    print("objects=%s" % ",".join(name(enums.ObjectType, o) for o in r.object_types))
    vid = r.vendor_identification
    print("vendor=%s" % getattr(vid, "value", vid))

    # An operation the server does not implement yet: a clean failure, not a hang.
    r = client.proxy.get("no-such-object")
    print("get_status=%s" % r.result_status.value.name)
    print("get_reason=%s" % r.result_reason.value.name)
