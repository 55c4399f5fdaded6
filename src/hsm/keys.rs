//! Managed keys: generated in the HSM as private, sensitive, extractable session objects,
//! wrapped under the newest KEK with KWP, and destroyed; imported from clear material the same
//! way; unwrapped for use as non-extractable copies (cached); wrapped for export under another
//! managed AES key (KWP) or an RSA public key (OAEP); read back in the clear only through
//! [`Hsm::export_secret`].
//!
//! KWP and lengths: a generic secret (SecretData) whose length is not a multiple of 8 is
//! zero-padded to one before it enters the HSM and its true length is kept in
//! [`WrappedKey::value_len`]; every KEK blob is therefore the KWP of a multiple of 8 bytes, the
//! case where SoftHSM's output matches RFC 5649 byte for byte.

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use zeroize::{Zeroize, Zeroizing};

use super::profile::PlaintextExport;
use super::{
    HashAlg, Hsm, HsmError, KeyKind, KeyPairSpec, KeyUsage, ManagedKey, Op, PrivateKeyParts,
    PublicKey, SecretBytes, Transient, WrappedKey,
};

/// Largest generic secret accepted (bytes): bounds a Register request's object size.
pub const MAX_GENERIC_SECRET: usize = 4096;

fn key_type(kind: KeyKind) -> KeyType {
    match kind {
        KeyKind::Aes => KeyType::AES,
        KeyKind::Des3 => KeyType::DES3,
        KeyKind::Des => KeyType::DES,
        KeyKind::GenericSecret => KeyType::GENERIC_SECRET,
        KeyKind::Rsa { .. } => KeyType::RSA,
        KeyKind::Ec(_) => KeyType::EC,
    }
}

fn check_secret_len(kind: KeyKind, len: usize) -> Result<(), HsmError> {
    let ok = match kind {
        KeyKind::Aes => matches!(len, 16 | 24 | 32),
        KeyKind::Des3 => len == 24,
        KeyKind::Des => len == 8,
        KeyKind::GenericSecret => (1..=MAX_GENERIC_SECRET).contains(&len),
        _ => return Err(HsmError::InvalidArgument("not a secret key kind")),
    };
    if ok {
        Ok(())
    } else {
        Err(HsmError::InvalidArgument(match kind {
            KeyKind::Aes => "AES keys are 16, 24 or 32 bytes",
            KeyKind::Des3 => "DES3 keys are 24 bytes",
            KeyKind::Des => "DES keys are 8 bytes",
            _ => "generic secrets are 1 to 4096 bytes",
        }))
    }
}

fn padded_len(len: usize) -> usize {
    len.div_ceil(8) * 8
}

/// Usage attributes, each set explicitly (SoftHSM defaults most of them to true).
fn usage_attrs(kind: KeyKind, u: KeyUsage) -> Vec<Attribute> {
    match kind {
        KeyKind::GenericSecret => vec![
            Attribute::Sign(u.sign),
            Attribute::Verify(u.verify),
            Attribute::Derive(u.derive),
        ],
        KeyKind::Aes | KeyKind::Des3 | KeyKind::Des => vec![
            Attribute::Encrypt(u.encrypt),
            Attribute::Decrypt(u.decrypt),
            Attribute::Sign(u.sign),
            Attribute::Verify(u.verify),
            Attribute::Wrap(u.wrap),
            Attribute::Unwrap(u.unwrap),
            Attribute::Derive(u.derive),
        ],
        KeyKind::Rsa { .. } => vec![
            Attribute::Sign(u.sign),
            Attribute::Decrypt(u.decrypt),
            Attribute::Unwrap(u.unwrap),
        ],
        KeyKind::Ec(_) => vec![Attribute::Sign(u.sign), Attribute::Derive(u.derive)],
    }
}

/// Template of a private session copy of `kind`. Never `CKA_VALUE_LEN`: SoftHSM rejects it in
/// unwrap templates.
fn session_key_template(
    kind: KeyKind,
    usage: KeyUsage,
    sensitive: bool,
    extractable: bool,
) -> Vec<Attribute> {
    let class = if kind.is_secret() {
        ObjectClass::SECRET_KEY
    } else {
        ObjectClass::PRIVATE_KEY
    };
    let mut t = vec![
        Attribute::Class(class),
        Attribute::KeyType(key_type(kind)),
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(sensitive),
        Attribute::Extractable(extractable),
    ];
    t.extend(usage_attrs(kind, usage));
    t
}

pub(crate) fn hash_mechanism(h: HashAlg) -> MechanismType {
    match h {
        HashAlg::Sha1 => MechanismType::SHA1,
        HashAlg::Sha224 => MechanismType::SHA224,
        HashAlg::Sha256 => MechanismType::SHA256,
        HashAlg::Sha384 => MechanismType::SHA384,
        HashAlg::Sha512 => MechanismType::SHA512,
    }
}

pub(crate) fn mgf(h: HashAlg) -> PkcsMgfType {
    match h {
        HashAlg::Sha1 => PkcsMgfType::MGF1_SHA1,
        HashAlg::Sha224 => PkcsMgfType::MGF1_SHA224,
        HashAlg::Sha256 => PkcsMgfType::MGF1_SHA256,
        HashAlg::Sha384 => PkcsMgfType::MGF1_SHA384,
        HashAlg::Sha512 => PkcsMgfType::MGF1_SHA512,
    }
}

fn profile_hash_name(h: HashAlg) -> super::profile::HashName {
    use super::profile::HashName;
    match h {
        HashAlg::Sha1 => HashName::Sha1,
        HashAlg::Sha224 => HashName::Sha224,
        HashAlg::Sha256 => HashName::Sha256,
        HashAlg::Sha384 => HashName::Sha384,
        HashAlg::Sha512 => HashName::Sha512,
    }
}

/// Template of a public key session object built from its public values.
pub(crate) fn public_template(public: &PublicKey) -> Vec<Attribute> {
    let mut t = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Token(false),
        Attribute::Verify(true),
    ];
    match public {
        PublicKey::Rsa {
            modulus,
            public_exponent,
        } => t.extend([
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(modulus.clone()),
            Attribute::PublicExponent(public_exponent.clone()),
            Attribute::Encrypt(true),
            Attribute::Wrap(true),
        ]),
        PublicKey::Ec { curve, point } => t.extend([
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(curve.der_oid().to_vec()),
            Attribute::EcPoint(point.clone()),
        ]),
    }
    t
}

impl Op<'_> {
    /// Wraps session object `key` under the newest KEK.
    fn wrap_under_kek(
        &self,
        key: ObjectHandle,
        kind: KeyKind,
        value_len: u32,
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        let (version, kek) = self.masters()?.newest_kek()?;
        let code = self.hsm.wrap_code;
        let blob = self.wrap_by_code(code, kek, key)?;
        Ok(WrappedKey {
            kek_version: version,
            mechanism: code,
            kind,
            value_len,
            usage,
            blob,
        })
    }

    /// Unwraps `wk` into a session object with the given protections.
    pub(crate) fn unwrap_copy(
        &self,
        wk: &WrappedKey,
        sensitive: bool,
        extractable: bool,
    ) -> Result<ObjectHandle, HsmError> {
        let kek = self.masters()?.kek(wk.kek_version)?;
        let t = session_key_template(wk.kind, wk.usage, sensitive, extractable);
        self.unwrap_by_code(wk.mechanism, kek, &wk.blob, &t)
    }

    /// The non-extractable copy of a managed key in this session: cached, or unwrapped now.
    /// The returned guard destroys the copy only when the cache did not take it.
    pub(crate) fn use_key(&self, mk: ManagedKey<'_>) -> Result<KeyInUse<'_>, HsmError> {
        let cache = &self.hsm.cache;
        let id = (mk.unique_id, self.generation);
        if let Some(h) = cache.get(id, self.s) {
            return Ok(KeyInUse {
                handle: h,
                _transient: None,
            });
        }
        let h = self.unwrap_copy(mk.wrapped, true, false)?;
        if cache.insert(id, self.s, h) {
            Ok(KeyInUse {
                handle: h,
                _transient: None,
            })
        } else {
            Ok(KeyInUse {
                handle: h,
                _transient: Some(Transient::new(self.s, h)),
            })
        }
    }
}

/// A managed key's handle for one operation.
pub(crate) struct KeyInUse<'a> {
    pub(crate) handle: ObjectHandle,
    _transient: Option<Transient<'a>>,
}

impl Hsm {
    /// Generates a secret key of `len` bytes (AES 16/24/32, DES3 24, generic secret 1–4096;
    /// a generic secret's length is rounded up to a multiple of 8) in the HSM and returns it
    /// wrapped under the newest KEK. The clear value never leaves the HSM.
    pub fn generate_secret(
        &self,
        kind: KeyKind,
        len: usize,
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        check_secret_len(kind, len)?;
        let len = if kind == KeyKind::GenericSecret {
            padded_len(len)
        } else {
            len
        };
        let trusted = self.profile.trusted_kek;
        self.run(|op| {
            let mut t = session_key_template(kind, KeyUsage::default(), true, true);
            let mech = match kind {
                KeyKind::Aes => Mechanism::AesKeyGen,
                KeyKind::Des3 => Mechanism::Des3KeyGen,
                KeyKind::Des => Mechanism::DesKeyGen,
                _ => Mechanism::GenericSecretKeyGen,
            };
            if !matches!(kind, KeyKind::Des3 | KeyKind::Des) {
                t.push(Attribute::ValueLen((len as u64).into()));
            }
            if trusted {
                t.push(Attribute::WrapWithTrusted(true));
            }
            let key =
                op.s.generate_key(&mech, &t)
                    .map_err(|e| HsmError::from_ck("C_GenerateKey", e))?;
            let key = Transient::new(op.s, key);
            op.wrap_under_kek(key.handle, kind, len as u32, usage)
        })
    }

    /// Generates a key pair; returns the private key wrapped under the newest KEK and the
    /// public values.
    pub fn generate_key_pair(
        &self,
        spec: KeyPairSpec,
        usage: KeyUsage,
    ) -> Result<(WrappedKey, PublicKey), HsmError> {
        let (kind, mech, mut public_t) = match spec {
            KeyPairSpec::Rsa { modulus_bits } => {
                if !(1024..=4096).contains(&modulus_bits) || modulus_bits % 8 != 0 {
                    return Err(HsmError::InvalidArgument(
                        "RSA modulus must be 1024 to 4096 bits, a multiple of 8",
                    ));
                }
                (
                    KeyKind::Rsa { modulus_bits },
                    Mechanism::RsaPkcsKeyPairGen,
                    vec![
                        Attribute::ModulusBits((modulus_bits as u64).into()),
                        Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                        Attribute::Encrypt(true),
                        Attribute::Wrap(true),
                    ],
                )
            }
            KeyPairSpec::Ec(curve) => (
                KeyKind::Ec(curve),
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(curve.der_oid().to_vec())],
            ),
        };
        public_t.extend([Attribute::Token(false), Attribute::Verify(true)]);
        let mut private_t = session_key_template(kind, KeyUsage::default(), true, true);
        private_t.retain(|a| !matches!(a, Attribute::Class(_) | Attribute::KeyType(_)));
        if self.profile.trusted_kek {
            private_t.push(Attribute::WrapWithTrusted(true));
        }
        self.run(|op| {
            let (public, private) =
                op.s.generate_key_pair(&mech, &public_t, &private_t)
                    .map_err(|e| HsmError::from_ck("C_GenerateKeyPair", e))?;
            let public = Transient::new(op.s, public);
            let private = Transient::new(op.s, private);
            let values = read_public(op, public.handle, kind)?;
            let wk = op.wrap_under_kek(private.handle, kind, 0, usage)?;
            Ok((wk, values))
        })
    }

    /// Imports clear secret material (KMIP Register): creates a sensitive session object from
    /// `value`, wraps it under the newest KEK, destroys the object, and zeroizes every copy of
    /// the bytes this process made.
    pub fn import_secret(
        &self,
        kind: KeyKind,
        value: &[u8],
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        check_secret_len(kind, value.len())?;
        let mut padded = Zeroizing::new(value.to_vec());
        padded.resize(padded_len(value.len()), 0);
        let mut t = session_key_template(kind, KeyUsage::default(), true, true);
        t.push(Attribute::Value(padded.to_vec()));
        let result = self.run(|op| {
            let key =
                op.s.create_object(&t)
                    .map_err(|e| HsmError::from_ck("C_CreateObject", e))?;
            let key = Transient::new(op.s, key);
            op.wrap_under_kek(key.handle, kind, value.len() as u32, usage)
        });
        zeroize_template(&mut t);
        result
    }

    /// Imports a clear private key (KMIP Register): creates a sensitive, extractable session
    /// object from `parts` (`C_CreateObject`), wraps it under the newest KEK, destroys the
    /// object, and zeroizes the template's copies of the secret values.
    pub fn import_private(
        &self,
        parts: &PrivateKeyParts,
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        let kind = parts.kind();
        let mut t = session_key_template(kind, KeyUsage::default(), true, true);
        match parts {
            PrivateKeyParts::Rsa {
                modulus,
                public_exponent,
                private_exponent,
                prime_1,
                prime_2,
                exponent_1,
                exponent_2,
                coefficient,
            } => {
                if !(512..=MAX_RSA_BITS).contains(&super::modulus_bits(modulus)) {
                    return Err(HsmError::InvalidArgument(
                        "an RSA private key's modulus is 512 to 16384 bits",
                    ));
                }
                t.extend([
                    Attribute::Modulus(modulus.clone()),
                    Attribute::PublicExponent(public_exponent.clone()),
                    Attribute::PrivateExponent(private_exponent.expose().to_vec()),
                    Attribute::Prime1(prime_1.expose().to_vec()),
                    Attribute::Prime2(prime_2.expose().to_vec()),
                    Attribute::Exponent1(exponent_1.expose().to_vec()),
                    Attribute::Exponent2(exponent_2.expose().to_vec()),
                    Attribute::Coefficient(coefficient.expose().to_vec()),
                ]);
            }
            PrivateKeyParts::Ec { curve, value } => t.extend([
                Attribute::EcParams(curve.der_oid().to_vec()),
                Attribute::Value(value.expose().to_vec()),
            ]),
        }
        if self.profile.trusted_kek {
            t.push(Attribute::WrapWithTrusted(true));
        }
        let result = self.run(|op| {
            let key =
                op.s.create_object(&t)
                    .map_err(|e| HsmError::from_ck("C_CreateObject", e))?;
            let key = Transient::new(op.s, key);
            op.wrap_under_kek(key.handle, kind, 0, usage)
        });
        zeroize_template(&mut t);
        result
    }

    /// Reads a private key's clear values for an authorised KMIP Get: unwraps a transient,
    /// non-sensitive, extractable copy, reads its components, destroys the copy. Forbidden when
    /// the profile says the HSM does not allow plaintext export.
    pub fn export_private(&self, wk: &WrappedKey) -> Result<PrivateKeyParts, HsmError> {
        if self.profile.plaintext_export == PlaintextExport::Forbidden {
            return Err(HsmError::InvalidArgument(
                "the HSM profile forbids plaintext export (plaintext_export = \"forbidden\")",
            ));
        }
        let types: &[AttributeType] = match wk.kind {
            KeyKind::Rsa { .. } => &[
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Prime2,
                AttributeType::Exponent1,
                AttributeType::Exponent2,
                AttributeType::Coefficient,
            ],
            KeyKind::Ec(_) => &[AttributeType::Value],
            _ => return Err(HsmError::InvalidArgument("not a private key kind")),
        };
        self.run(|op| {
            let copy = Transient::new(op.s, op.unwrap_copy(wk, false, true)?);
            let attrs =
                op.s.get_attributes(copy.handle, types)
                    .map_err(|e| HsmError::from_ck("C_GetAttributeValue", e))?;
            Ok(parts_from(wk.kind, attrs))
        })?
        .ok_or(HsmError::InvalidArgument(
            "the token did not return every component of the exported private key",
        ))
    }

    /// Re-wraps a blob under KEK `to_version` inside the HSM (KEK rotation).
    pub fn rewrap(&self, wk: &WrappedKey, to_version: u32) -> Result<WrappedKey, HsmError> {
        self.run(|op| {
            let copy = Transient::new(op.s, op.unwrap_copy(wk, true, true)?);
            let kek = op.masters()?.kek(to_version)?;
            let blob = op.wrap_by_code(self.wrap_code, kek, copy.handle)?;
            Ok(WrappedKey {
                kek_version: to_version,
                mechanism: self.wrap_code,
                blob,
                ..wk.clone()
            })
        })
    }

    /// Reads a secret key's clear value for an authorised KMIP Get: unwraps a transient,
    /// non-sensitive, extractable copy, reads `CKA_VALUE`, destroys the copy. Forbidden when the
    /// profile says the HSM does not allow plaintext export.
    pub fn export_secret(&self, wk: &WrappedKey) -> Result<SecretBytes, HsmError> {
        if !wk.kind.is_secret() {
            return Err(HsmError::InvalidArgument(
                "only secret keys are exported in the clear; wrap private keys instead",
            ));
        }
        if self.profile.plaintext_export == PlaintextExport::Forbidden {
            return Err(HsmError::InvalidArgument(
                "the HSM profile forbids plaintext export (plaintext_export = \"forbidden\")",
            ));
        }
        self.run(|op| {
            let copy = Transient::new(op.s, op.unwrap_copy(wk, false, true)?);
            let attrs =
                op.s.get_attributes(copy.handle, &[AttributeType::Value])
                    .map_err(|e| HsmError::from_ck("C_GetAttributeValue", e))?;
            for a in attrs {
                if let Attribute::Value(mut v) = a {
                    let n = (wk.value_len as usize).min(v.len());
                    let out = SecretBytes::new(v[..n].to_vec());
                    v.zeroize();
                    return Ok(out);
                }
            }
            Err(HsmError::InvalidArgument(
                "the token did not return CKA_VALUE of the exported copy",
            ))
        })
    }

    /// Wraps managed key `target` under managed AES key `wrapping` with KWP (KMIP Get with a
    /// key-wrapping specification). `wrapping` needs `usage.wrap`.
    pub fn wrap_with_key(
        &self,
        target: ManagedKey<'_>,
        wrapping: ManagedKey<'_>,
    ) -> Result<Vec<u8>, HsmError> {
        if wrapping.wrapped.kind != KeyKind::Aes || !wrapping.wrapped.usage.wrap {
            return Err(HsmError::InvalidArgument(
                "the wrapping key must be an AES key allowed to wrap",
            ));
        }
        self.run(|op| {
            let w = op.use_key(wrapping)?;
            let copy = Transient::new(op.s, op.unwrap_copy(target.wrapped, true, true)?);
            op.wrap_by_code(self.wrap_code, w.handle, copy.handle)
        })
    }

    /// Imports a key wrapped with KWP under managed AES key `unwrapping` (KMIP Register of a
    /// wrapped key block): unwraps it in the HSM and re-wraps it under the newest KEK.
    pub fn unwrap_with_key(
        &self,
        blob: &[u8],
        unwrapping: ManagedKey<'_>,
        kind: KeyKind,
        value_len: u32,
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        if unwrapping.wrapped.kind != KeyKind::Aes || !unwrapping.wrapped.usage.unwrap {
            return Err(HsmError::InvalidArgument(
                "the unwrapping key must be an AES key allowed to unwrap",
            ));
        }
        self.run(|op| {
            let w = op.use_key(unwrapping)?;
            let t = session_key_template(kind, KeyUsage::default(), true, true);
            let copy = Transient::new(op.s, op.unwrap_by_code(self.wrap_code, w.handle, blob, &t)?);
            op.wrap_under_kek(copy.handle, kind, value_len, usage)
        })
    }

    pub(super) fn oaep(&self, hash: HashAlg) -> Result<PkcsOaepParams<'static>, HsmError> {
        if !self.profile.oaep_hashes.contains(&profile_hash_name(hash)) {
            return Err(HsmError::MechanismUnsupported {
                mechanism: "CKM_RSA_PKCS_OAEP",
                code: 0x9,
                purpose: "RSA-OAEP with this hash (see the profile's oaep_hashes)",
            });
        }
        Ok(PkcsOaepParams::new(
            hash_mechanism(hash),
            mgf(hash),
            PkcsOaepSource::empty(),
        ))
    }

    /// Wraps managed key `target` under an RSA public key with OAEP (hash and MGF1 hash
    /// `hash`).
    pub fn wrap_with_rsa(
        &self,
        target: ManagedKey<'_>,
        public: &PublicKey,
        hash: HashAlg,
    ) -> Result<Vec<u8>, HsmError> {
        if !matches!(public, PublicKey::Rsa { .. }) {
            return Err(HsmError::InvalidArgument(
                "OAEP wrapping needs an RSA public key",
            ));
        }
        let params = self.oaep(hash)?;
        self.run(|op| {
            let pubkey = Transient::new(
                op.s,
                op.s.create_object(&public_template(public))
                    .map_err(|e| HsmError::from_ck("C_CreateObject", e))?,
            );
            let copy = Transient::new(op.s, op.unwrap_copy(target.wrapped, true, true)?);
            op.s.wrap_key(&Mechanism::RsaPkcsOaep(params), pubkey.handle, copy.handle)
                .map_err(|e| HsmError::from_ck("C_WrapKey", e))
        })
    }

    /// Imports a key wrapped with RSA-OAEP under managed RSA private key `private` (which needs
    /// `usage.unwrap`), re-wrapping it under the newest KEK.
    pub fn unwrap_with_rsa(
        &self,
        blob: &[u8],
        private: ManagedKey<'_>,
        hash: HashAlg,
        kind: KeyKind,
        value_len: u32,
        usage: KeyUsage,
    ) -> Result<WrappedKey, HsmError> {
        if !matches!(private.wrapped.kind, KeyKind::Rsa { .. }) || !private.wrapped.usage.unwrap {
            return Err(HsmError::InvalidArgument(
                "the unwrapping key must be an RSA private key allowed to unwrap",
            ));
        }
        let params = self.oaep(hash)?;
        self.run(|op| {
            let k = op.use_key(private)?;
            let t = session_key_template(kind, KeyUsage::default(), true, true);
            let copy = Transient::new(
                op.s,
                op.s.unwrap_key(&Mechanism::RsaPkcsOaep(params), k.handle, blob, &t)
                    .map_err(|e| HsmError::from_ck("C_UnwrapKey", e))?,
            );
            op.wrap_under_kek(copy.handle, kind, value_len, usage)
        })
    }
}

/// Largest RSA modulus accepted on import (bits): bounds a Register request's key size.
pub const MAX_RSA_BITS: u32 = 16384;

/// Zeroizes the secret values of a template (`CKA_VALUE` and the RSA private components).
fn zeroize_template(t: &mut [Attribute]) {
    for a in t.iter_mut() {
        match a {
            Attribute::Value(v)
            | Attribute::PrivateExponent(v)
            | Attribute::Prime1(v)
            | Attribute::Prime2(v)
            | Attribute::Exponent1(v)
            | Attribute::Exponent2(v)
            | Attribute::Coefficient(v) => v.zeroize(),
            _ => {}
        }
    }
}

/// The components of an exported private key, moved out of the token's answer (the answer's
/// copies are zeroized). `None` when one is missing.
fn parts_from(kind: KeyKind, mut attrs: Vec<Attribute>) -> Option<PrivateKeyParts> {
    let mut take = |want: AttributeType| -> Option<SecretBytes> {
        attrs.iter_mut().find_map(|a| {
            let v = match (a, want) {
                (Attribute::Modulus(v), AttributeType::Modulus)
                | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
                | (Attribute::PrivateExponent(v), AttributeType::PrivateExponent)
                | (Attribute::Prime1(v), AttributeType::Prime1)
                | (Attribute::Prime2(v), AttributeType::Prime2)
                | (Attribute::Exponent1(v), AttributeType::Exponent1)
                | (Attribute::Exponent2(v), AttributeType::Exponent2)
                | (Attribute::Coefficient(v), AttributeType::Coefficient)
                | (Attribute::Value(v), AttributeType::Value) => v,
                _ => return None,
            };
            let out = SecretBytes::new(v.clone());
            v.zeroize();
            Some(out)
        })
    };
    match kind {
        KeyKind::Rsa { .. } => Some(PrivateKeyParts::Rsa {
            modulus: take(AttributeType::Modulus)?.expose().to_vec(),
            public_exponent: take(AttributeType::PublicExponent)?.expose().to_vec(),
            private_exponent: take(AttributeType::PrivateExponent)?,
            prime_1: take(AttributeType::Prime1)?,
            prime_2: take(AttributeType::Prime2)?,
            exponent_1: take(AttributeType::Exponent1)?,
            exponent_2: take(AttributeType::Exponent2)?,
            coefficient: take(AttributeType::Coefficient)?,
        }),
        KeyKind::Ec(curve) => Some(PrivateKeyParts::Ec {
            curve,
            value: take(AttributeType::Value)?,
        }),
        _ => None,
    }
}

fn read_public(op: &Op<'_>, h: ObjectHandle, kind: KeyKind) -> Result<PublicKey, HsmError> {
    let get = |types: &[AttributeType]| {
        op.s.get_attributes(h, types)
            .map_err(|e| HsmError::from_ck("C_GetAttributeValue", e))
    };
    match kind {
        KeyKind::Rsa { .. } => {
            let (mut modulus, mut public_exponent) = (Vec::new(), Vec::new());
            for a in get(&[AttributeType::Modulus, AttributeType::PublicExponent])? {
                match a {
                    Attribute::Modulus(m) => modulus = m,
                    Attribute::PublicExponent(e) => public_exponent = e,
                    _ => {}
                }
            }
            Ok(PublicKey::Rsa {
                modulus,
                public_exponent,
            })
        }
        KeyKind::Ec(curve) => {
            let point = get(&[AttributeType::EcPoint])?
                .into_iter()
                .find_map(|a| match a {
                    Attribute::EcPoint(p) => Some(p),
                    _ => None,
                })
                .unwrap_or_default();
            Ok(PublicKey::Ec { curve, point })
        }
        _ => Err(HsmError::InvalidArgument("not a key pair kind")),
    }
}
