//! An exact, bounded codec for KMIP TTLV (Tag-Type-Length-Value) and its XML and JSON
//! encodings, with the tag and enumeration tables of KMIP 1.0–2.1.
//!
//! - [`item`]: the tree ([`Item`], [`Tag`], [`Value`]);
//! - [`binary`]: the wire format: strict, bounded decoding ([`Limits`]) and infallible encoding;
//! - [`xml`], [`json`]: the KMIP XML and JSON encodings of the same tree;
//! - [`tables`]: tag/enumeration/mask names per protocol version; [`enums`]: named constants.
//!
//! It knows nothing of operations: typed messages live in the `hsmkms` crate's `kmip` module.
//! Unknown tags (0x54xxxx extensions) and values (0x8xxxxxxx vendor enumerations) round-trip.
#![deny(unsafe_code)]

pub mod binary;
mod datetime;
pub mod enums;
pub mod item;
#[cfg(feature = "json")]
pub mod json;
pub mod tables;
mod text;
#[cfg(feature = "xml")]
pub mod xml;

pub use binary::{
    decode, decode_zeroizing, encode, encoded_len, message_len, to_vec, to_zeroizing_vec,
    DecodeError, DecodeErrorKind, Limits,
};
pub use datetime::{format_datetime, parse as parse_datetime};
pub use item::{BigInt, Item, ItemType, Tag, Value};
pub use text::TextError;
/// Re-exported so that users of [`decode_zeroizing`] and [`to_zeroizing_vec`] name the same
/// types.
pub use zeroize::{Zeroize, Zeroizing};

/// A KMIP protocol version (major, minor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const fn new(major: u8, minor: u8) -> Self {
        Version { major, minor }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .split_once('.')
            .ok_or_else(|| format!("\"{s}\" is not a KMIP version such as 1.4 or 2.1"))?;
        match (a.parse(), b.parse()) {
            (Ok(major), Ok(minor)) => Ok(Version::new(major, minor)),
            _ => Err(format!("\"{s}\" is not a KMIP version such as 1.4 or 2.1")),
        }
    }
}
