//! Master keys: the KEK versions (`hsmkms-kek-v{N}`, AES-256, wrap/unwrap only) and the
//! record-MAC key (`hsmkms-mac-v1`, HMAC-SHA256), both token objects that are private,
//! sensitive and never extractable. `hsmkms init` creates them, refusing to overwrite; loading
//! refuses master keys that lack any of these protections. An `init` interrupted between its two
//! keys leaves one family present: [`MasterKeyInventory`] tells, and
//! [`Hsm::complete_master_keys`] creates what is missing (the CLI allows it only next to an
//! empty store).

use std::collections::BTreeMap;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use super::{Hsm, HsmError, Op};

const KEK_PREFIX: &str = "hsmkms-kek-v";
const MAC_PREFIX: &str = "hsmkms-mac-v";

/// The label of KEK version `v`.
pub fn kek_label(v: u32) -> String {
    format!("{KEK_PREFIX}{v}")
}

/// The label of record-MAC key version `v`.
pub fn mac_label(v: u32) -> String {
    format!("{MAC_PREFIX}{v}")
}

/// Handles of the master keys found in the token.
#[derive(Debug, Clone, Default)]
pub(crate) struct MasterHandles {
    pub(crate) keks: BTreeMap<u32, ObjectHandle>,
    pub(crate) macs: BTreeMap<u32, ObjectHandle>,
}

impl MasterHandles {
    pub(crate) fn kek(&self, version: u32) -> Result<ObjectHandle, HsmError> {
        self.keks
            .get(&version)
            .copied()
            .ok_or(if self.keks.is_empty() {
                HsmError::MasterKeyMissing {
                    label: kek_label(1),
                }
            } else {
                HsmError::KekVersionMissing { version }
            })
    }

    pub(crate) fn newest_kek(&self) -> Result<(u32, ObjectHandle), HsmError> {
        self.keks
            .iter()
            .next_back()
            .map(|(v, h)| (*v, *h))
            .ok_or(HsmError::MasterKeyMissing {
                label: kek_label(1),
            })
    }

    pub(crate) fn mac(&self) -> Result<ObjectHandle, HsmError> {
        self.macs
            .values()
            .next_back()
            .copied()
            .ok_or(HsmError::MasterKeyMissing {
                label: mac_label(1),
            })
    }
}

fn parse_version(label: &str, prefix: &str) -> Option<u32> {
    label.strip_prefix(prefix)?.parse().ok().filter(|v| *v > 0)
}

/// Finds every master key in the token and checks its protections.
pub(crate) fn find_masters(s: &Session) -> Result<MasterHandles, HsmError> {
    let handles = s
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Token(true),
        ])
        .map_err(|e| HsmError::from_ck("C_FindObjects", e))?;
    let mut found = MasterHandles::default();
    for h in handles {
        let attrs = s
            .get_attributes(
                h,
                &[
                    AttributeType::Label,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                ],
            )
            .map_err(|e| HsmError::from_ck("C_GetAttributeValue", e))?;
        let mut label = String::new();
        let (mut private, mut sensitive, mut extractable) = (false, false, true);
        for a in attrs {
            match a {
                Attribute::Label(l) => label = String::from_utf8_lossy(&l).trim_end().to_owned(),
                Attribute::Private(b) => private = b,
                Attribute::Sensitive(b) => sensitive = b,
                Attribute::Extractable(b) => extractable = b,
                _ => {}
            }
        }
        let slot = if let Some(v) = parse_version(&label, KEK_PREFIX) {
            (v, &mut found.keks)
        } else if let Some(v) = parse_version(&label, MAC_PREFIX) {
            (v, &mut found.macs)
        } else {
            continue;
        };
        let reason = if !private {
            Some("it is a public object (CKA_PRIVATE=false): SoftHSM stores its value unencrypted; destroy it and run init again")
        } else if !sensitive {
            Some("CKA_SENSITIVE is false")
        } else if extractable {
            Some("CKA_EXTRACTABLE is true")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(HsmError::InsecureMasterKey { label, reason });
        }
        if slot.1.insert(slot.0, h).is_some() {
            return Err(HsmError::InsecureMasterKey {
                label,
                reason: "two token objects carry this label: remove the duplicate",
            });
        }
    }
    Ok(found)
}

/// Refuses a master-key template that would not be a private, sensitive, non-extractable token
/// object. `init` checks every template with it before `C_GenerateKey`.
pub fn validate_master_template(label: &str, template: &[Attribute]) -> Result<(), HsmError> {
    let flag = |want: fn(&Attribute) -> Option<bool>| template.iter().find_map(want);
    let checks: [(Option<bool>, bool, &'static str); 4] = [
        (
            flag(|a| match a {
                Attribute::Private(b) => Some(*b),
                _ => None,
            }),
            true,
            "a master key must be private (CKA_PRIVATE=true): SoftHSM stores public objects unencrypted",
        ),
        (
            flag(|a| match a {
                Attribute::Token(b) => Some(*b),
                _ => None,
            }),
            true,
            "a master key must be a token object (CKA_TOKEN=true)",
        ),
        (
            flag(|a| match a {
                Attribute::Sensitive(b) => Some(*b),
                _ => None,
            }),
            true,
            "a master key must be sensitive (CKA_SENSITIVE=true)",
        ),
        (
            flag(|a| match a {
                Attribute::Extractable(b) => Some(*b),
                _ => None,
            }),
            false,
            "a master key must not be extractable (CKA_EXTRACTABLE=false)",
        ),
    ];
    for (value, want, reason) in checks {
        if value != Some(want) {
            return Err(HsmError::InsecureMasterKey {
                label: label.into(),
                reason,
            });
        }
    }
    Ok(())
}

fn kek_template(label: &str, trusted: bool) -> Vec<Attribute> {
    let mut t = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32.into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Encrypt(false),
        Attribute::Decrypt(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(label.as_bytes().to_vec()),
    ];
    if trusted {
        t.push(Attribute::Trusted(true));
    }
    t
}

fn mac_template(label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::ValueLen(32.into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Decrypt(false),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(label.as_bytes().to_vec()),
    ]
}

/// What `init` created, and which master keys it found already there (those of an
/// interrupted `init` it completed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub created: Vec<String>,
    pub existing: Vec<String>,
}

/// Which master keys the token holds, and which of those `init` creates it lacks: a KEK (any
/// version) and a record-MAC key (any version). An `init` interrupted after its first key
/// leaves exactly one of the two families present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKeyInventory {
    /// Labels of the master keys found.
    pub present: Vec<String>,
    /// Labels `init` would create: `hsmkms-kek-v1` when no KEK exists, `hsmkms-mac-v1` when no
    /// record-MAC key exists.
    pub missing: Vec<String>,
}

impl MasterKeyInventory {
    fn of(m: &MasterHandles) -> Self {
        let present = (m.keks.keys().map(|v| kek_label(*v)))
            .chain(m.macs.keys().map(|v| mac_label(*v)))
            .collect();
        let missing = [
            m.keks.is_empty().then(|| kek_label(1)),
            m.macs.is_empty().then(|| mac_label(1)),
        ]
        .into_iter()
        .flatten()
        .collect();
        Self { present, missing }
    }

    /// Every master key the server needs is there.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// No master key at all: a fresh token.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }
}

impl Op<'_> {
    fn create_master(
        &self,
        label: &str,
        template: &[Attribute],
        mac: bool,
    ) -> Result<(), HsmError> {
        validate_master_template(label, template)?;
        let mech = if mac {
            Mechanism::GenericSecretKeyGen
        } else {
            Mechanism::AesKeyGen
        };
        self.s
            .generate_key(&mech, template)
            .map_err(|e| HsmError::from_ck("C_GenerateKey", e))?;
        tracing::info!(label, "created master key");
        Ok(())
    }
}

impl Hsm {
    /// Which master keys the token holds and which `init` would create.
    pub fn master_key_inventory(&self) -> Result<MasterKeyInventory, HsmError> {
        self.run(|op| Ok(MasterKeyInventory::of(&op.masters()?)))
    }

    /// `hsmkms init` on a fresh token: creates KEK v1, then record-MAC key v1. Refuses when any
    /// master key exists.
    pub fn init_master_keys(&self) -> Result<InitReport, HsmError> {
        self.create_initial_master_keys(false)
    }

    /// Completes an interrupted `init`: creates KEK v1 when the token holds no KEK and
    /// record-MAC key v1 when it holds no record-MAC key, and touches no key that exists.
    /// Refuses ([`HsmError::MasterKeyExists`]) when nothing is missing.
    ///
    /// A new key cannot stand in for a lost one: the caller must have made sure that no store
    /// holds records made under the master keys (`hsmkms init` and `hsmkms container` check
    /// that the store is empty or absent, see `cli::init::ensure_master_keys`).
    pub fn complete_master_keys(&self) -> Result<InitReport, HsmError> {
        self.create_initial_master_keys(true)
    }

    /// KEK v1 and record-MAC key v1 where missing, in that order; with `complete` false, only
    /// on a token without any master key.
    fn create_initial_master_keys(&self, complete: bool) -> Result<InitReport, HsmError> {
        let trusted = self.profile.trusted_kek;
        let report = self.run(|op| {
            let m = op.masters()?;
            let inventory = MasterKeyInventory::of(&m);
            if let Some(label) = inventory.present.first() {
                if !complete || inventory.is_complete() {
                    return Err(HsmError::MasterKeyExists {
                        label: label.clone(),
                    });
                }
            }
            let mut created = Vec::new();
            if m.keks.is_empty() {
                let kek = kek_label(1);
                op.create_master(&kek, &kek_template(&kek, trusted), false)?;
                created.push(kek);
            }
            if m.macs.is_empty() {
                let mac = mac_label(1);
                op.create_master(&mac, &mac_template(&mac), true)?;
                created.push(mac);
            }
            Ok(InitReport {
                created,
                existing: inventory.present,
            })
        });
        *super::lock_plain(&self.masters) = None;
        report
    }

    /// `hsmkms init --new-kek-version`: adds KEK version newest+1 and returns it. Existing
    /// blobs keep naming their version; re-wrapping them is [`Hsm::rewrap`].
    pub fn add_kek_version(&self) -> Result<u32, HsmError> {
        let trusted = self.profile.trusted_kek;
        let v = self.run(|op| {
            let (newest, _) = op.masters()?.newest_kek()?;
            let v = newest + 1;
            let label = kek_label(v);
            op.create_master(&label, &kek_template(&label, trusted), false)?;
            Ok(v)
        });
        *super::lock_plain(&self.masters) = None;
        v
    }

    /// The KEK versions in the token, oldest first.
    pub fn kek_versions(&self) -> Result<Vec<u32>, HsmError> {
        self.run(|op| Ok(op.masters()?.keks.keys().copied().collect()))
    }

    /// The newest KEK version (the one new keys are wrapped under).
    pub fn current_kek_version(&self) -> Result<u32, HsmError> {
        self.run(|op| Ok(op.masters()?.newest_kek()?.0))
    }

    /// Allows or forbids wrapping under KEK `version` (`CKA_WRAP`): after a rotation, the old
    /// version keeps unwrapping what it wrapped but wraps nothing new.
    pub fn set_kek_wrap_enabled(&self, version: u32, enabled: bool) -> Result<(), HsmError> {
        self.run(|op| {
            let h = op.masters()?.kek(version)?;
            op.s.update_attributes(h, &[Attribute::Wrap(enabled)])
                .map_err(|e| HsmError::from_ck("C_SetAttributeValue", e))
        })
    }

    /// HMAC-SHA256 of `data` under the record-MAC key: authenticates a store record.
    pub fn mac_record(&self, data: &[u8]) -> Result<[u8; 32], HsmError> {
        self.run(|op| {
            let key = op.masters()?.mac()?;
            let tag =
                op.s.sign(&Mechanism::Sha256Hmac, key, data)
                    .map_err(|e| HsmError::from_ck("C_Sign", e))?;
            tag.try_into()
                .map_err(|_| HsmError::InvalidArgument("HMAC-SHA256 did not return 32 bytes"))
        })
    }

    /// Checks a record MAC made by [`Hsm::mac_record`]; [`HsmError::RecordMacInvalid`] when
    /// it does not match.
    pub fn verify_record(&self, data: &[u8], mac: &[u8]) -> Result<(), HsmError> {
        if mac.len() != 32 {
            return Err(HsmError::RecordMacInvalid);
        }
        self.run(|op| {
            let key = op.masters()?.mac()?;
            match op.s.verify(&Mechanism::Sha256Hmac, key, data, mac) {
                Ok(()) => Ok(()),
                Err(e) => match HsmError::from_ck("C_Verify", e) {
                    HsmError::SignatureInvalid { .. } => Err(HsmError::RecordMacInvalid),
                    other => Err(other),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versioned_labels() {
        assert_eq!(parse_version("hsmkms-kek-v12", KEK_PREFIX), Some(12));
        assert_eq!(parse_version("hsmkms-kek-v0", KEK_PREFIX), None);
        assert_eq!(parse_version("hsmkms-kek-vx", KEK_PREFIX), None);
        assert_eq!(parse_version("other", KEK_PREFIX), None);
    }

    #[test]
    fn accepts_the_init_templates() {
        validate_master_template("k", &kek_template("k", false)).unwrap();
        validate_master_template("m", &mac_template("m")).unwrap();
    }

    #[test]
    fn rejects_public_or_extractable_master_templates() {
        let mut t = kek_template("hsmkms-kek-v1", false);
        for a in t.iter_mut() {
            if let Attribute::Private(b) = a {
                *b = false;
            }
        }
        let e = validate_master_template("hsmkms-kek-v1", &t).unwrap_err();
        assert!(
            matches!(e, HsmError::InsecureMasterKey { reason, .. } if reason.contains("private"))
        );
        let mut t = kek_template("k", false);
        t.retain(|a| !matches!(a, Attribute::Extractable(_)));
        assert!(validate_master_template("k", &t).is_err());
    }
}
