//! Asymmetric key material in the Key Format Types of KMIP (1.4 §9.1.3.2.3): PKCS#1, PKCS#8,
//! X.509 SubjectPublicKeyInfo, SEC 1 EC Private Key (DER, parsed and written with the RustCrypto
//! `der` crates, never by hand) and the Transparent RSA/EC structures — to and from the HSM
//! layer's [`PublicKey`] and [`PrivateKeyParts`].
//!
//! The store keeps a public key as its SubjectPublicKeyInfo DER; a private key's clear values
//! only exist here for the length of a Register or an authorised Get, in zeroizing containers.
//! Private keys: [`private`]. Malformed material answers Invalid Field with what was wrong; a format that does not fit the
//! object (PKCS#8 for a public key, …) answers Key Format Type Not Supported.

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode, Encode};
use zeroize::Zeroize;

use crate::hsm::{Curve, PublicKey};
use crate::kmip::fields::{as_bigint, as_bytes, Builder, Fields};
use crate::service::OpError;
use crate::ttlv::enums::{CryptographicAlgorithm, KeyFormatType, RecommendedCurve};
use crate::ttlv::{BigInt, Item, Tag, Value};

mod private;
pub use private::{private_from_material, private_material, public_of};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// The KMIP Recommended Curve of a curve.
pub fn recommended_curve(c: Curve) -> RecommendedCurve {
    match c {
        Curve::P256 => RecommendedCurve::P_256,
        Curve::P384 => RecommendedCurve::P_384,
        Curve::P521 => RecommendedCurve::P_521,
    }
}

/// The curve of a KMIP Recommended Curve, if the server offers it.
pub fn curve_of(rc: u32) -> Result<Curve, OpError> {
    match RecommendedCurve(rc) {
        RecommendedCurve::P_256 => Ok(Curve::P256),
        RecommendedCurve::P_384 => Ok(Curve::P384),
        RecommendedCurve::P_521 => Ok(Curve::P521),
        other => Err(OpError::NotSupported(format!(
            "elliptic curve {} is not supported (P-256, P-384 and P-521 are)",
            crate::service::enum_name("RecommendedCurve", other.0)
        ))),
    }
}

fn curve_oid(c: Curve) -> ObjectIdentifier {
    match c {
        Curve::P256 => SECP256R1,
        Curve::P384 => SECP384R1,
        Curve::P521 => SECP521R1,
    }
}

fn curve_from_oid(oid: ObjectIdentifier) -> Result<Curve, OpError> {
    match oid {
        SECP256R1 => Ok(Curve::P256),
        SECP384R1 => Ok(Curve::P384),
        SECP521R1 => Ok(Curve::P521),
        other => Err(OpError::NotSupported(format!(
            "elliptic curve {other} is not supported (P-256, P-384 and P-521 are)"
        ))),
    }
}

/// Bits of a curve (Cryptographic Length of an EC key).
pub fn curve_bits(c: Curve) -> i32 {
    match c {
        Curve::P256 => 256,
        Curve::P384 => 384,
        Curve::P521 => 521,
    }
}

/// The KMIP algorithm and length of a public key.
pub fn public_shape(p: &PublicKey) -> (CryptographicAlgorithm, i32) {
    match p {
        PublicKey::Rsa { modulus, .. } => (
            CryptographicAlgorithm::RSA,
            crate::hsm::modulus_bits(modulus) as i32,
        ),
        PublicKey::Ec { curve, .. } => (CryptographicAlgorithm::EC, curve_bits(*curve)),
    }
}

fn bad(what: &str, e: impl std::fmt::Display) -> OpError {
    OpError::Invalid(format!("the key material is not a valid {what}: {e}"))
}

fn format_name(f: KeyFormatType) -> &'static str {
    crate::service::enum_name("KeyFormatType", f.0)
}

fn wrong_format(object: &str, f: KeyFormatType, allowed: &str) -> OpError {
    OpError::KeyFormatNotSupported(format!(
        "a {object} is given or returned in {allowed}, not Key Format Type {}",
        format_name(f)
    ))
}

/// Unsigned integer bytes without leading zeros.
fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[start..]
}

/// The raw point inside `CKA_EC_POINT` (a DER OCTET STRING; some tokens give the raw point).
fn raw_point(ck_point: &[u8]) -> &[u8] {
    match OctetStringRef::from_der(ck_point) {
        Ok(o) => o.as_bytes(),
        Err(_) => ck_point,
    }
}

/// `CKA_EC_POINT` (DER OCTET STRING) of a raw SEC 1 point.
fn ck_point(raw: &[u8]) -> Result<Vec<u8>, OpError> {
    if raw.first() != Some(&0x04) {
        return Err(OpError::Invalid(
            "an EC public point must be uncompressed (SEC 1, first byte 04)".into(),
        ));
    }
    OctetStringRef::new(raw)
        .and_then(|o| o.to_der())
        .map_err(|e| bad("EC point", e))
}

fn uint(b: &[u8]) -> Result<UintRef<'_>, OpError> {
    UintRef::new(trim(b)).map_err(|e| bad("integer", e))
}

// ---- public keys ----

/// PKCS#1 RSAPublicKey DER of an RSA public key.
pub fn pkcs1_public(p: &PublicKey) -> Result<Vec<u8>, OpError> {
    let PublicKey::Rsa {
        modulus,
        public_exponent,
    } = p
    else {
        return Err(OpError::KeyFormatNotSupported(
            "PKCS#1 holds RSA keys only: ask an EC public key in X.509 or Transparent EC Public Key"
                .into(),
        ));
    };
    pkcs1::RsaPublicKey {
        modulus: uint(modulus)?,
        public_exponent: uint(public_exponent)?,
    }
    .to_der()
    .map_err(|e| bad("RSA public key", e))
}

/// X.509 SubjectPublicKeyInfo DER of a public key.
pub fn spki_der(p: &PublicKey) -> Result<Vec<u8>, OpError> {
    let (algorithm, key) = match p {
        PublicKey::Rsa { .. } => (
            spki::AlgorithmIdentifierRef {
                oid: RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL),
            },
            pkcs1_public(p)?,
        ),
        PublicKey::Ec { point, .. } => (
            spki::AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: None,
            },
            raw_point(point).to_vec(),
        ),
    };
    let oid;
    let algorithm = match p {
        PublicKey::Ec { curve, .. } => {
            oid = curve_oid(*curve);
            spki::AlgorithmIdentifierRef {
                parameters: Some(AnyRef::from(&oid)),
                ..algorithm
            }
        }
        PublicKey::Rsa { .. } => algorithm,
    };
    spki::SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::from_bytes(&key).map_err(|e| bad("public key", e))?,
    }
    .to_der()
    .map_err(|e| bad("public key", e))
}

/// A public key from SubjectPublicKeyInfo DER.
pub fn public_from_spki(der: &[u8]) -> Result<PublicKey, OpError> {
    let info =
        spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| bad("X.509 public key", e))?;
    let key = info.subject_public_key.as_bytes().ok_or_else(|| {
        OpError::Invalid("the subject public key is not a whole number of bytes".into())
    })?;
    match info.algorithm.oid {
        RSA_ENCRYPTION => public_from_pkcs1(key),
        EC_PUBLIC_KEY => {
            let oid = info
                .algorithm
                .parameters
                .ok_or_else(|| OpError::Invalid("an EC public key must name its curve".into()))?
                .decode_as::<ObjectIdentifier>()
                .map_err(|e| bad("named curve", e))?;
            Ok(PublicKey::Ec {
                curve: curve_from_oid(oid)?,
                point: ck_point(key)?,
            })
        }
        other => Err(OpError::NotSupported(format!(
            "public keys of algorithm {other} are not supported (RSA and EC are; DSA and \
             certificates are out of scope)"
        ))),
    }
}

fn public_from_pkcs1(der: &[u8]) -> Result<PublicKey, OpError> {
    let k = pkcs1::RsaPublicKey::from_der(der).map_err(|e| bad("PKCS#1 RSA public key", e))?;
    Ok(PublicKey::Rsa {
        modulus: k.modulus.as_bytes().to_vec(),
        public_exponent: k.public_exponent.as_bytes().to_vec(),
    })
}

fn big(tag: Tag, b: &[u8]) -> Item {
    Item::new(tag, Value::BigInteger(BigInt::from_unsigned_bytes(trim(b))))
}

fn unsigned(i: &Item) -> Result<Vec<u8>, OpError> {
    let b = as_bigint(i).map_err(OpError::InvalidField)?;
    b.to_unsigned_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| OpError::Invalid("a key component must not be negative".into()))
}

/// The Key Material of a public key in `format` (bytes for DER forms, a structure for
/// Transparent ones).
pub fn public_material(p: &PublicKey, format: KeyFormatType) -> Result<Item, OpError> {
    let km = |v| Item::new(Tag::KEY_MATERIAL, v);
    Ok(match (format, p) {
        (KeyFormatType::PKCS_1, _) => km(Value::ByteString(pkcs1_public(p)?)),
        (KeyFormatType::X_509, _) => km(Value::ByteString(spki_der(p)?)),
        (
            KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY,
            PublicKey::Rsa {
                modulus,
                public_exponent,
            },
        ) => Builder::new()
            .item(big(Tag::MODULUS, modulus))
            .item(big(Tag::PUBLIC_EXPONENT, public_exponent))
            .build(Tag::KEY_MATERIAL),
        (
            KeyFormatType::TRANSPARENT_EC_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PUBLIC_KEY,
            PublicKey::Ec { curve, point },
        ) => Builder::new()
            .enumeration(Tag::RECOMMENDED_CURVE, recommended_curve(*curve).0)
            .opt_bytes(Tag::Q_STRING, Some(raw_point(point)))
            .build(Tag::KEY_MATERIAL),
        (f, PublicKey::Rsa { .. }) => {
            return Err(wrong_format(
                "RSA public key",
                f,
                "PKCS#1, X.509 or Transparent RSA Public Key",
            ))
        }
        (f, PublicKey::Ec { .. }) => {
            return Err(wrong_format(
                "EC public key",
                f,
                "X.509 or Transparent EC Public Key",
            ))
        }
    })
}

/// A public key from the Key Material of a registered Public Key, checked to be a usable key:
/// an RSA modulus of 512 to 16384 bits and an exponent, or an uncompressed point of its curve.
pub fn public_from_material(format: KeyFormatType, km: &Item) -> Result<PublicKey, OpError> {
    let p = public_from_item(format, km)?;
    let ok = match &p {
        PublicKey::Rsa {
            modulus,
            public_exponent,
        } => {
            (512..=crate::hsm::MAX_RSA_BITS).contains(&crate::hsm::modulus_bits(modulus))
                && !trim(public_exponent).is_empty()
        }
        PublicKey::Ec { curve, point } => raw_point(point).len() == 1 + 2 * curve.field_bytes(),
    };
    if !ok {
        return Err(OpError::Invalid(
            "the public key is not usable: an RSA modulus of 512 to 16384 bits with an exponent, \
             or an uncompressed point of its curve"
                .into(),
        ));
    }
    Ok(p)
}

fn public_from_item(format: KeyFormatType, km: &Item) -> Result<PublicKey, OpError> {
    match (format, &km.value) {
        (KeyFormatType::PKCS_1, Value::ByteString(b)) => public_from_pkcs1(b),
        (KeyFormatType::X_509, Value::ByteString(b)) => public_from_spki(b),
        (KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY, Value::Structure(_)) => {
            let mut f = Fields::open(km, Tag::KEY_MATERIAL).map_err(OpError::InvalidField)?;
            let modulus = unsigned(f.required(Tag::MODULUS).map_err(OpError::InvalidField)?)?;
            let public_exponent = unsigned(
                f.required(Tag::PUBLIC_EXPONENT)
                    .map_err(OpError::InvalidField)?,
            )?;
            f.finish().map_err(OpError::InvalidField)?;
            Ok(PublicKey::Rsa {
                modulus,
                public_exponent,
            })
        }
        (
            KeyFormatType::TRANSPARENT_EC_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PUBLIC_KEY,
            Value::Structure(_),
        ) => {
            let mut f = Fields::open(km, Tag::KEY_MATERIAL).map_err(OpError::InvalidField)?;
            let curve = curve_of(
                f.req_enum(Tag::RECOMMENDED_CURVE)
                    .map_err(OpError::InvalidField)?,
            )?;
            let q = as_bytes(f.required(Tag::Q_STRING).map_err(OpError::InvalidField)?)
                .map_err(OpError::InvalidField)?;
            f.finish().map_err(OpError::InvalidField)?;
            Ok(PublicKey::Ec {
                curve,
                point: ck_point(&q)?,
            })
        }
        (f, _) if is_public_format(f) => Err(OpError::Invalid(format!(
            "the Key Material of a {} public key has the wrong shape",
            format_name(f)
        ))),
        (f, _) => Err(wrong_format(
            "public key",
            f,
            "PKCS#1, X.509 or Transparent RSA/EC Public Key",
        )),
    }
}

fn is_public_format(f: KeyFormatType) -> bool {
    matches!(
        f,
        KeyFormatType::PKCS_1
            | KeyFormatType::X_509
            | KeyFormatType::TRANSPARENT_RSA_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_EC_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PUBLIC_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PUBLIC_KEY
    )
}

/// Zeroizes the byte strings and BigIntegers of a Key Material tree (a clear private key in a
/// request or a response).
pub fn zeroize_material(km: &mut Item) {
    match &mut km.value {
        Value::ByteString(b) => b.zeroize(),
        Value::BigInteger(b) => b.bytes_mut().zeroize(),
        Value::Structure(children) => children.iter_mut().for_each(zeroize_material),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hsm::PrivateKeyParts;
    use crate::secret::SecretBytes;

    #[test]
    fn rejects_truncated_der_with_invalid_field() {
        let p = PublicKey::Ec {
            curve: Curve::P256,
            point: ck_point(&[4u8; 65]).unwrap(),
        };
        let der = spki_der(&p).unwrap();
        assert_eq!(public_from_spki(&der).unwrap(), p);
        assert!(matches!(
            public_from_spki(&der[..der.len() - 3]),
            Err(OpError::Invalid(_))
        ));
        let km = Item::new(Tag::KEY_MATERIAL, Value::ByteString(der));
        assert!(matches!(
            private_from_material(KeyFormatType::PKCS_8, &km),
            Err(OpError::Invalid(_))
        ));
        assert!(matches!(
            public_from_material(KeyFormatType::RAW, &km),
            Err(OpError::KeyFormatNotSupported(_))
        ));
    }

    #[test]
    fn zeroizes_the_big_integers_and_bytes_of_key_material() {
        let mut km = Builder::new()
            .item(big(Tag::D, &[7; 32]))
            .opt_bytes(Tag::Q_STRING, Some(&[9; 65]))
            .build(Tag::KEY_MATERIAL);
        zeroize_material(&mut km);
        for c in km.children() {
            match &c.value {
                Value::BigInteger(b) => assert!(b.as_bytes().iter().all(|x| *x == 0)),
                Value::ByteString(b) => assert!(b.is_empty()),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn round_trips_an_ec_private_key_through_pkcs8() {
        let parts = PrivateKeyParts::Ec {
            curve: Curve::P384,
            value: SecretBytes::new((1..=48).collect()),
        };
        let km = private_material(&parts, KeyFormatType::PKCS_8).unwrap();
        assert_eq!(
            private_from_material(KeyFormatType::PKCS_8, &km).unwrap(),
            parts
        );
        let t = private_material(&parts, KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY).unwrap();
        assert_eq!(
            private_from_material(KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY, &t).unwrap(),
            parts
        );
    }
}
