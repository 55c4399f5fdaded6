//! [`Policy::check_request`]: the policy applied to a request before dispatch, from the request
//! alone. It reads the TTLV tree of the payload (typed or not), so an operation's checks do not
//! depend on how far its handler has been written:
//!
//! - key-creating operations (Create, CreateKeyPair, Register, ReKey, ReKeyKeyPair, DeriveKey,
//!   Import): every Cryptographic Algorithm, Length, Usage Mask and Recommended Curve in the
//!   payload, in both the 1.x (`Attribute` name/value) and 2.x (`Attributes`) forms and in a
//!   Register's key block, go through [`Policy::check_key`] and [`Policy::check_curve`];
//! - every Cryptographic Parameters structure in the payload goes through
//!   [`Policy::check_parameters`]: for the operation itself (Encrypt, Decrypt, Sign,
//!   SignatureVerify, MAC, MACVerify), for wrapping inside a Key Wrapping Specification (Get,
//!   Export) or Key Wrapping Data (Register, Import: unwrapping), and as a declaration elsewhere
//!   (a template's Cryptographic Parameters attribute).
//!
//! Locate and the attribute-reading operations are not scanned: a search for DES keys is not a
//! use of DES.

use crate::kmip::attributes::AttributeName;
use crate::kmip::RequestPayload;
use crate::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, HashingAlgorithm,
    Operation, PaddingMethod, RecommendedCurve,
};
use crate::ttlv::{Item, Tag, Value};

use super::{CryptoOperation, CryptoParameters, Policy, PolicyRefusal};

/// Operations that bring a key into existence: their template attributes are checked.
const KEY_CREATING: &[Operation] = &[
    Operation::CREATE,
    Operation::CREATE_KEY_PAIR,
    Operation::REGISTER,
    Operation::RE_KEY,
    Operation::RE_KEY_KEY_PAIR,
    Operation::DERIVE_KEY,
    Operation::IMPORT,
];

/// Operations whose Cryptographic Parameters are checked (besides the key-creating ones).
const WITH_PARAMETERS: &[Operation] = &[
    Operation::ENCRYPT,
    Operation::DECRYPT,
    Operation::SIGN,
    Operation::SIGNATURE_VERIFY,
    Operation::MAC,
    Operation::MAC_VERIFY,
    Operation::GET,
    Operation::EXPORT,
    Operation::ADD_ATTRIBUTE,
    Operation::MODIFY_ATTRIBUTE,
    Operation::SET_ATTRIBUTE,
];

/// The operation a request's own Cryptographic Parameters are for.
fn own_operation(operation: Operation) -> Option<CryptoOperation> {
    Some(match operation {
        Operation::ENCRYPT => CryptoOperation::Encrypt,
        Operation::DECRYPT => CryptoOperation::Decrypt,
        Operation::SIGN => CryptoOperation::Sign,
        Operation::SIGNATURE_VERIFY => CryptoOperation::SignatureVerify,
        Operation::MAC => CryptoOperation::Mac,
        Operation::MAC_VERIFY => CryptoOperation::MacVerify,
        _ => return None,
    })
}

/// What the walk found.
#[derive(Default)]
struct Found {
    algorithms: Vec<CryptographicAlgorithm>,
    lengths: Vec<u32>,
    usage_mask: u32,
    curves: Vec<RecommendedCurve>,
    /// Each Cryptographic Parameters with the operation it serves.
    parameters: Vec<(Option<CryptoOperation>, CryptoParameters)>,
}

impl Policy {
    /// Checks what `payload` of `operation` asks for; see the module documentation.
    pub fn check_request(
        &self,
        operation: Operation,
        payload: &RequestPayload,
    ) -> Result<(), PolicyRefusal> {
        if !self.is_enforced() {
            return Ok(());
        }
        let creating = KEY_CREATING.contains(&operation);
        if !creating && !WITH_PARAMETERS.contains(&operation) {
            return Ok(());
        }
        let owned;
        let item = match payload {
            RequestPayload::Other(item) => item,
            typed => {
                owned = typed.to_item();
                &owned
            }
        };
        let own = own_operation(operation);
        let wrapping = match operation {
            Operation::GET | Operation::EXPORT => Some(CryptoOperation::WrapKey),
            _ => Some(CryptoOperation::UnwrapKey),
        };
        let mut found = Found::default();
        walk(item, own, wrapping, &mut found);
        if creating {
            for &a in &found.algorithms {
                if found.lengths.is_empty() {
                    self.check_key(a, None, found.usage_mask)?;
                }
                for &l in &found.lengths {
                    self.check_key(a, Some(l), found.usage_mask)?;
                }
            }
            for &c in &found.curves {
                self.check_curve(c)?;
            }
        }
        for (op, params) in &found.parameters {
            self.check_parameters(*op, None, params)?;
        }
        Ok(())
    }
}

/// Walks `item`: `context` is the operation Cryptographic Parameters found here serve.
fn walk(
    item: &Item,
    context: Option<CryptoOperation>,
    wrapping: Option<CryptoOperation>,
    found: &mut Found,
) {
    match item.tag {
        Tag::CRYPTOGRAPHIC_PARAMETERS => {
            found.parameters.push((context, parameters(item)));
            return;
        }
        Tag::ATTRIBUTE => {
            if let Some(attribute) = v1_attribute(item) {
                walk(&attribute, context, wrapping, found);
            }
            return;
        }
        Tag::KEY_WRAPPING_SPECIFICATION | Tag::KEY_WRAPPING_DATA => {
            if let Value::Structure(children) = &item.value {
                for c in children {
                    walk(c, wrapping, wrapping, found);
                }
            }
            return;
        }
        _ => {}
    }
    match &item.value {
        Value::Structure(children) => {
            // A template's Cryptographic Parameters attribute is a declaration (no operation)
            // unless the request is the operation itself.
            for c in children {
                walk(c, context, wrapping, found);
            }
        }
        Value::Enumeration(v) => match item.tag {
            Tag::CRYPTOGRAPHIC_ALGORITHM => {
                let a = CryptographicAlgorithm(*v);
                if !found.algorithms.contains(&a) {
                    found.algorithms.push(a);
                }
            }
            Tag::RECOMMENDED_CURVE => found.curves.push(RecommendedCurve(*v)),
            _ => {}
        },
        Value::Integer(i) => match item.tag {
            Tag::CRYPTOGRAPHIC_LENGTH => {
                if let Ok(l) = u32::try_from(*i) {
                    if !found.lengths.contains(&l) {
                        found.lengths.push(l);
                    }
                }
            }
            // Usage mask bits are a bit pattern: the i32 reinterpreted.
            Tag::CRYPTOGRAPHIC_USAGE_MASK => found.usage_mask |= *i as u32,
            _ => {}
        },
        _ => {}
    }
}

/// A 1.x `Attribute { AttributeName, AttributeIndex?, AttributeValue }` as the item it would be
/// under its own tag (`Cryptographic Algorithm` → a CryptographicAlgorithm item).
fn v1_attribute(item: &Item) -> Option<Item> {
    let Value::Structure(children) = &item.value else {
        return None;
    };
    let name = children.iter().find(|c| c.tag == Tag::ATTRIBUTE_NAME)?;
    let Value::TextString(text) = &name.value else {
        return None;
    };
    let AttributeName::Standard(tag) = AttributeName::from_v1(text)? else {
        return None;
    };
    let value = children.iter().find(|c| c.tag == Tag::ATTRIBUTE_VALUE)?;
    Some(Item::new(tag, value.value.clone()))
}

/// The fields of a Cryptographic Parameters structure the policy checks.
fn parameters(item: &Item) -> CryptoParameters {
    let mut p = CryptoParameters::default();
    let Value::Structure(children) = &item.value else {
        return p;
    };
    for c in children {
        match (c.tag, &c.value) {
            (Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(v)) => {
                p.cryptographic_algorithm = Some(CryptographicAlgorithm(*v));
            }
            (Tag::BLOCK_CIPHER_MODE, Value::Enumeration(v)) => {
                p.block_cipher_mode = Some(BlockCipherMode(*v));
            }
            (Tag::PADDING_METHOD, Value::Enumeration(v)) => {
                p.padding_method = Some(PaddingMethod(*v));
            }
            (Tag::HASHING_ALGORITHM, Value::Enumeration(v)) => {
                p.hashing_algorithm = Some(HashingAlgorithm(*v));
            }
            (Tag::DIGITAL_SIGNATURE_ALGORITHM, Value::Enumeration(v)) => {
                p.digital_signature_algorithm = Some(DigitalSignatureAlgorithm(*v));
            }
            (Tag::MASK_GENERATOR_HASHING_ALGORITHM, Value::Enumeration(v)) => {
                p.mask_generator_hashing_algorithm = Some(HashingAlgorithm(*v));
            }
            (Tag::TAG_LENGTH, Value::Integer(t)) => p.tag_length = u32::try_from(*t).ok(),
            _ => {}
        }
    }
    p
}
