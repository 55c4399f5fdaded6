"""PyKMIP 0.11.0 ProxyKmipClient through the key lifecycle against hsmkms: create, register, get,
get_attributes, get_attribute_list, activate, revoke, destroy, check (client at its default KMIP
1.2), then set/modify/delete_attribute with the client at KMIP 2.0 (those calls send 2.0
messages). Usage: lifecycle.py HOST PORT CERT KEY CA. Prints `key=value` facts for the Rust test
(tests/server_lifecycle.rs); exits non-zero on any failure."""

import logging
import sys

from kmip.core import enums
from kmip.core import objects as cobjects
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)
host, port, cert, key, ca = sys.argv[1:6]

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name="pykmip-aes",
                        cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                                  enums.CryptographicUsageMask.DECRYPT])
    print("create=%s" % bool(uid))
    key_obj = client.get(uid)
    print("get_len=%d" % len(key_obj.value))
    print("get_alg=%s" % key_obj.cryptographic_algorithm.name)
    _, attrs = client.get_attributes(uid, ["State", "Cryptographic Length", "Digest"])
    got = {a.attribute_name.value: a.attribute_value for a in attrs}
    print("state=%s" % got["State"].value.name)
    print("length=%d" % got["Cryptographic Length"].value)
    print("has_digest=%s" % ("Digest" in got))
    names = client.get_attribute_list(uid)
    print("list_has_state=%s" % ("State" in names))
    client.activate(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    print("after_activate=%s" % attrs[0].attribute_value.value.name)
    print("check=%s" % (client.check(uid, cryptographic_usage_mask=[
        enums.CryptographicUsageMask.ENCRYPT]) == uid))
    client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
    _, attrs = client.get_attributes(uid, ["State"])
    print("after_revoke=%s" % attrs[0].attribute_value.value.name)
    client.destroy(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    print("after_destroy=%s" % attrs[0].attribute_value.value.name)

    secret = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, b"\x01" * 16)
    ruid = client.register(secret)
    print("register_get=%s" % client.get(ruid).value.hex())
    client.destroy(ruid)

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                         kmip_version=enums.KMIPVersion.KMIP_2_0)
with client:
    uid = client.create(enums.CryptographicAlgorithm.AES, 128)
    client.set_attribute(uid, attribute_name="Contact Information",
                         attribute_value="alice@example.org")
    print("set_attribute=ok")
    value = client.attribute_value_factory.create_attribute_value_by_enum(
        enums.Tags.CONTACT_INFORMATION, "bob@example.org")
    client.modify_attribute(uid, new_attribute=cobjects.NewAttribute(attribute=value))
    print("modify_attribute=ok")
    _, attrs = client.get_attributes(uid, ["Contact Information"])
    print("contact=%s" % attrs[0].attribute_value.value)
    current = client.attribute_value_factory.create_attribute_value_by_enum(
        enums.Tags.CONTACT_INFORMATION, "bob@example.org")
    client.delete_attribute(uid, current_attribute=cobjects.CurrentAttribute(attribute=current))
    print("delete_attribute=ok")
    _, attrs = client.get_attributes(uid, ["Contact Information"])
    print("contact_after_delete=%d" % len(attrs))
    client.destroy(uid)
