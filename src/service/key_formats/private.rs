//! Private keys in PKCS#1, PKCS#8, SEC 1 and the Transparent RSA/EC Private Key structures, to
//! and from the HSM layer's [`PrivateKeyParts`]; the secret values stay in zeroizing containers.

use der::asn1::{AnyRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode};
use zeroize::Zeroize;

use super::{
    bad, big, curve_bits, curve_from_oid, curve_of, curve_oid, format_name, recommended_curve,
    trim, uint, unsigned, wrong_format, EC_PUBLIC_KEY, RSA_ENCRYPTION,
};
use crate::hsm::{Curve, PrivateKeyParts, PublicKey};
use crate::kmip::fields::{Builder, Fields};
use crate::secret::SecretBytes;
use crate::service::OpError;
use crate::ttlv::enums::KeyFormatType;
use crate::ttlv::{Item, Tag, Value};

fn rsa_parts(k: &pkcs1::RsaPrivateKey<'_>) -> PrivateKeyParts {
    let s = |u: UintRef<'_>| SecretBytes::new(u.as_bytes().to_vec());
    PrivateKeyParts::Rsa {
        modulus: k.modulus.as_bytes().to_vec(),
        public_exponent: k.public_exponent.as_bytes().to_vec(),
        private_exponent: s(k.private_exponent),
        prime_1: s(k.prime1),
        prime_2: s(k.prime2),
        exponent_1: s(k.exponent1),
        exponent_2: s(k.exponent2),
        coefficient: s(k.coefficient),
    }
}

fn private_from_pkcs1(der: &[u8]) -> Result<PrivateKeyParts, OpError> {
    let k = pkcs1::RsaPrivateKey::from_der(der).map_err(|e| bad("PKCS#1 RSA private key", e))?;
    if k.other_prime_infos.is_some() {
        return Err(OpError::NotSupported(
            "multi-prime RSA keys are not supported".into(),
        ));
    }
    Ok(rsa_parts(&k))
}

fn private_from_sec1(der: &[u8], curve: Option<Curve>) -> Result<PrivateKeyParts, OpError> {
    let k = sec1::EcPrivateKey::from_der(der).map_err(|e| bad("SEC 1 EC private key", e))?;
    let named = match k.parameters {
        Some(sec1::EcParameters::NamedCurve(oid)) => Some(curve_from_oid(oid)?),
        None => None,
    };
    let curve = named
        .or(curve)
        .ok_or_else(|| OpError::Invalid("an EC private key must name its curve".into()))?;
    let n = curve.field_bytes();
    let d = trim(k.private_key);
    if d.is_empty() || d.len() > n {
        return Err(OpError::Invalid(format!(
            "the private scalar is not a {}-byte value of {}",
            n,
            curve_bits(curve)
        )));
    }
    let mut value = vec![0u8; n - d.len()];
    value.extend_from_slice(d);
    Ok(PrivateKeyParts::Ec {
        curve,
        value: SecretBytes::new(value),
    })
}

fn private_from_pkcs8(der: &[u8]) -> Result<PrivateKeyParts, OpError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| bad("PKCS#8 private key", e))?;
    match info.algorithm.oid {
        RSA_ENCRYPTION => private_from_pkcs1(info.private_key),
        EC_PUBLIC_KEY => {
            let curve = match info.algorithm.parameters {
                Some(p) => Some(curve_from_oid(
                    p.decode_as::<ObjectIdentifier>()
                        .map_err(|e| bad("named curve", e))?,
                )?),
                None => None,
            };
            private_from_sec1(info.private_key, curve)
        }
        other => Err(OpError::NotSupported(format!(
            "private keys of algorithm {other} are not supported (RSA and EC are; DSA is out of \
             scope)"
        ))),
    }
}

/// A private key from the Key Material of a registered Private Key.
pub fn private_from_material(format: KeyFormatType, km: &Item) -> Result<PrivateKeyParts, OpError> {
    match (format, &km.value) {
        (KeyFormatType::PKCS_1, Value::ByteString(b)) => private_from_pkcs1(b),
        (KeyFormatType::PKCS_8, Value::ByteString(b)) => private_from_pkcs8(b),
        (KeyFormatType::EC_PRIVATE_KEY, Value::ByteString(b)) => private_from_sec1(b, None),
        (KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY, Value::Structure(_)) => {
            let mut f = Fields::open(km, Tag::KEY_MATERIAL).map_err(OpError::InvalidField)?;
            let mut get = |t: Tag| -> Result<Option<Vec<u8>>, OpError> {
                f.optional(t).map(unsigned).transpose()
            };
            let modulus = get(Tag::MODULUS)?;
            let d = get(Tag::PRIVATE_EXPONENT)?;
            let e = get(Tag::PUBLIC_EXPONENT)?;
            let p = get(Tag::P)?;
            let q = get(Tag::Q)?;
            let dp = get(Tag::PRIME_EXPONENT_P)?;
            let dq = get(Tag::PRIME_EXPONENT_Q)?;
            let qinv = get(Tag::CRT_COEFFICIENT)?;
            f.finish().map_err(OpError::InvalidField)?;
            let (Some(modulus), Some(d), Some(e), Some(p), Some(q), Some(dp), Some(dq), Some(qinv)) =
                (modulus, d, e, p, q, dp, dq, qinv)
            else {
                return Err(OpError::Invalid(
                    "a Transparent RSA Private Key needs every component (Modulus, Private and \
                     Public Exponent, P, Q, Prime Exponents P and Q, CRT Coefficient)"
                        .into(),
                ));
            };
            Ok(PrivateKeyParts::Rsa {
                modulus,
                public_exponent: e,
                private_exponent: SecretBytes::new(d),
                prime_1: SecretBytes::new(p),
                prime_2: SecretBytes::new(q),
                exponent_1: SecretBytes::new(dp),
                exponent_2: SecretBytes::new(dq),
                coefficient: SecretBytes::new(qinv),
            })
        }
        (
            KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PRIVATE_KEY,
            Value::Structure(_),
        ) => {
            let mut f = Fields::open(km, Tag::KEY_MATERIAL).map_err(OpError::InvalidField)?;
            let curve = curve_of(
                f.req_enum(Tag::RECOMMENDED_CURVE)
                    .map_err(OpError::InvalidField)?,
            )?;
            let mut d = unsigned(f.required(Tag::D).map_err(OpError::InvalidField)?)?;
            f.finish().map_err(OpError::InvalidField)?;
            let n = curve.field_bytes();
            if d.is_empty() || d.len() > n {
                d.zeroize();
                return Err(OpError::Invalid(format!(
                    "D is not a private scalar of {}",
                    curve_bits(curve)
                )));
            }
            let mut value = vec![0u8; n - d.len()];
            value.extend_from_slice(&d);
            d.zeroize();
            Ok(PrivateKeyParts::Ec {
                curve,
                value: SecretBytes::new(value),
            })
        }
        (
            f @ (KeyFormatType::PKCS_1
            | KeyFormatType::PKCS_8
            | KeyFormatType::EC_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PRIVATE_KEY),
            _,
        ) => Err(OpError::Invalid(format!(
            "the Key Material of a {} private key has the wrong shape",
            format_name(f)
        ))),
        (f, _) => Err(wrong_format(
            "private key",
            f,
            "PKCS#1, PKCS#8, EC Private Key or Transparent RSA/EC Private Key",
        )),
    }
}

/// The public half of a private key, when its values hold it (RSA: always).
pub fn public_of(parts: &PrivateKeyParts) -> Option<PublicKey> {
    match parts {
        PrivateKeyParts::Rsa {
            modulus,
            public_exponent,
            ..
        } => Some(PublicKey::Rsa {
            modulus: modulus.clone(),
            public_exponent: public_exponent.clone(),
        }),
        PrivateKeyParts::Ec { .. } => None,
    }
}

fn pkcs1_private(parts: &PrivateKeyParts) -> Result<SecretBytes, OpError> {
    let PrivateKeyParts::Rsa {
        modulus,
        public_exponent,
        private_exponent,
        prime_1,
        prime_2,
        exponent_1,
        exponent_2,
        coefficient,
    } = parts
    else {
        return Err(OpError::KeyFormatNotSupported(
            "PKCS#1 holds RSA keys only: ask an EC private key in PKCS#8".into(),
        ));
    };
    let k = pkcs1::RsaPrivateKey {
        modulus: uint(modulus)?,
        public_exponent: uint(public_exponent)?,
        private_exponent: uint(private_exponent.expose())?,
        prime1: uint(prime_1.expose())?,
        prime2: uint(prime_2.expose())?,
        exponent1: uint(exponent_1.expose())?,
        exponent2: uint(exponent_2.expose())?,
        coefficient: uint(coefficient.expose())?,
        other_prime_infos: None,
    };
    k.to_der()
        .map(SecretBytes::new)
        .map_err(|e| bad("RSA private key", e))
}

fn sec1_private(
    curve: Curve,
    value: &SecretBytes,
    with_curve: bool,
) -> Result<SecretBytes, OpError> {
    sec1::EcPrivateKey {
        private_key: value.expose(),
        parameters: with_curve.then(|| sec1::EcParameters::NamedCurve(curve_oid(curve))),
        public_key: None,
    }
    .to_der()
    .map(SecretBytes::new)
    .map_err(|e| bad("EC private key", e))
}

fn pkcs8_private(parts: &PrivateKeyParts) -> Result<SecretBytes, OpError> {
    let (inner, oid, curve_param);
    let algorithm = match parts {
        PrivateKeyParts::Rsa { .. } => {
            inner = pkcs1_private(parts)?;
            spki::AlgorithmIdentifierRef {
                oid: RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL),
            }
        }
        PrivateKeyParts::Ec { curve, value } => {
            inner = sec1_private(*curve, value, false)?;
            oid = curve_oid(*curve);
            curve_param = AnyRef::from(&oid);
            spki::AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: Some(curve_param),
            }
        }
    };
    pkcs8::PrivateKeyInfo::new(algorithm, inner.expose())
        .to_der()
        .map(SecretBytes::new)
        .map_err(|e| bad("private key", e))
}

/// The clear Key Material of a private key in `format`; the caller zeroizes it with the
/// response.
pub fn private_material(parts: &PrivateKeyParts, format: KeyFormatType) -> Result<Item, OpError> {
    let km = |b: SecretBytes| Item::new(Tag::KEY_MATERIAL, Value::ByteString(b.expose().to_vec()));
    Ok(match (format, parts) {
        (KeyFormatType::PKCS_1, _) => km(pkcs1_private(parts)?),
        (KeyFormatType::PKCS_8, _) => km(pkcs8_private(parts)?),
        (KeyFormatType::EC_PRIVATE_KEY, PrivateKeyParts::Ec { curve, value }) => {
            km(sec1_private(*curve, value, true)?)
        }
        (
            KeyFormatType::TRANSPARENT_RSA_PRIVATE_KEY,
            PrivateKeyParts::Rsa {
                modulus,
                public_exponent,
                private_exponent,
                prime_1,
                prime_2,
                exponent_1,
                exponent_2,
                coefficient,
            },
        ) => Builder::new()
            .item(big(Tag::MODULUS, modulus))
            .item(big(Tag::PRIVATE_EXPONENT, private_exponent.expose()))
            .item(big(Tag::PUBLIC_EXPONENT, public_exponent))
            .item(big(Tag::P, prime_1.expose()))
            .item(big(Tag::Q, prime_2.expose()))
            .item(big(Tag::PRIME_EXPONENT_P, exponent_1.expose()))
            .item(big(Tag::PRIME_EXPONENT_Q, exponent_2.expose()))
            .item(big(Tag::CRT_COEFFICIENT, coefficient.expose()))
            .build(Tag::KEY_MATERIAL),
        (
            KeyFormatType::TRANSPARENT_EC_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDSA_PRIVATE_KEY
            | KeyFormatType::TRANSPARENT_ECDH_PRIVATE_KEY,
            PrivateKeyParts::Ec { curve, value },
        ) => Builder::new()
            .enumeration(Tag::RECOMMENDED_CURVE, recommended_curve(*curve).0)
            .item(big(Tag::D, value.expose()))
            .build(Tag::KEY_MATERIAL),
        (f, PrivateKeyParts::Rsa { .. }) => {
            return Err(wrong_format(
                "RSA private key",
                f,
                "PKCS#1, PKCS#8 or Transparent RSA Private Key",
            ))
        }
        (f, PrivateKeyParts::Ec { .. }) => {
            return Err(wrong_format(
                "EC private key",
                f,
                "PKCS#8, EC Private Key or Transparent EC Private Key",
            ))
        }
    })
}
