//! CreateKeyPair (KMIP 1.4 §4.2, 2.1 §6.1.9): a public and private key generated together; the
//! attributes come in three sets — common, private-only, public-only — as 1.x
//! Template-Attributes or 2.x Attributes structures.

use super::AttributeSet;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

/// The three attribute sets' tags: (1.x, 2.x).
const COMMON: (Tag, Tag) = (Tag::COMMON_TEMPLATE_ATTRIBUTE, Tag::COMMON_ATTRIBUTES);
const PRIVATE: (Tag, Tag) = (
    Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
    Tag::PRIVATE_KEY_ATTRIBUTES,
);
const PUBLIC: (Tag, Tag) = (
    Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
    Tag::PUBLIC_KEY_ATTRIBUTES,
);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateKeyPairRequest {
    pub common: Option<AttributeSet>,
    pub private: Option<AttributeSet>,
    pub public: Option<AttributeSet>,
    /// Common/Private/Public Protection Storage Masks (2.1), kept as sent.
    pub protection_storage_masks: Vec<Item>,
}

impl CreateKeyPairRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let common = AttributeSet::read_tagged(&mut f, COMMON.0, COMMON.1)?;
        let private = AttributeSet::read_tagged(&mut f, PRIVATE.0, PRIVATE.1)?;
        let public = AttributeSet::read_tagged(&mut f, PUBLIC.0, PUBLIC.1)?;
        let mut protection_storage_masks = Vec::new();
        for t in [
            Tag::COMMON_PROTECTION_STORAGE_MASKS,
            Tag::PRIVATE_PROTECTION_STORAGE_MASKS,
            Tag::PUBLIC_PROTECTION_STORAGE_MASKS,
        ] {
            if let Some(i) = f.optional(t) {
                protection_storage_masks.push(i.clone());
            }
        }
        f.finish()?;
        Ok(CreateKeyPairRequest {
            common,
            private,
            public,
            protection_storage_masks,
        })
    }

    pub fn to_item(&self) -> Item {
        let set = |s: &Option<AttributeSet>, (v1, v2): (Tag, Tag)| {
            s.as_ref().map(|a| a.to_item_tagged(v1, v2))
        };
        let mut b = Builder::new()
            .opt_item(set(&self.common, COMMON))
            .opt_item(set(&self.private, PRIVATE))
            .opt_item(set(&self.public, PUBLIC));
        for m in &self.protection_storage_masks {
            b = b.item(m.clone());
        }
        b.build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeyPairResponse {
    pub private_key_unique_identifier: String,
    pub public_key_unique_identifier: String,
    /// Attributes the server set that the client did not ask for (1.x), kept as sent.
    pub private_key_template_attribute: Option<AttributeSet>,
    pub public_key_template_attribute: Option<AttributeSet>,
}

impl CreateKeyPairResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = CreateKeyPairResponse {
            private_key_unique_identifier: f.req_text(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER)?,
            public_key_unique_identifier: f.req_text(Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER)?,
            private_key_template_attribute: AttributeSet::read(
                &mut f,
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
            )?,
            public_key_template_attribute: AttributeSet::read(
                &mut f,
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
            )?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(
                Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER,
                Some(&self.private_key_unique_identifier),
            )
            .opt_text(
                Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER,
                Some(&self.public_key_unique_identifier),
            )
            .opt_item(
                self.private_key_template_attribute
                    .as_ref()
                    .map(|a| a.to_item(Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE)),
            )
            .opt_item(
                self.public_key_template_attribute
                    .as_ref()
                    .map(|a| a.to_item(Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE)),
            )
            .build(Tag::RESPONSE_PAYLOAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::attributes::{Attribute, AttributeName};
    use crate::ttlv::Value;

    #[test]
    fn round_trips_both_attribute_forms() {
        let a = Attribute {
            name: AttributeName::Standard(Tag::CRYPTOGRAPHIC_LENGTH),
            value: Value::Integer(2048),
            index: None,
        };
        for set in [AttributeSet::V1(vec![a.clone()]), AttributeSet::V2(vec![a])] {
            let r = CreateKeyPairRequest {
                common: Some(set.clone()),
                private: Some(set.clone()),
                public: Some(set),
                protection_storage_masks: Vec::new(),
            };
            assert_eq!(CreateKeyPairRequest::from_item(&r.to_item()).unwrap(), r);
        }
    }
}
