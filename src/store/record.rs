//! The stored object record and its canonical body encoding.
//!
//! A [`Record`] is what the store keeps per KMIP managed object: identity, type, state, owner,
//! names, an opaque attribute list the KMIP layer maps its attribute model onto, and the key
//! material — only ever as an HSM-wrapped blob ([`WrappedKey`]). The store-managed fields
//! (version, creation sequence, timestamps) are private and set by the store on commit.

use super::codec::{DecodeError, Reader, Writer, MAX_BYTES, MAX_DEPTH};
use super::key::{KeyMaterial, WrappedKey};

/// Record body schema written by this version. Bumped when the body layout changes.
pub const RECORD_SCHEMA: u16 = 1;
/// First bytes of every record body; also the MAC's domain separator (the MAC covers the whole
/// body, magic included).
pub(crate) const RECORD_MAGIC: &[u8; 14] = b"hsmkms-record\0";
/// Longest unique identifier accepted, in bytes.
pub const MAX_UNIQUE_IDENTIFIER_BYTES: usize = 256;
/// Longest owner identity accepted, in bytes.
pub const MAX_OWNER_BYTES: usize = 1024;
/// Longest name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 4096;

/// KMIP Unique Identifier of a managed object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniqueIdentifier(pub String);

impl UniqueIdentifier {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UniqueIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client identity that owns an object (e.g. the certificate CN).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner(pub String);

impl Owner {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

/// KMIP Object Type, as its enumeration value (the KMIP layer maps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType(pub u32);

impl ObjectType {
    pub const CERTIFICATE: Self = Self(1);
    pub const SYMMETRIC_KEY: Self = Self(2);
    pub const PUBLIC_KEY: Self = Self(3);
    pub const PRIVATE_KEY: Self = Self(4);
    pub const SPLIT_KEY: Self = Self(5);
    pub const TEMPLATE: Self = Self(6);
    pub const SECRET_DATA: Self = Self(7);
    pub const OPAQUE_OBJECT: Self = Self(8);
    pub const PGP_KEY: Self = Self(9);
    pub const CERTIFICATE_REQUEST: Self = Self(10);
}

/// KMIP State, as its enumeration value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State(pub u32);

impl State {
    pub const PRE_ACTIVE: Self = Self(1);
    pub const ACTIVE: Self = Self(2);
    pub const DEACTIVATED: Self = Self(3);
    pub const COMPROMISED: Self = Self(4);
    pub const DESTROYED: Self = Self(5);
    pub const DESTROYED_COMPROMISED: Self = Self(6);

    pub fn is_destroyed(self) -> bool {
        self == Self::DESTROYED || self == Self::DESTROYED_COMPROMISED
    }
}

/// Milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(ms)
    }
}

/// A KMIP Name: its text and its Name Type enumeration value. Names are unique per owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub value: String,
    pub name_type: u32,
}

impl Name {
    /// Name Type `Uninterpreted Text String` (1).
    pub fn text(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name_type: 1,
        }
    }
}

/// One attribute value, in a small model the KMIP layer maps its attributes onto.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrValue {
    Text(String),
    Integer(i32),
    LongInteger(i64),
    Enumeration(u32),
    Boolean(bool),
    ByteString(Vec<u8>),
    /// Seconds since the Unix epoch, as KMIP Date-Time.
    DateTime(i64),
    /// Seconds, as KMIP Interval.
    Interval(u32),
    Structure(Vec<Attribute>),
}

/// A named attribute. Several with the same name are several instances, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    pub name: String,
    pub value: AttrValue,
}

impl Attribute {
    pub fn new(name: impl Into<String>, value: AttrValue) -> Self {
        Self {
            name: name.into(),
            value,
        }
    }
}

/// One managed object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub unique_identifier: UniqueIdentifier,
    pub owner: Owner,
    pub object_type: ObjectType,
    pub state: State,
    /// Names, unique per owner (see [`Store`](super::Store)).
    pub names: Vec<Name>,
    /// Every other attribute, in order; those named in
    /// [`is_indexed_attribute`](super::is_indexed_attribute) are indexed for Locate.
    pub attributes: Vec<Attribute>,
    /// The key material: absent, HSM-wrapped, or destroyed.
    pub key: KeyMaterial,
    pub(crate) version: u64,
    pub(crate) sequence: u64,
    pub(crate) created: Timestamp,
    pub(crate) modified: Timestamp,
}

impl Record {
    /// A new record with no names, attributes or key material; the store fills the version,
    /// sequence and timestamps when it is created.
    pub fn new(
        unique_identifier: UniqueIdentifier,
        owner: Owner,
        object_type: ObjectType,
        state: State,
    ) -> Self {
        Self {
            unique_identifier,
            owner,
            object_type,
            state,
            names: Vec::new(),
            attributes: Vec::new(),
            key: KeyMaterial::None,
            version: 0,
            sequence: 0,
            created: Timestamp(0),
            modified: Timestamp(0),
        }
    }

    /// Sets the key material to an HSM-wrapped blob.
    pub fn with_key(mut self, key: WrappedKey) -> Self {
        self.key = KeyMaterial::Wrapped(key);
        self
    }

    /// Sets the key material to a public key (SubjectPublicKeyInfo DER, not secret).
    pub fn with_public_key(mut self, spki: Vec<u8>) -> Self {
        self.key = KeyMaterial::Public(spki);
        self
    }

    pub fn with_name(mut self, name: Name) -> Self {
        self.names.push(name);
        self
    }

    pub fn with_attribute(mut self, name: impl Into<String>, value: AttrValue) -> Self {
        self.attributes.push(Attribute::new(name, value));
        self
    }

    /// Record version: 1 when created, incremented by every committed change. The
    /// compare-and-set token of [`Expect::Version`](super::Expect::Version).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Store-wide creation sequence number (monotonic): "newest first" orders by it.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    pub fn created(&self) -> Timestamp {
        self.created
    }

    pub fn modified(&self) -> Timestamp {
        self.modified
    }

    /// Schema of the record body; always [`RECORD_SCHEMA`] for a record read by this version.
    pub fn schema_version(&self) -> u16 {
        RECORD_SCHEMA
    }

    /// The values of every instance of attribute `name`.
    pub fn attribute<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a AttrValue> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.name == name)
            .map(|a| &a.value)
    }

    pub fn has_name(&self, value: &str) -> bool {
        self.names.iter().any(|n| n.value == value)
    }

    /// Destroyed: the state says so or the key material was dropped.
    pub fn is_destroyed(&self) -> bool {
        self.state.is_destroyed() || matches!(self.key, KeyMaterial::Destroyed { .. })
    }

    /// Drops the wrapped blob, keeping which KEK wrapped it (Destroy keeps metadata).
    pub fn destroy_key(&mut self) {
        self.key = self.key.destroyed();
    }

    /// The canonical body: the bytes the record MAC covers. It includes the unique
    /// identifier, so a body (or its blob) moved to another object no longer verifies.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(RECORD_MAGIC);
        w.u16(RECORD_SCHEMA);
        w.str(&self.unique_identifier.0);
        w.str(&self.owner.0);
        w.u32(self.object_type.0);
        w.u32(self.state.0);
        w.u64(self.version);
        w.u64(self.sequence);
        w.i64(self.created.0);
        w.i64(self.modified.0);
        w.len(self.names.len());
        for n in &self.names {
            w.str(&n.value);
            w.u32(n.name_type);
        }
        encode_attributes(&mut w, &self.attributes);
        self.key.encode(&mut w);
        w.into_inner()
    }

    /// Decodes a body written by [`Record::canonical_bytes`]. Unverified: only the store calls
    /// it, after the MAC check.
    pub(crate) fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        if r.take(RECORD_MAGIC.len())? != RECORD_MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let schema = r.u16()?;
        if schema != RECORD_SCHEMA {
            return Err(DecodeError::UnsupportedSchema(schema));
        }
        let unique_identifier = UniqueIdentifier(r.string("unique identifier")?);
        let owner = Owner(r.string("owner")?);
        let object_type = ObjectType(r.u32()?);
        let state = State(r.u32()?);
        let version = r.u64()?;
        let sequence = r.u64()?;
        let created = Timestamp(r.i64()?);
        let modified = Timestamp(r.i64()?);
        let mut names = Vec::new();
        for _ in 0..r.count("names")? {
            let value = r.string("name")?;
            names.push(Name {
                value,
                name_type: r.u32()?,
            });
        }
        let attributes = decode_attributes(&mut r, 0)?;
        let key = KeyMaterial::decode(&mut r)?;
        r.finish()?;
        Ok(Self {
            unique_identifier,
            owner,
            object_type,
            state,
            names,
            attributes,
            key,
            version,
            sequence,
            created,
            modified,
        })
    }
}

const T_TEXT: u8 = 1;
const T_INTEGER: u8 = 2;
const T_LONG: u8 = 3;
const T_ENUM: u8 = 4;
const T_BOOL: u8 = 5;
const T_BYTES: u8 = 6;
const T_DATETIME: u8 = 7;
const T_INTERVAL: u8 = 8;
const T_STRUCTURE: u8 = 9;

impl AttrValue {
    /// The type tag used by the encoding and by the attribute index.
    pub(crate) fn type_tag(&self) -> u8 {
        match self {
            Self::Text(_) => T_TEXT,
            Self::Integer(_) => T_INTEGER,
            Self::LongInteger(_) => T_LONG,
            Self::Enumeration(_) => T_ENUM,
            Self::Boolean(_) => T_BOOL,
            Self::ByteString(_) => T_BYTES,
            Self::DateTime(_) => T_DATETIME,
            Self::Interval(_) => T_INTERVAL,
            Self::Structure(_) => T_STRUCTURE,
        }
    }

    /// Depth of nested structures (0 for a scalar).
    pub(crate) fn depth(&self) -> usize {
        match self {
            Self::Structure(items) => 1 + items.iter().map(|a| a.value.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.u8(self.type_tag());
        match self {
            Self::Text(s) => w.str(s),
            Self::Integer(v) => w.i32(*v),
            Self::LongInteger(v) | Self::DateTime(v) => w.i64(*v),
            Self::Enumeration(v) | Self::Interval(v) => w.u32(*v),
            Self::Boolean(v) => w.bool(*v),
            Self::ByteString(b) => w.bytes(b),
            Self::Structure(items) => encode_attributes(w, items),
        }
    }

    fn decode(r: &mut Reader<'_>, depth: usize) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            T_TEXT => Self::Text(r.string("attribute text")?),
            T_INTEGER => Self::Integer(r.i32()?),
            T_LONG => Self::LongInteger(r.i64()?),
            T_ENUM => Self::Enumeration(r.u32()?),
            T_BOOL => Self::Boolean(r.bool()?),
            T_BYTES => Self::ByteString(r.bytes("attribute bytes", MAX_BYTES)?.to_vec()),
            T_DATETIME => Self::DateTime(r.i64()?),
            T_INTERVAL => Self::Interval(r.u32()?),
            T_STRUCTURE => {
                if depth >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                Self::Structure(decode_attributes(r, depth + 1)?)
            }
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "attribute value",
                    tag,
                })
            }
        })
    }
}

fn encode_attributes(w: &mut Writer, items: &[Attribute]) {
    w.len(items.len());
    for a in items {
        w.str(&a.name);
        a.value.encode(w);
    }
}

fn decode_attributes(r: &mut Reader<'_>, depth: usize) -> Result<Vec<Attribute>, DecodeError> {
    let mut out = Vec::new();
    for _ in 0..r.count("attributes")? {
        let name = r.string("attribute name")?;
        let value = AttrValue::decode(r, depth)?;
        out.push(Attribute { name, value });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::wrapped;

    pub(crate) fn sample() -> Record {
        let mut r = Record::new(
            UniqueIdentifier::new("uid-1"),
            Owner::new("alice"),
            ObjectType::SYMMETRIC_KEY,
            State::ACTIVE,
        )
        .with_name(Name::text("disk-key"))
        .with_attribute("Cryptographic Algorithm", AttrValue::Enumeration(3))
        .with_attribute("Cryptographic Length", AttrValue::Integer(256))
        .with_attribute("x-flag", AttrValue::Boolean(true))
        .with_attribute("x-blob", AttrValue::ByteString(vec![1, 2, 3]))
        .with_attribute("Activation Date", AttrValue::DateTime(1_700_000_000))
        .with_attribute("x-long", AttrValue::LongInteger(-9))
        .with_attribute("x-interval", AttrValue::Interval(60))
        .with_attribute(
            "Link",
            AttrValue::Structure(vec![
                Attribute::new("Link Type", AttrValue::Enumeration(0x103)),
                Attribute::new("Linked Object Identifier", AttrValue::Text("uid-0".into())),
            ]),
        )
        .with_key(wrapped(b"blob"));
        r.version = 3;
        r.sequence = 42;
        r.created = Timestamp(1);
        r.modified = Timestamp(2);
        r
    }

    #[test]
    fn round_trips_every_field() {
        let r = sample();
        let bytes = r.canonical_bytes();
        assert_eq!(Record::decode(&bytes).unwrap(), r);
        assert_eq!(bytes, Record::decode(&bytes).unwrap().canonical_bytes());
    }

    #[test]
    fn round_trips_a_public_key_and_its_destruction() {
        let mut r = sample().with_public_key(vec![0x30, 0x03, 0x02, 0x01, 0x05]);
        r.object_type = ObjectType::PUBLIC_KEY;
        let bytes = r.canonical_bytes();
        let back = Record::decode(&bytes).unwrap();
        assert_eq!(back.key.public(), Some(&[0x30, 0x03, 0x02, 0x01, 0x05][..]));
        assert_eq!(back, r);
        r.destroy_key();
        assert!(r.is_destroyed());
        assert_eq!(Record::decode(&r.canonical_bytes()).unwrap(), r);
    }

    #[test]
    fn encoding_is_deterministic_and_covers_the_identifier() {
        let a = sample();
        let mut b = sample();
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());
        b.unique_identifier = UniqueIdentifier::new("uid-2");
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn rejects_every_truncation_and_trailing_bytes() {
        let bytes = sample().canonical_bytes();
        for n in 0..bytes.len() {
            assert!(Record::decode(&bytes[..n]).is_err(), "prefix of {n} bytes");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Record::decode(&long), Err(DecodeError::Trailing(1)));
    }

    #[test]
    fn rejects_unknown_schema_and_deep_nesting() {
        let mut bytes = sample().canonical_bytes();
        bytes[RECORD_MAGIC.len() + 1] = 9;
        assert_eq!(
            Record::decode(&bytes),
            Err(DecodeError::UnsupportedSchema(9))
        );

        let mut v = AttrValue::Integer(1);
        for _ in 0..=MAX_DEPTH {
            v = AttrValue::Structure(vec![Attribute::new("s", v)]);
        }
        let r = sample().with_attribute("deep", v);
        assert_eq!(
            Record::decode(&r.canonical_bytes()),
            Err(DecodeError::TooDeep)
        );
    }
}
