"""PyKMIP 0.11.0 ProxyKmipClient (KMIP 1.2) against hsmkms: create_key_pair of an RSA-2048 pair,
get of both halves (PKCS#1, the default), each parsed by Python's `cryptography` and checked to be
one key pair, then destroy. Usage: keypairs.py HOST PORT CERT KEY CA. Prints `key=value` facts for
the Rust test (tests/server_keypairs.rs); exits non-zero on any failure."""

import logging
import sys

from cryptography.hazmat.primitives import serialization
from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)
host, port, cert, key, ca = sys.argv[1:6]

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    public_uid, private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA, 2048,
        public_name="pykmip-public", public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
        private_name="pykmip-private", private_usage_mask=[enums.CryptographicUsageMask.SIGN])
    public = client.get(public_uid)
    private = client.get(private_uid)
    print("public_format=%s" % public.key_format_type.name)
    print("private_format=%s" % private.key_format_type.name)
    pk = serialization.load_der_public_key(public.value)
    sk = serialization.load_der_private_key(private.value, password=None)
    print("key_size=%d" % pk.key_size)
    print("same_pair=%s" % (sk.public_key().public_numbers() == pk.public_numbers()))
    client.destroy(private_uid)
    client.destroy(public_uid)
    print("destroyed=True")
