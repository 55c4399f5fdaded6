//! Cryptographic Parameters (KMIP 1.4 §2.1.5, 2.1 §7.6): how a cryptographic operation uses a
//! key — mode, padding, hash, IV and tag lengths. Read in the order the specification fixes;
//! every field optional.

use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, PaddingMethod,
};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CryptographicParameters {
    pub block_cipher_mode: Option<BlockCipherMode>,
    pub padding_method: Option<PaddingMethod>,
    pub hashing_algorithm: Option<HashingAlgorithm>,
    pub key_role_type: Option<u32>,
    pub digital_signature_algorithm: Option<u32>,
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub random_iv: Option<bool>,
    /// Bits.
    pub iv_length: Option<i32>,
    /// Bytes.
    pub tag_length: Option<i32>,
    pub fixed_field_length: Option<i32>,
    pub invocation_field_length: Option<i32>,
    /// Bits of the counter block that count (AES-CTR).
    pub counter_length: Option<i32>,
    pub initial_counter_value: Option<i32>,
    pub salt_length: Option<i32>,
    pub mask_generator: Option<u32>,
    pub mask_generator_hashing_algorithm: Option<HashingAlgorithm>,
    pub p_source: Option<Vec<u8>>,
    pub trailer_field: Option<i32>,
}

impl CryptographicParameters {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::CRYPTOGRAPHIC_PARAMETERS)?;
        let p = CryptographicParameters {
            block_cipher_mode: f.opt_enum(Tag::BLOCK_CIPHER_MODE)?.map(BlockCipherMode),
            padding_method: f.opt_enum(Tag::PADDING_METHOD)?.map(PaddingMethod),
            hashing_algorithm: f.opt_enum(Tag::HASHING_ALGORITHM)?.map(HashingAlgorithm),
            key_role_type: f.opt_enum(Tag::KEY_ROLE_TYPE)?,
            digital_signature_algorithm: f.opt_enum(Tag::DIGITAL_SIGNATURE_ALGORITHM)?,
            cryptographic_algorithm: f
                .opt_enum(Tag::CRYPTOGRAPHIC_ALGORITHM)?
                .map(CryptographicAlgorithm),
            random_iv: f.opt_bool(Tag::RANDOM_IV)?,
            iv_length: f.opt_int(Tag::IV_LENGTH)?,
            tag_length: f.opt_int(Tag::TAG_LENGTH)?,
            fixed_field_length: f.opt_int(Tag::FIXED_FIELD_LENGTH)?,
            invocation_field_length: f.opt_int(Tag::INVOCATION_FIELD_LENGTH)?,
            counter_length: f.opt_int(Tag::COUNTER_LENGTH)?,
            initial_counter_value: f.opt_int(Tag::INITIAL_COUNTER_VALUE)?,
            salt_length: f.opt_int(Tag::SALT_LENGTH)?,
            mask_generator: f.opt_enum(Tag::MASK_GENERATOR)?,
            mask_generator_hashing_algorithm: f
                .opt_enum(Tag::MASK_GENERATOR_HASHING_ALGORITHM)?
                .map(HashingAlgorithm),
            p_source: f.opt_bytes(Tag::P_SOURCE)?,
            trailer_field: f.opt_int(Tag::TRAILER_FIELD)?,
        };
        f.finish()?;
        Ok(p)
    }

    /// The optional field `Cryptographic Parameters` of a payload.
    pub fn read(f: &mut Fields<'_>) -> Result<Option<Self>, KmipError> {
        f.optional(Tag::CRYPTOGRAPHIC_PARAMETERS)
            .map(Self::from_item)
            .transpose()
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_enum(Tag::BLOCK_CIPHER_MODE, self.block_cipher_mode.map(|v| v.0))
            .opt_enum(Tag::PADDING_METHOD, self.padding_method.map(|v| v.0))
            .opt_enum(Tag::HASHING_ALGORITHM, self.hashing_algorithm.map(|v| v.0))
            .opt_enum(Tag::KEY_ROLE_TYPE, self.key_role_type)
            .opt_enum(
                Tag::DIGITAL_SIGNATURE_ALGORITHM,
                self.digital_signature_algorithm,
            )
            .opt_enum(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                self.cryptographic_algorithm.map(|v| v.0),
            )
            .opt_bool(Tag::RANDOM_IV, self.random_iv)
            .opt_int(Tag::IV_LENGTH, self.iv_length)
            .opt_int(Tag::TAG_LENGTH, self.tag_length)
            .opt_int(Tag::FIXED_FIELD_LENGTH, self.fixed_field_length)
            .opt_int(Tag::INVOCATION_FIELD_LENGTH, self.invocation_field_length)
            .opt_int(Tag::COUNTER_LENGTH, self.counter_length)
            .opt_int(Tag::INITIAL_COUNTER_VALUE, self.initial_counter_value)
            .opt_int(Tag::SALT_LENGTH, self.salt_length)
            .opt_enum(Tag::MASK_GENERATOR, self.mask_generator)
            .opt_enum(
                Tag::MASK_GENERATOR_HASHING_ALGORITHM,
                self.mask_generator_hashing_algorithm.map(|v| v.0),
            )
            .opt_bytes(Tag::P_SOURCE, self.p_source.as_deref())
            .opt_int(Tag::TRAILER_FIELD, self.trailer_field)
            .build(Tag::CRYPTOGRAPHIC_PARAMETERS)
    }

    /// Each field of `self`, or else of `fallback` (the key's own Cryptographic Parameters).
    pub fn or(&self, fallback: &Self) -> Self {
        CryptographicParameters {
            block_cipher_mode: self.block_cipher_mode.or(fallback.block_cipher_mode),
            padding_method: self.padding_method.or(fallback.padding_method),
            hashing_algorithm: self.hashing_algorithm.or(fallback.hashing_algorithm),
            key_role_type: self.key_role_type.or(fallback.key_role_type),
            digital_signature_algorithm: self
                .digital_signature_algorithm
                .or(fallback.digital_signature_algorithm),
            cryptographic_algorithm: self
                .cryptographic_algorithm
                .or(fallback.cryptographic_algorithm),
            random_iv: self.random_iv.or(fallback.random_iv),
            iv_length: self.iv_length.or(fallback.iv_length),
            tag_length: self.tag_length.or(fallback.tag_length),
            fixed_field_length: self.fixed_field_length.or(fallback.fixed_field_length),
            invocation_field_length: self
                .invocation_field_length
                .or(fallback.invocation_field_length),
            counter_length: self.counter_length.or(fallback.counter_length),
            initial_counter_value: self
                .initial_counter_value
                .or(fallback.initial_counter_value),
            salt_length: self.salt_length.or(fallback.salt_length),
            mask_generator: self.mask_generator.or(fallback.mask_generator),
            mask_generator_hashing_algorithm: self
                .mask_generator_hashing_algorithm
                .or(fallback.mask_generator_hashing_algorithm),
            p_source: self.p_source.clone().or_else(|| fallback.p_source.clone()),
            trailer_field: self.trailer_field.or(fallback.trailer_field),
        }
    }
}

/// The streaming fields every cryptographic request may carry (KMIP 1.3+): Correlation Value,
/// Init Indicator, Final Indicator. Kept as sent; this server answers single-part requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Streaming {
    pub correlation_value: Option<Vec<u8>>,
    pub init_indicator: Option<bool>,
    pub final_indicator: Option<bool>,
}

impl Streaming {
    pub fn read(f: &mut Fields<'_>) -> Result<Self, KmipError> {
        Ok(Streaming {
            correlation_value: f.opt_bytes(Tag::CORRELATION_VALUE)?,
            init_indicator: f.opt_bool(Tag::INIT_INDICATOR)?,
            final_indicator: f.opt_bool(Tag::FINAL_INDICATOR)?,
        })
    }

    pub fn write(&self, b: Builder) -> Builder {
        b.opt_bytes(Tag::CORRELATION_VALUE, self.correlation_value.as_deref())
            .opt_bool(Tag::INIT_INDICATOR, self.init_indicator)
            .opt_bool(Tag::FINAL_INDICATOR, self.final_indicator)
    }

    /// Whether the request is one part of a multi-part operation.
    pub fn is_multi_part(&self) -> bool {
        self.correlation_value.is_some()
            || self.init_indicator == Some(true)
            || self.final_indicator == Some(true)
    }
}
