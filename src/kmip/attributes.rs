//! The one internal attribute model, fed by both wire forms:
//!
//! - KMIP 1.x: `Attribute { AttributeName: "Cryptographic Algorithm", AttributeIndex?,
//!   AttributeValue }` (inside `TemplateAttribute` and friends) — the value's type follows the
//!   name; custom attributes are named `x-…` (client) or `y-…` (server);
//! - KMIP 2.x: an `Attributes` structure whose children are tagged by the attribute itself
//!   (`<CryptographicAlgorithm …/>`), custom ones as `Attribute { VendorIdentification,
//!   AttributeName, AttributeValue }`.
//!
//! An [`Attribute`] holds a [`AttributeName`] and the value as the TTLV value it has under its
//! own tag, so both forms convert without loss. A 1.x custom `x-Foo` corresponds to a 2.x
//! vendor attribute with vendor identification `x` and name `Foo`.

use crate::kmip::fields::{as_int, as_text, Fields, KmipError};
use crate::ttlv::{tables, Item, ItemType, Tag, Value};

/// Which attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeName {
    /// A specification attribute, by its tag.
    Standard(Tag),
    /// A custom (1.x `x-`/`y-` name) or vendor (2.x) attribute.
    Custom { vendor: String, name: String },
}

impl AttributeName {
    /// From a 1.x attribute name (`"Cryptographic Usage Mask"`, `"x-ID"`).
    pub fn from_v1(text: &str) -> Option<Self> {
        if let Some((vendor @ ("x" | "y"), name)) = text.split_once('-') {
            return Some(AttributeName::Custom {
                vendor: vendor.to_owned(),
                name: name.to_owned(),
            });
        }
        tables::tag_value(&tables::normalize_name(text), None)
            .map(|t| AttributeName::Standard(Tag(t)))
    }

    /// The 1.x text name: the specification's words for standard attributes.
    pub fn to_v1(&self) -> String {
        match self {
            AttributeName::Standard(tag) => spec_text_name(*tag),
            AttributeName::Custom { vendor, name } => format!("{vendor}-{name}"),
        }
    }
}

impl std::fmt::Display for AttributeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_v1())
    }
}

/// Attribute names whose words do not follow from their CamelCase tag name.
const TEXT_NAME_EXCEPTIONS: &[(Tag, &str)] = &[
    (
        Tag::X_509_CERTIFICATE_IDENTIFIER,
        "X.509 Certificate Identifier",
    ),
    (Tag::X_509_CERTIFICATE_SUBJECT, "X.509 Certificate Subject"),
    (Tag::X_509_CERTIFICATE_ISSUER, "X.509 Certificate Issuer"),
    (Tag::PKCS_12_FRIENDLY_NAME, "PKCS#12 Friendly Name"),
];

/// "CryptographicUsageMask" → "Cryptographic Usage Mask".
fn spec_text_name(tag: Tag) -> String {
    if let Some((_, n)) = TEXT_NAME_EXCEPTIONS.iter().find(|(t, _)| *t == tag) {
        return (*n).to_owned();
    }
    let Some(camel) = tables::tag_name(tag.0, None) else {
        return format!("0x{:06X}", tag.0);
    };
    let chars: Vec<char> = camel.chars().collect();
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let boundary = c.is_uppercase()
            && (prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase)
                    && next.is_some_and(|n| n.is_lowercase())));
        if boundary {
            out.push(' ');
        }
        // Some specification tables spell a tag with an underscore (`Compromise_Date`).
        out.push(if *c == '_' { ' ' } else { *c });
    }
    out
}

/// One attribute: name, optional 1.x index, and its value as under its own tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: AttributeName,
    /// Attribute Index (1.x only; 2.x has none).
    pub index: Option<i32>,
    pub value: Value,
}

impl Attribute {
    pub fn new(tag: Tag, value: Value) -> Self {
        Attribute {
            name: AttributeName::Standard(tag),
            index: None,
            value,
        }
    }

    /// From a 1.x `Attribute` structure.
    pub fn from_v1(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::ATTRIBUTE)?;
        let name_item = f.required(Tag::ATTRIBUTE_NAME)?;
        let text = as_text(name_item)?;
        let name = AttributeName::from_v1(&text).ok_or(KmipError::Invalid {
            field: Tag::ATTRIBUTE_NAME,
            reason: "not a KMIP attribute name (custom attributes start with x- or y-)",
        })?;
        let index = f.optional(Tag::ATTRIBUTE_INDEX).map(as_int).transpose()?;
        // Attribute Value is absent in some requests (e.g. a name-only Locate filter).
        let value = f
            .optional(Tag::ATTRIBUTE_VALUE)
            .map(|v| v.value.clone())
            .unwrap_or(Value::Structure(Vec::new()));
        f.finish()?;
        Ok(Attribute { name, index, value })
    }

    /// As a 1.x `Attribute` structure.
    pub fn to_v1(&self) -> Item {
        let mut children = vec![Item::new(
            Tag::ATTRIBUTE_NAME,
            Value::TextString(self.name.to_v1()),
        )];
        if let Some(i) = self.index {
            children.push(Item::new(Tag::ATTRIBUTE_INDEX, Value::Integer(i)));
        }
        children.push(Item::new(Tag::ATTRIBUTE_VALUE, self.value.clone()));
        Item::structure(Tag::ATTRIBUTE, children)
    }

    /// From one child of a 2.x `Attributes` structure.
    pub fn from_v2(item: &Item) -> Result<Self, KmipError> {
        if item.tag != Tag::ATTRIBUTE {
            return Ok(Attribute::new(item.tag, item.value.clone()));
        }
        let mut f = Fields::open(item, Tag::ATTRIBUTE)?;
        let vendor = f.req_text(Tag::VENDOR_IDENTIFICATION)?;
        let name = f.req_text(Tag::ATTRIBUTE_NAME)?;
        let value = f
            .optional(Tag::ATTRIBUTE_VALUE)
            .map(|v| v.value.clone())
            .unwrap_or(Value::Structure(Vec::new()));
        f.finish()?;
        Ok(Attribute {
            name: AttributeName::Custom { vendor, name },
            index: None,
            value,
        })
    }

    /// As one child of a 2.x `Attributes` structure.
    pub fn to_v2(&self) -> Item {
        match &self.name {
            AttributeName::Standard(tag) => Item::new(*tag, self.value.clone()),
            AttributeName::Custom { vendor, name } => Item::structure(
                Tag::ATTRIBUTE,
                vec![
                    Item::new(
                        Tag::VENDOR_IDENTIFICATION,
                        Value::TextString(vendor.clone()),
                    ),
                    Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.clone())),
                    Item::new(Tag::ATTRIBUTE_VALUE, self.value.clone()),
                ],
            ),
        }
    }

    pub fn item_type(&self) -> ItemType {
        self.value.item_type()
    }
}

/// Attributes from a 1.x container (`TemplateAttribute`, `CommonTemplateAttribute`, …): its
/// `Attribute` children. `Name` children of a template (1.x templates by reference) are not
/// supported and refused.
pub fn from_v1_template(item: &Item) -> Result<Vec<Attribute>, KmipError> {
    let mut out = Vec::new();
    for c in item.children() {
        match c.tag {
            Tag::ATTRIBUTE => out.push(Attribute::from_v1(c)?),
            other => {
                return Err(KmipError::Unexpected {
                    parent: item.tag,
                    field: other,
                })
            }
        }
    }
    Ok(out)
}

/// A 1.x container tagged `tag` holding `attrs`.
pub fn to_v1_template(tag: Tag, attrs: &[Attribute]) -> Item {
    Item::structure(tag, attrs.iter().map(Attribute::to_v1).collect())
}

/// Attributes from a 2.x `Attributes` (or `CommonAttributes`, …) structure.
pub fn from_v2_attributes(item: &Item) -> Result<Vec<Attribute>, KmipError> {
    item.children().iter().map(Attribute::from_v2).collect()
}

/// A 2.x attributes structure tagged `tag` holding `attrs`.
pub fn to_v2_attributes(tag: Tag, attrs: &[Attribute]) -> Item {
    Item::structure(tag, attrs.iter().map(Attribute::to_v2).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttlv::enums::CryptographicAlgorithm;

    fn sample() -> Vec<Attribute> {
        vec![
            Attribute::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(CryptographicAlgorithm::AES.0),
            ),
            Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
            Attribute::new(
                Tag::NAME,
                Value::Structure(vec![
                    Item::new(Tag::NAME_VALUE, Value::TextString("k1".into())),
                    Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                ]),
            ),
            Attribute {
                name: AttributeName::Custom {
                    vendor: "x".into(),
                    name: "Product_Version".into(),
                },
                index: None,
                value: Value::TextString("8.0".into()),
            },
        ]
    }

    #[test]
    fn both_forms_feed_the_same_model() {
        let attrs = sample();
        let v1 = to_v1_template(Tag::TEMPLATE_ATTRIBUTE, &attrs);
        let v2 = to_v2_attributes(Tag::ATTRIBUTES, &attrs);
        assert_eq!(from_v1_template(&v1).unwrap(), attrs);
        assert_eq!(from_v2_attributes(&v2).unwrap(), attrs);
        let names: Vec<String> = v1
            .children()
            .iter()
            .map(|a| match &a.children()[0].value {
                Value::TextString(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "Cryptographic Algorithm",
                "Cryptographic Usage Mask",
                "Name",
                "x-Product_Version"
            ]
        );
        assert_eq!(v2.children()[3].tag, Tag::ATTRIBUTE);
    }

    #[test]
    fn names_attributes_in_the_specs_words() {
        for (tag, text) in [
            (
                Tag::X_509_CERTIFICATE_IDENTIFIER,
                "X.509 Certificate Identifier",
            ),
            (Tag::PKCS_12_FRIENDLY_NAME, "PKCS#12 Friendly Name"),
            (Tag::OPERATION_POLICY_NAME, "Operation Policy Name"),
            (Tag::CONTACT_INFORMATION, "Contact Information"),
            (Tag::ORIGINAL_CREATION_DATE, "Original Creation Date"),
            (Tag::COMPROMISE_DATE, "Compromise Date"),
        ] {
            assert_eq!(spec_text_name(tag), text);
            assert_eq!(
                AttributeName::from_v1(text),
                Some(AttributeName::Standard(tag)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_unknown_attribute_names() {
        let bad = Item::structure(
            Tag::ATTRIBUTE,
            vec![
                Item::new(
                    Tag::ATTRIBUTE_NAME,
                    Value::TextString("Frobnication Level".into()),
                ),
                Item::new(Tag::ATTRIBUTE_VALUE, Value::Integer(1)),
            ],
        );
        assert!(matches!(
            Attribute::from_v1(&bad),
            Err(KmipError::Invalid { .. })
        ));
    }
}
