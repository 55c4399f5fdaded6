"""PyKMIP 0.11.0 ProxyKmipClient through the cryptographic operations against hsmkms (client at its
default KMIP 1.2): AES-CBC (PKCS#5, IV drawn by the server) and AES-GCM encrypt/decrypt round
trips, HMAC-SHA256 mac. Usage: crypto.py HOST PORT CERT KEY CA. Prints `key=value` facts for the
Rust test (tests/server_crypto.rs); exits non-zero on any failure."""

import logging
import sys

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)
host, port, cert, key, ca = sys.argv[1:6]

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name="pykmip-crypto",
                        cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                                  enums.CryptographicUsageMask.DECRYPT])
    client.activate(uid)
    plain = b"PyKMIP through the HSM, 37 bytes..."
    cbc = {"block_cipher_mode": enums.BlockCipherMode.CBC,
           "padding_method": enums.PaddingMethod.PKCS5,
           "cryptographic_algorithm": enums.CryptographicAlgorithm.AES}
    ct, iv = client.encrypt(plain, uid=uid, cryptographic_parameters=cbc)
    print("cbc_len_ok=%s" % (len(ct) == (len(plain) // 16 + 1) * 16))
    print("cbc_iv_len=%d" % len(iv))
    back = client.decrypt(ct, uid=uid, cryptographic_parameters=cbc, iv_counter_nonce=iv)
    print("cbc_round_trip=%s" % (back == plain))
    gcm = {"block_cipher_mode": enums.BlockCipherMode.GCM,
           "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
           "tag_length": 16}
    nonce = b"\x07" * 12
    ct, _ = client.encrypt(plain, uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=nonce)
    print("gcm_tag_appended=%s" % (len(ct) == len(plain) + 16))
    back = client.decrypt(ct, uid=uid, cryptographic_parameters=gcm, iv_counter_nonce=nonce)
    print("gcm_round_trip=%s" % (back == plain))

    muid = client.create(enums.CryptographicAlgorithm.HMAC_SHA256, 256,
                         cryptographic_usage_mask=[enums.CryptographicUsageMask.MAC_GENERATE,
                                                   enums.CryptographicUsageMask.MAC_VERIFY])
    client.activate(muid)
    _, mac = client.mac(b"mac me", uid=muid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
    print("mac_len=%d" % len(mac))
    _, again = client.mac(b"mac me", uid=muid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
    print("mac_stable=%s" % (mac == again))
