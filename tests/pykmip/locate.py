"""PyKMIP 0.11.0 ProxyKmipClient's locate (by name, by state, by object group) and rekey against
hsmkms, the client at its default KMIP 1.2. Usage: locate.py HOST PORT CERT KEY CA. Prints
`key=value` facts for the Rust test (tests/server_locate.rs); exits non-zero on any failure."""

import logging
import sys

from kmip.core import enums
from kmip.core import objects as cobjects
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)
host, port, cert, key, ca = sys.argv[1:6]

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    f = client.attribute_factory
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name="pykmip-locate")
    # Object Group through the low-level Create (ProxyKmipClient.create takes no group).
    template = cobjects.TemplateAttribute(attributes=[
        f.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM,
                           enums.CryptographicAlgorithm.AES),
        f.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 128),
        f.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
                           [enums.CryptographicUsageMask.ENCRYPT,
                            enums.CryptographicUsageMask.DECRYPT]),
        f.create_attribute(enums.AttributeType.OBJECT_GROUP, "pykmip-group"),
    ])
    result = client.proxy.create(enums.ObjectType.SYMMETRIC_KEY, template)
    assert result.result_status.value == enums.ResultStatus.SUCCESS, result.result_message
    grouped = result.uuid
    client.activate(uid)

    by_name = client.locate(attributes=[f.create_attribute(enums.AttributeType.NAME,
                                                           "pykmip-locate")])
    print("by_name=%s" % (by_name == [uid]))
    active = client.locate(attributes=[f.create_attribute(enums.AttributeType.STATE,
                                                          enums.State.ACTIVE)])
    print("by_state=%s" % (active == [uid]))
    pre = client.locate(attributes=[f.create_attribute(enums.AttributeType.STATE,
                                                       enums.State.PRE_ACTIVE)])
    print("by_state_pre_active=%s" % (pre == [grouped]))
    group = client.locate(attributes=[f.create_attribute(enums.AttributeType.OBJECT_GROUP,
                                                         "pykmip-group")])
    print("by_group=%s" % (group == [grouped]))
    print("maximum_items=%d" % len(client.locate(maximum_items=1)))

    new = client.rekey(uid=uid)
    print("rekey_new_id=%s" % (new != uid and bool(new)))
    after = client.locate(attributes=[f.create_attribute(enums.AttributeType.NAME,
                                                         "pykmip-locate")])
    print("name_moved=%s" % (after == [new]))
    _, attrs = client.get_attributes(uid, ["State"])
    print("old_state=%s" % attrs[0].attribute_value.value.name)
    print("new_material_differs=%s" % (client.get(new).value != client.get(uid).value))
    later = client.rekey(uid=new, offset=3600)
    _, attrs = client.get_attributes(later, ["State"])
    print("offset_state=%s" % attrs[0].attribute_value.value.name)
