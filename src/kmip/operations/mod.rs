//! Typed payloads of the object operations, one file per operation (KMIP 1.4 §4, 2.1 §6.1).
//!
//! Each request and response decodes from its TTLV tree and encodes back to the same bytes. The
//! two attribute forms are kept as sent ([`AttributeSet`], [`AttributeSelector`]): a 1.x client
//! gets 1.x shapes back and a 2.x client 2.x shapes, while the service works on the one internal
//! [`Attribute`] model. Managed objects (key blocks, opaque data) are typed in [`object`].

pub mod activate;
pub mod add_attribute;
pub mod check;
pub mod create;
pub mod create_key_pair;
pub mod cryptographic_parameters;
pub mod decrypt;
pub mod delete_attribute;
pub mod destroy;
pub mod encrypt;
pub mod get;
pub mod get_attribute_list;
pub mod get_attributes;
pub mod hash;
pub mod locate;
pub mod mac;
pub mod modify_attribute;
pub mod object;
pub mod register;
pub mod rekey;
pub mod revoke;
pub mod rng_retrieve;
pub mod set_attribute;
pub mod sign;

use crate::kmip::attributes::{
    from_v1_template, from_v2_attributes, to_v1_template, to_v2_attributes, Attribute,
    AttributeName,
};
use crate::kmip::fields::{as_enum, as_text, Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag, Value};

/// The attributes of a Create, Register or Locate in the form the client sent: a 1.x
/// `TemplateAttribute` (or bare `Attribute` items) or a 2.x `Attributes` structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeSet {
    /// 1.x: a container tagged `TemplateAttribute` (or `CommonTemplateAttribute`, …).
    V1(Vec<Attribute>),
    /// 2.x: an `Attributes` structure.
    V2(Vec<Attribute>),
}

impl AttributeSet {
    pub fn attributes(&self) -> &[Attribute] {
        match self {
            AttributeSet::V1(a) | AttributeSet::V2(a) => a,
        }
    }

    /// Reads the optional container: `v1_tag` for 1.x, `Attributes` for 2.x.
    pub fn read(f: &mut Fields<'_>, v1_tag: Tag) -> Result<Option<Self>, KmipError> {
        Self::read_tagged(f, v1_tag, Tag::ATTRIBUTES)
    }

    /// Reads the optional container: `v1_tag` for 1.x, `v2_tag` for 2.x (CreateKeyPair's
    /// Common/Private/Public Key Template-Attribute and Attributes).
    pub fn read_tagged(
        f: &mut Fields<'_>,
        v1_tag: Tag,
        v2_tag: Tag,
    ) -> Result<Option<Self>, KmipError> {
        if let Some(i) = f.optional(v1_tag) {
            return Ok(Some(AttributeSet::V1(from_v1_template(i)?)));
        }
        if let Some(i) = f.optional(v2_tag) {
            return Ok(Some(AttributeSet::V2(from_v2_attributes(i)?)));
        }
        Ok(None)
    }

    pub fn to_item(&self, v1_tag: Tag) -> Item {
        self.to_item_tagged(v1_tag, Tag::ATTRIBUTES)
    }

    pub fn to_item_tagged(&self, v1_tag: Tag, v2_tag: Tag) -> Item {
        match self {
            AttributeSet::V1(a) => to_v1_template(v1_tag, a),
            AttributeSet::V2(a) => to_v2_attributes(v2_tag, a),
        }
    }
}

/// Names one attribute in a request: a 1.x `AttributeName` text, kept as sent, or a 2.x
/// `AttributeReference` (an enumeration naming the tag, or a vendor attribute's structure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeSelector {
    Text(String),
    Reference(AttributeName),
}

impl AttributeSelector {
    /// The attribute named, if it is one this server knows how to name.
    pub fn name(&self) -> Option<AttributeName> {
        match self {
            AttributeSelector::Text(t) => AttributeName::from_v1(t),
            AttributeSelector::Reference(n) => Some(n.clone()),
        }
    }

    /// Every consecutive `AttributeName` or `AttributeReference` field.
    pub fn read_all(f: &mut Fields<'_>) -> Result<Vec<Self>, KmipError> {
        let mut out = Vec::new();
        loop {
            if let Some(i) = f.optional(Tag::ATTRIBUTE_NAME) {
                out.push(AttributeSelector::Text(as_text(i)?));
            } else if let Some(i) = f.optional(Tag::ATTRIBUTE_REFERENCE) {
                out.push(AttributeSelector::Reference(reference_from(i)?));
            } else {
                return Ok(out);
            }
        }
    }

    pub fn to_item(&self) -> Item {
        match self {
            AttributeSelector::Text(t) => {
                Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(t.clone()))
            }
            AttributeSelector::Reference(n) => reference_to(n),
        }
    }
}

/// A 2.x Attribute Reference: an enumeration whose value is the attribute's tag, or a
/// structure naming a vendor attribute.
pub fn reference_from(i: &Item) -> Result<AttributeName, KmipError> {
    if let Value::Enumeration(t) = i.value {
        return Ok(AttributeName::Standard(Tag(t)));
    }
    let mut f = Fields::open(i, Tag::ATTRIBUTE_REFERENCE)?;
    let vendor = f.req_text(Tag::VENDOR_IDENTIFICATION)?;
    let name = f.req_text(Tag::ATTRIBUTE_NAME)?;
    f.finish()?;
    Ok(AttributeName::Custom { vendor, name })
}

pub fn reference_to(n: &AttributeName) -> Item {
    match n {
        AttributeName::Standard(t) => Item::new(Tag::ATTRIBUTE_REFERENCE, Value::Enumeration(t.0)),
        AttributeName::Custom { vendor, name } => Builder::new()
            .opt_text(Tag::VENDOR_IDENTIFICATION, Some(vendor))
            .opt_text(Tag::ATTRIBUTE_NAME, Some(name))
            .build(Tag::ATTRIBUTE_REFERENCE),
    }
}

/// A 2.x wrapper holding exactly one attribute (`NewAttribute`, `CurrentAttribute`).
pub fn single_from(i: &Item, tag: Tag) -> Result<Attribute, KmipError> {
    let mut f = Fields::open(i, tag)?;
    let Some(child) = i.children().first() else {
        return Err(KmipError::Missing {
            parent: tag,
            field: Tag::ATTRIBUTE,
        });
    };
    f.optional(child.tag);
    f.finish()?;
    Attribute::from_v2(child)
}

pub fn single_to(a: &Attribute, tag: Tag) -> Item {
    Item::structure(tag, vec![a.to_v2()])
}

/// A payload holding only an optional Unique Identifier (Activate, Destroy, their responses).
pub fn uid_only_from(item: &Item, tag: Tag) -> Result<Option<String>, KmipError> {
    let mut f = Fields::open(item, tag)?;
    let uid = f.opt_text(Tag::UNIQUE_IDENTIFIER)?;
    f.finish()?;
    Ok(uid)
}

pub fn uid_only_to(uid: Option<&str>, tag: Tag) -> Item {
    Builder::new()
        .opt_text(Tag::UNIQUE_IDENTIFIER, uid)
        .build(tag)
}

/// A required enumeration of a payload field, typed by `wrap`.
pub fn enum_of<T>(f: &mut Fields<'_>, tag: Tag, wrap: fn(u32) -> T) -> Result<T, KmipError> {
    Ok(wrap(f.req_enum(tag)?))
}

/// An optional enumeration of a payload field.
pub fn opt_enum_item(i: Option<&Item>) -> Result<Option<u32>, KmipError> {
    i.map(as_enum).transpose()
}

/// Attributes listed directly in a payload: bare 1.x `Attribute` items, or a 2.x `Attributes`
/// structure (GetAttributes responses, Locate requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeItems {
    V1(Vec<Attribute>),
    V2(Vec<Attribute>),
}

impl AttributeItems {
    pub fn attributes(&self) -> &[Attribute] {
        match self {
            AttributeItems::V1(a) | AttributeItems::V2(a) => a,
        }
    }

    pub fn read(f: &mut Fields<'_>) -> Result<Self, KmipError> {
        if let Some(i) = f.optional(Tag::ATTRIBUTES) {
            return Ok(AttributeItems::V2(from_v2_attributes(i)?));
        }
        Ok(AttributeItems::V1(
            f.repeated_with(Tag::ATTRIBUTE, Attribute::from_v1)?,
        ))
    }

    pub fn to_items(&self) -> Vec<Item> {
        match self {
            AttributeItems::V1(a) => a.iter().map(Attribute::to_v1).collect(),
            AttributeItems::V2(a) => vec![to_v2_attributes(Tag::ATTRIBUTES, a)],
        }
    }
}

/// The attribute of an Add/Modify/Set Attribute request: a bare 1.x `Attribute`, or the 2.x
/// `NewAttribute` wrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditedAttribute {
    V1(Attribute),
    V2(Attribute),
}

impl EditedAttribute {
    pub fn attribute(&self) -> &Attribute {
        match self {
            EditedAttribute::V1(a) | EditedAttribute::V2(a) => a,
        }
    }

    pub fn read(f: &mut Fields<'_>, parent: Tag) -> Result<Self, KmipError> {
        if let Some(i) = f.optional(Tag::ATTRIBUTE) {
            return Ok(EditedAttribute::V1(Attribute::from_v1(i)?));
        }
        if let Some(i) = f.optional(Tag::NEW_ATTRIBUTE) {
            return Ok(EditedAttribute::V2(single_from(i, Tag::NEW_ATTRIBUTE)?));
        }
        Err(KmipError::Missing {
            parent,
            field: Tag::ATTRIBUTE,
        })
    }

    pub fn to_item(&self) -> Item {
        match self {
            EditedAttribute::V1(a) => a.to_v1(),
            EditedAttribute::V2(a) => single_to(a, Tag::NEW_ATTRIBUTE),
        }
    }
}

/// The response of Add, Modify and Delete Attribute: the identifier and, in 1.x, the attribute
/// as it now is (or as it was, for Delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeEditResponse {
    pub unique_identifier: String,
    pub attribute: Option<Attribute>,
}

impl AttributeEditResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = AttributeEditResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            attribute: f
                .optional(Tag::ATTRIBUTE)
                .map(Attribute::from_v1)
                .transpose()?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .opt_item(self.attribute.as_ref().map(Attribute::to_v1))
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
