//! Managed objects as they travel in Register requests and Get responses (KMIP 1.4 §2.2, 2.1
//! §2): Symmetric Key, Public Key, Private Key, Secret Data and Opaque Object are typed; other
//! object types stay trees.
//! A Key Block's Key Value stays a tree too (its form depends on the Key Format Type), read
//! and written by [`KeyBlock::take_material`] and [`KeyBlock::with_material`].

use zeroize::Zeroize;

use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::secret::SecretBytes;
use crate::ttlv::enums::{KeyFormatType, ObjectType};
use crate::ttlv::{Item, Tag, Value};

/// Key Block (KMIP 1.4 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub key_format_type: KeyFormatType,
    pub key_compression_type: Option<u32>,
    /// Key Value: a Structure (Key Material, optional attributes) or, when wrapped, bytes.
    pub key_value: Option<Item>,
    pub cryptographic_algorithm: Option<u32>,
    pub cryptographic_length: Option<i32>,
    pub key_wrapping_data: Option<Item>,
}

impl KeyBlock {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::KEY_BLOCK)?;
        let b = KeyBlock {
            key_format_type: KeyFormatType(f.req_enum(Tag::KEY_FORMAT_TYPE)?),
            key_compression_type: f.opt_enum(Tag::KEY_COMPRESSION_TYPE)?,
            key_value: f.optional(Tag::KEY_VALUE).cloned(),
            cryptographic_algorithm: f.opt_enum(Tag::CRYPTOGRAPHIC_ALGORITHM)?,
            cryptographic_length: f.opt_int(Tag::CRYPTOGRAPHIC_LENGTH)?,
            key_wrapping_data: f.optional(Tag::KEY_WRAPPING_DATA).cloned(),
        };
        f.finish()?;
        Ok(b)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .enumeration(Tag::KEY_FORMAT_TYPE, self.key_format_type.0)
            .opt_enum(Tag::KEY_COMPRESSION_TYPE, self.key_compression_type)
            .opt_item(self.key_value.clone())
            .opt_enum(Tag::CRYPTOGRAPHIC_ALGORITHM, self.cryptographic_algorithm)
            .opt_int(Tag::CRYPTOGRAPHIC_LENGTH, self.cryptographic_length)
            .opt_item(self.key_wrapping_data.clone())
            .build(Tag::KEY_BLOCK)
    }

    /// A key block with clear material in `format` (Raw and Opaque: Key Material bytes;
    /// Transparent Symmetric Key: a Key Material structure holding `Key`). No attributes are
    /// put inside the Key Value (some 1.x clients fail on them).
    pub fn with_material(
        format: KeyFormatType,
        material: &SecretBytes,
        algorithm: Option<u32>,
        length: Option<i32>,
    ) -> Self {
        let bytes = Value::ByteString(material.expose().to_vec());
        let key_material = if format == KeyFormatType::TRANSPARENT_SYMMETRIC_KEY {
            Item::structure(Tag::KEY_MATERIAL, vec![Item::new(Tag::KEY, bytes)])
        } else {
            Item::new(Tag::KEY_MATERIAL, bytes)
        };
        Self::with_key_material(format, key_material, algorithm, length)
    }

    /// A key block holding `key_material` (a Key Material item: bytes or a Transparent
    /// structure) in `format`, without attributes inside the Key Value.
    pub fn with_key_material(
        format: KeyFormatType,
        key_material: Item,
        algorithm: Option<u32>,
        length: Option<i32>,
    ) -> Self {
        KeyBlock {
            key_format_type: format,
            key_compression_type: None,
            key_value: Some(Item::structure(Tag::KEY_VALUE, vec![key_material])),
            cryptographic_algorithm: algorithm,
            cryptographic_length: length,
            key_wrapping_data: None,
        }
    }

    /// Moves the Key Material item out of a clear block (bytes or a Transparent structure),
    /// leaving an empty byte string in its place. `None` when the block is wrapped, compressed
    /// or holds no Key Material.
    pub fn take_key_material(&mut self) -> Option<Item> {
        if self.key_wrapping_data.is_some() || self.key_compression_type.is_some() {
            return None;
        }
        let kv = self.key_value.as_mut()?;
        let Value::Structure(children) = &mut kv.value else {
            return None;
        };
        let km = children.iter_mut().find(|c| c.tag == Tag::KEY_MATERIAL)?;
        Some(std::mem::replace(
            km,
            Item::new(Tag::KEY_MATERIAL, Value::ByteString(Vec::new())),
        ))
    }

    /// Moves the clear key material out (zeroizing the copy left in the tree). `None` when the
    /// block is wrapped, compressed, or its material is not bytes of a supported format.
    pub fn take_material(&mut self) -> Option<SecretBytes> {
        if self.key_wrapping_data.is_some() || self.key_compression_type.is_some() {
            return None;
        }
        let kv = self.key_value.as_mut()?;
        let Value::Structure(children) = &mut kv.value else {
            return None;
        };
        let km = children.iter_mut().find(|c| c.tag == Tag::KEY_MATERIAL)?;
        let bytes = match &mut km.value {
            Value::ByteString(b) => b,
            Value::Structure(parts) => match parts.iter_mut().find(|p| p.tag == Tag::KEY) {
                Some(Item {
                    value: Value::ByteString(b),
                    ..
                }) => b,
                _ => return None,
            },
            _ => return None,
        };
        let out = SecretBytes::new(bytes.clone());
        bytes.zeroize();
        Some(out)
    }
}

/// The Key Block of a Public Key or Private Key structure `item`.
fn key_block_of(item: &Item) -> Result<KeyBlock, KmipError> {
    let mut f = Fields::open(item, item.tag)?;
    let kb = KeyBlock::from_item(f.required(Tag::KEY_BLOCK)?)?;
    f.finish()?;
    Ok(kb)
}

/// A managed object in a Register request or a Get response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedObject {
    SymmetricKey(KeyBlock),
    PublicKey(KeyBlock),
    PrivateKey(KeyBlock),
    SecretData {
        secret_data_type: u32,
        key_block: KeyBlock,
    },
    OpaqueObject {
        opaque_data_type: u32,
        opaque_data_value: Vec<u8>,
    },
    /// Certificates, split keys, …: the tree as sent.
    Other(Item),
}

/// The tags of managed objects (what follows the attributes in Register, the identifier in Get).
pub const OBJECT_TAGS: &[Tag] = &[
    Tag::CERTIFICATE,
    Tag::CERTIFICATE_REQUEST,
    Tag::SYMMETRIC_KEY,
    Tag::PUBLIC_KEY,
    Tag::PRIVATE_KEY,
    Tag::SPLIT_KEY,
    Tag::TEMPLATE,
    Tag::SECRET_DATA,
    Tag::OPAQUE_OBJECT,
    Tag::PGP_KEY,
];

impl ManagedObject {
    /// Reads the next field if it is a managed object.
    pub fn read(f: &mut Fields<'_>) -> Result<Option<Self>, KmipError> {
        for tag in OBJECT_TAGS {
            if let Some(i) = f.optional(*tag) {
                return Self::from_item(i).map(Some);
            }
        }
        Ok(None)
    }

    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        Ok(match item.tag {
            Tag::SYMMETRIC_KEY => {
                let mut f = Fields::open(item, Tag::SYMMETRIC_KEY)?;
                let kb = KeyBlock::from_item(f.required(Tag::KEY_BLOCK)?)?;
                f.finish()?;
                ManagedObject::SymmetricKey(kb)
            }
            Tag::PUBLIC_KEY => ManagedObject::PublicKey(key_block_of(item)?),
            Tag::PRIVATE_KEY => ManagedObject::PrivateKey(key_block_of(item)?),
            Tag::SECRET_DATA => {
                let mut f = Fields::open(item, Tag::SECRET_DATA)?;
                let secret_data_type = f.req_enum(Tag::SECRET_DATA_TYPE)?;
                let key_block = KeyBlock::from_item(f.required(Tag::KEY_BLOCK)?)?;
                f.finish()?;
                ManagedObject::SecretData {
                    secret_data_type,
                    key_block,
                }
            }
            Tag::OPAQUE_OBJECT => {
                let mut f = Fields::open(item, Tag::OPAQUE_OBJECT)?;
                let opaque_data_type = f.req_enum(Tag::OPAQUE_DATA_TYPE)?;
                let opaque_data_value =
                    crate::kmip::fields::as_bytes(f.required(Tag::OPAQUE_DATA_VALUE)?)?;
                f.finish()?;
                ManagedObject::OpaqueObject {
                    opaque_data_type,
                    opaque_data_value,
                }
            }
            _ => ManagedObject::Other(item.clone()),
        })
    }

    pub fn to_item(&self) -> Item {
        match self {
            ManagedObject::SymmetricKey(kb) => {
                Item::structure(Tag::SYMMETRIC_KEY, vec![kb.to_item()])
            }
            ManagedObject::PublicKey(kb) => Item::structure(Tag::PUBLIC_KEY, vec![kb.to_item()]),
            ManagedObject::PrivateKey(kb) => Item::structure(Tag::PRIVATE_KEY, vec![kb.to_item()]),
            ManagedObject::SecretData {
                secret_data_type,
                key_block,
            } => Builder::new()
                .enumeration(Tag::SECRET_DATA_TYPE, *secret_data_type)
                .item(key_block.to_item())
                .build(Tag::SECRET_DATA),
            ManagedObject::OpaqueObject {
                opaque_data_type,
                opaque_data_value,
            } => Builder::new()
                .enumeration(Tag::OPAQUE_DATA_TYPE, *opaque_data_type)
                .opt_bytes(Tag::OPAQUE_DATA_VALUE, Some(opaque_data_value))
                .build(Tag::OPAQUE_OBJECT),
            ManagedObject::Other(i) => i.clone(),
        }
    }

    /// The object type this object is.
    pub fn object_type(&self) -> Option<ObjectType> {
        Some(match self {
            ManagedObject::SymmetricKey(_) => ObjectType::SYMMETRIC_KEY,
            ManagedObject::PublicKey(_) => ObjectType::PUBLIC_KEY,
            ManagedObject::PrivateKey(_) => ObjectType::PRIVATE_KEY,
            ManagedObject::SecretData { .. } => ObjectType::SECRET_DATA,
            ManagedObject::OpaqueObject { .. } => ObjectType::OPAQUE_OBJECT,
            ManagedObject::Other(_) => return None,
        })
    }
}
