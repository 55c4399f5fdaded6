//! Signatures and RSA encryption in the HSM (`hsm::asym`), checked independently with the
//! RustCrypto `rsa` and `p256` crates: signatures of data and of digests, RSA-OAEP and PKCS#1
//! v1.5 round trips both ways, and OAEP hashes the profile does not list answered as
//! unsupported. Run under `cargo nextest` (SoftHSM, or `HSMKMS_TEST_PKCS11=kryoptic`).

mod common;

use common::{TestToken, Token};
use hsmkms::hsm::{
    Curve, HashAlg, HsmError, KeyPairSpec, KeyUsage, ManagedKey, PublicKey, RsaPadding, SignAlg,
    SignInput, WrappedKey,
};
use hsmkms::service::ecdsa_der;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256};

fn mk<'a>(id: &'a str, wk: &'a WrappedKey) -> ManagedKey<'a> {
    ManagedKey {
        unique_id: id,
        wrapped: wk,
    }
}

fn usage() -> KeyUsage {
    KeyUsage {
        sign: true,
        verify: true,
        encrypt: true,
        decrypt: true,
        ..KeyUsage::default()
    }
}

fn rsa_public(p: &PublicKey) -> RsaPublicKey {
    let PublicKey::Rsa {
        modulus,
        public_exponent,
    } = p
    else {
        panic!("{p:?}")
    };
    RsaPublicKey::new(
        BigUint::from_bytes_be(modulus),
        BigUint::from_bytes_be(public_exponent),
    )
    .unwrap()
}

/// The SEC 1 point inside `CKA_EC_POINT`'s DER OCTET STRING.
fn sec1_point(p: &PublicKey) -> Vec<u8> {
    let PublicKey::Ec { point, .. } = p else {
        panic!("{p:?}")
    };
    assert_eq!(point[0], 0x04, "DER OCTET STRING");
    point[2..].to_vec()
}

#[test]
fn rsa_signatures_of_data_and_digests_verify_independently() {
    let (_t, hsm) = TestToken::initialised();
    let (wk, public) = hsm
        .generate_key_pair(KeyPairSpec::Rsa { modulus_bits: 2048 }, usage())
        .unwrap();
    let key = mk("rsa", &wk);
    let pk = rsa_public(&public);
    let msg = b"signed in the HSM";
    let digest = Sha256::digest(msg).to_vec();
    // PKCS#1 v1.5 is deterministic: the digest path gives the same signature.
    let alg = SignAlg::RsaPkcs1(HashAlg::Sha256);
    let a = hsm.sign_input(key, alg, SignInput::Data(msg)).unwrap();
    let b = hsm
        .sign_input(key, alg, SignInput::Digest(&digest))
        .unwrap();
    assert_eq!(a, b);
    pk.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &a)
        .unwrap();
    // PSS over data and over the digest, both verified by `rsa`.
    let alg = SignAlg::RsaPss(HashAlg::Sha256);
    for input in [SignInput::Data(msg), SignInput::Digest(&digest)] {
        let s = hsm.sign_input(key, alg, input).unwrap();
        pk.verify(Pss::new::<Sha256>(), &digest, &s).unwrap();
        hsm.verify_input(&public, alg, SignInput::Digest(&digest), &s)
            .unwrap();
        hsm.verify_input(&public, alg, SignInput::Data(msg), &s)
            .unwrap();
    }
    // PSS with SHA-224 (no combined mechanism in cryptoki: hashed first).
    let alg = SignAlg::RsaPss(HashAlg::Sha224);
    let s = hsm.sign(key, alg, msg).unwrap();
    pk.verify(Pss::new::<sha2::Sha224>(), &sha2::Sha224::digest(msg), &s)
        .unwrap();
    // A digest of the wrong length is refused before the HSM.
    assert!(matches!(
        hsm.sign_input(
            key,
            SignAlg::RsaPkcs1(HashAlg::Sha384),
            SignInput::Digest(&digest)
        ),
        Err(HsmError::InvalidArgument(_))
    ));
    // A wrong digest does not verify.
    let mut other = digest.clone();
    other[0] ^= 1;
    assert!(matches!(
        hsm.verify_input(
            &public,
            SignAlg::RsaPkcs1(HashAlg::Sha256),
            SignInput::Digest(&other),
            &a
        ),
        Err(HsmError::SignatureInvalid { .. })
    ));
}

#[test]
fn ecdsa_p256_signatures_verify_independently_in_der() {
    let (_t, hsm) = TestToken::initialised();
    let (wk, public) = hsm
        .generate_key_pair(KeyPairSpec::Ec(Curve::P256), usage())
        .unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1_point(&public)).unwrap();
    let msg = b"ecdsa in the HSM";
    let digest = Sha256::digest(msg).to_vec();
    let alg = SignAlg::Ecdsa(HashAlg::Sha256);
    for input in [SignInput::Data(msg), SignInput::Digest(&digest)] {
        let raw = hsm.sign_input(mk("ec", &wk), alg, input).unwrap();
        assert_eq!(raw.len(), 64);
        let der = ecdsa_der::to_der(&raw).unwrap();
        let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
        vk.verify_prehash(&digest, &sig).unwrap();
        assert_eq!(ecdsa_der::from_der(&der, 32).unwrap(), raw);
        // A signature made by `p256` verifies in the HSM.
        hsm.verify_input(&public, alg, SignInput::Digest(&digest), &raw)
            .unwrap();
    }
}

#[test]
fn rsa_oaep_and_pkcs1_encryption_round_trip_both_ways() {
    let (t, hsm) = TestToken::initialised();
    let (wk, public) = hsm
        .generate_key_pair(KeyPairSpec::Rsa { modulus_bits: 2048 }, usage())
        .unwrap();
    let key = mk("rsa", &wk);
    let pk = rsa_public(&public);
    assert_eq!(pk.size(), 256);
    let msg = b"a key to transport";
    let sha1 = RsaPadding::Oaep {
        hash: HashAlg::Sha1,
        mgf_hash: HashAlg::Sha1,
        label: &[],
    };
    let c = hsm.encrypt_rsa(&public, sha1, msg).unwrap();
    assert_eq!(c.len(), 256);
    assert_eq!(hsm.decrypt_rsa(key, sha1, &c).unwrap(), msg);
    // An OAEP ciphertext made outside the HSM decrypts inside it.
    let mut rng = rsa::rand_core::OsRng;
    let c = pk
        .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), msg)
        .unwrap();
    assert_eq!(hsm.decrypt_rsa(key, sha1, &c).unwrap(), msg);
    let c = pk.encrypt(&mut rng, Pkcs1v15Encrypt, msg).unwrap();
    assert_eq!(hsm.decrypt_rsa(key, RsaPadding::Pkcs1, &c).unwrap(), msg);
    let c = hsm.encrypt_rsa(&public, RsaPadding::Pkcs1, msg).unwrap();
    assert_eq!(hsm.decrypt_rsa(key, RsaPadding::Pkcs1, &c).unwrap(), msg);
    // OAEP with SHA-256: only where the profile lists it (not SoftHSM 2.6.1).
    let sha256 = RsaPadding::Oaep {
        hash: HashAlg::Sha256,
        mgf_hash: HashAlg::Sha256,
        label: &[],
    };
    match hsm.encrypt_rsa(&public, sha256, msg) {
        Err(HsmError::MechanismUnsupported { .. }) => {
            assert_eq!(t.kind, Token::SoftHsm, "only SoftHSM lacks OAEP-SHA-256")
        }
        Ok(c) => {
            let c2 = pk.encrypt(&mut rng, Oaep::new::<Sha256>(), msg).unwrap();
            assert_eq!(hsm.decrypt_rsa(key, sha256, &c).unwrap(), msg);
            assert_eq!(hsm.decrypt_rsa(key, sha256, &c2).unwrap(), msg);
        }
        Err(e) => panic!("{e}"),
    }
}
