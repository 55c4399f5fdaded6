"""PyKMIP 0.11.0 ProxyKmipClient through key pairs and signatures against hsmkms (client at its
default KMIP 1.2): create_key_pair RSA-2048, sign and signature_verify round trips with RSA
PKCS#1 v1.5 and RSA-PSS (SHA-256), ECDSA P-256 with SHA-256 on a registered key pair, each
signature verified independently with `cryptography`; RSA-OAEP (SHA-1) encrypt/decrypt round
trip and a ciphertext made by `cryptography` decrypted by the server.
Usage: sign.py HOST PORT CERT KEY CA. Prints `key=value` facts for tests/server_pykmip.rs;
exits non-zero on any failure."""

import logging
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from kmip.core import enums
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

logging.basicConfig(level=logging.WARNING)
host, port, cert, key, ca = sys.argv[1:6]
U = enums.CryptographicUsageMask


def independently(verify):
    try:
        verify()
        return True
    except InvalidSignature:
        return False


client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca)
with client:
    public_uid, private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA, 2048,
        public_usage_mask=[U.VERIFY, U.ENCRYPT],
        private_usage_mask=[U.SIGN, U.DECRYPT])
    client.activate(public_uid)
    client.activate(private_uid)
    public = serialization.load_der_public_key(client.get(public_uid).value)
    print("rsa_bits=%d" % public.key_size)
    message = b"signed in the HSM, checked by cryptography"
    schemes = [
        ("pkcs1", enums.PaddingMethod.PKCS1v15, padding.PKCS1v15()),
        ("pss", enums.PaddingMethod.PSS,
         padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)),
    ]
    for name, kmip_padding, scheme in schemes:
        params = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
                  "padding_method": kmip_padding,
                  "hashing_algorithm": enums.HashingAlgorithm.SHA_256}
        signature = client.sign(message, uid=private_uid, cryptographic_parameters=params)
        print("%s_len=%d" % (name, len(signature)))
        print("%s_independent=%s" % (name, independently(
            lambda: public.verify(signature, message, scheme, hashes.SHA256()))))
        v = client.signature_verify(message, signature, uid=public_uid,
                                    cryptographic_parameters=params)
        print("%s_verify=%s" % (name, v.name))
        v = client.signature_verify(message + b"!", signature, uid=public_uid,
                                    cryptographic_parameters=params)
        print("%s_tampered=%s" % (name, v.name))

    oaep = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
            "padding_method": enums.PaddingMethod.OAEP,
            "hashing_algorithm": enums.HashingAlgorithm.SHA_1}
    secret = b"a data key to transport"
    ciphertext, _ = client.encrypt(secret, uid=public_uid, cryptographic_parameters=oaep)
    print("oaep_len=%d" % len(ciphertext))
    print("oaep_round_trip=%s" % (
        client.decrypt(ciphertext, uid=private_uid, cryptographic_parameters=oaep) == secret))
    outside = public.encrypt(secret, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                  algorithm=hashes.SHA1(), label=None))
    print("oaep_outside=%s" % (
        client.decrypt(outside, uid=private_uid, cryptographic_parameters=oaep) == secret))

    # ECDSA: PyKMIP 0.11's create_key_pair names no curve, so the pair is made here and
    # registered (PKCS#8 private, X.509 public).
    ec_private = ec.generate_private_key(ec.SECP256R1())
    private_der = ec_private.private_bytes(serialization.Encoding.DER,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
    public_der = ec_private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ec_private_uid = client.register(objects.PrivateKey(
        enums.CryptographicAlgorithm.EC, 256, private_der, enums.KeyFormatType.PKCS_8,
        masks=[U.SIGN]))
    ec_public_uid = client.register(objects.PublicKey(
        enums.CryptographicAlgorithm.EC, 256, public_der, enums.KeyFormatType.X_509,
        masks=[U.VERIFY]))
    client.activate(ec_private_uid)
    client.activate(ec_public_uid)
    params = {"digital_signature_algorithm":
              enums.DigitalSignatureAlgorithm.ECDSA_WITH_SHA256}
    signature = client.sign(message, uid=ec_private_uid, cryptographic_parameters=params)
    print("ecdsa_der=%s" % (signature[0] == 0x30))
    print("ecdsa_independent=%s" % independently(
        lambda: ec_private.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))))
    v = client.signature_verify(message, signature, uid=ec_public_uid,
                                cryptographic_parameters=params)
    print("ecdsa_verify=%s" % v.name)
    outside = ec_private.sign(message, ec.ECDSA(hashes.SHA256()))
    v = client.signature_verify(message, outside, uid=ec_public_uid,
                                cryptographic_parameters=params)
    print("ecdsa_outside=%s" % v.name)
