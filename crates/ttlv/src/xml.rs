//! The KMIP XML encoding (KMIP Additional Message Encodings §6, KMIP Profiles 2.x): one element
//! per item, named by its tag (`<ActivationDate type="DateTime" value="…"/>`), Structures as
//! elements with children, unknown or extension tags as `<TTLV tag="0x540001" …>`.
//!
//! Parsing happens in two steps: [`parse_document`] reads the XML into a small [`XmlNode`] tree
//! (bounded depth, no entity expansion), then [`node_to_item`] resolves names through the tables
//! of one protocol version. The split lets test tools rewrite nodes (e.g. vector placeholders)
//! between the steps; the product refuses placeholders with a clear error.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::item::{Item, ItemType, Tag, Value};
use crate::text::{self, TextError};
use crate::{tables, Version};

/// Deepest element nesting accepted when reading XML (the same order as the binary limit).
pub const MAX_XML_DEPTH: usize = 32;

/// A parsed XML element: name, attributes (unescaped) and child elements. Text and comments
/// are dropped: the KMIP XML encoding carries every value in attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlNode {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XmlNode>,
}

impl XmlNode {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, key: &str, value: String) {
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key.to_owned(), value)),
        }
    }

    /// Visits this node and every descendant, parents first.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut XmlNode)) {
        f(self);
        for c in &mut self.children {
            c.walk_mut(f);
        }
    }
}

/// Why XML could not be read as TTLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Not well-formed XML (the parser's own message and byte position).
    Syntax { position: u64, message: String },
    /// Elements nest deeper than [`MAX_XML_DEPTH`].
    TooDeep,
    /// No element, or more than one at the top.
    NotOneRoot(usize),
    /// An element name that is no KMIP tag in any version.
    UnknownTag(String),
    /// A `type` attribute that names no item type.
    UnknownType { tag: String, item_type: String },
    /// A non-Structure element without a `value`.
    MissingValue { tag: String },
    /// A leaf element with children.
    LeafWithChildren { tag: String },
    /// The value is not valid for its type.
    Value(TextError),
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Syntax { position, message } => {
                write!(f, "XML is not well-formed at byte {position}: {message}")
            }
            XmlError::TooDeep => write!(f, "XML elements nest deeper than {MAX_XML_DEPTH} levels"),
            XmlError::NotOneRoot(n) => write!(f, "expected one top-level element, found {n}"),
            XmlError::UnknownTag(t) => write!(
                f,
                "<{t}> is not a KMIP tag name (use <TTLV tag=\"0x54xxxx\" …> for extensions)"
            ),
            XmlError::UnknownType { tag, item_type } => {
                write!(f, "<{tag}>: unknown item type \"{item_type}\"")
            }
            XmlError::MissingValue { tag } => write!(f, "<{tag}> has no value attribute"),
            XmlError::LeafWithChildren { tag } => {
                write!(
                    f,
                    "<{tag}> has a type other than Structure but contains elements"
                )
            }
            XmlError::Value(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for XmlError {}

impl From<TextError> for XmlError {
    fn from(e: TextError) -> Self {
        XmlError::Value(e)
    }
}

fn node_of(e: &BytesStart<'_>) -> Result<XmlNode, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        attrs.push((key, value));
    }
    Ok(XmlNode {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// Reads an XML document into element nodes: the top-level elements, in order.
pub fn parse_document(text: &str) -> Result<Vec<XmlNode>, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut roots = Vec::new();
    let syntax = |reader: &Reader<&[u8]>, message: String| XmlError::Syntax {
        position: reader.error_position(),
        message,
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| syntax(&reader, e.to_string()))?;
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(node_of(&e).map_err(|m| syntax(&reader, m))?);
            }
            Event::Empty(e) => {
                let node = node_of(&e).map_err(|m| syntax(&reader, m))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => roots.push(node),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| syntax(&reader, "unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => roots.push(node),
                }
            }
            Event::DocType(_) => {
                return Err(syntax(
                    &reader,
                    "DOCTYPE declarations are not accepted".into(),
                ))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(syntax(&reader, "unclosed element at end of input".into()));
    }
    Ok(roots)
}

fn hex_tag(s: &str) -> Option<u32> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .or_else(|| s.strip_prefix('x'))
        .unwrap_or(s);
    if h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(h, 16).ok()
    } else {
        None
    }
}

/// The protocol version in a message's header (`RequestHeader`/`ResponseHeader` →
/// `ProtocolVersion`), read without the tables' help.
pub fn node_version(message: &XmlNode) -> Option<Version> {
    let header = message
        .children
        .iter()
        .find(|c| c.name == "RequestHeader" || c.name == "ResponseHeader")?;
    let pv = header
        .children
        .iter()
        .find(|c| c.name == "ProtocolVersion")?;
    let int = |name: &str| -> Option<u8> {
        pv.children
            .iter()
            .find(|c| c.name == name)?
            .attr("value")?
            .trim()
            .parse()
            .ok()
    };
    Some(Version::new(
        int("ProtocolVersionMajor")?,
        int("ProtocolVersionMinor")?,
    ))
}

/// Converts one element (and its subtree) to a TTLV item, resolving names in `version`.
pub fn node_to_item(node: &XmlNode, version: Option<Version>) -> Result<Item, XmlError> {
    convert(node, version, &[], 1)
}

fn convert(
    node: &XmlNode,
    version: Option<Version>,
    preceding: &[Item],
    depth: usize,
) -> Result<Item, XmlError> {
    if depth > MAX_XML_DEPTH {
        return Err(XmlError::TooDeep);
    }
    let name = node.name.rsplit(':').next().unwrap_or(&node.name);
    let (tag, tag_name) = if name == "TTLV" {
        let t = node.attr("tag").unwrap_or("");
        let tag = hex_tag(t)
            .or_else(|| tables::tag_value(t, version))
            .ok_or_else(|| XmlError::UnknownTag(t.to_owned()))?;
        let tname = node
            .attr("name")
            .map(str::to_owned)
            .or_else(|| tables::tag_name(tag, version).map(str::to_owned))
            .unwrap_or_else(|| format!("0x{tag:06X}"));
        (tag, tname)
    } else {
        let tag = tables::tag_value(name, version)
            .or_else(|| hex_tag(name))
            .ok_or_else(|| XmlError::UnknownTag(name.to_owned()))?;
        (tag, name.to_owned())
    };
    let type_name = node.attr("type").unwrap_or("Structure");
    let item_type = ItemType::from_name(type_name).ok_or_else(|| XmlError::UnknownType {
        tag: tag_name.clone(),
        item_type: type_name.to_owned(),
    })?;
    if item_type == ItemType::Structure {
        let mut children: Vec<Item> = Vec::with_capacity(node.children.len());
        for c in &node.children {
            let item = convert(c, version, &children, depth + 1)?;
            children.push(item);
        }
        return Ok(Item::new(Tag(tag), Value::Structure(children)));
    }
    if !node.children.is_empty() {
        return Err(XmlError::LeafWithChildren { tag: tag_name });
    }
    let raw = match node.attr("value") {
        Some(v) => v,
        None if matches!(item_type, ItemType::TextString | ItemType::ByteString) => "",
        None => return Err(XmlError::MissingValue { tag: tag_name }),
    };
    let ctx = text::context_name(&tag_name, preceding);
    let value = text::parse_value(&tag_name, item_type, raw, ctx.as_deref(), version)?;
    Ok(Item::new(Tag(tag), value))
}

/// Reads exactly one message element from XML text. The version that resolves names is
/// `version` when given, else the message's own header, else the newest known.
pub fn from_xml(text: &str, version: Option<Version>) -> Result<Item, XmlError> {
    let roots = parse_document(text)?;
    let [root] = roots.as_slice() else {
        return Err(XmlError::NotOneRoot(roots.len()));
    };
    node_to_item(root, version.or_else(|| node_version(root)))
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if u32::from(c) < 0x20 || c == '\u{7F}' => {
                out.push_str(&format!("&#{};", u32::from(c)))
            }
            c => out.push(c),
        }
    }
}

/// Renders an item as indented KMIP XML, naming tags and values in `version`. Control
/// characters in text become character references; U+0000, which XML 1.0 cannot carry at all,
/// is written as `&#0;` and such a document does not read back.
pub fn to_xml(item: &Item, version: Option<Version>) -> String {
    let mut out = String::with_capacity(256);
    render(item, version, &[], 0, &mut out);
    out
}

fn render(
    item: &Item,
    version: Option<Version>,
    preceding: &[Item],
    depth: usize,
    out: &mut String,
) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    let name = tables::tag_name(item.tag.0, version);
    let close_name = match name {
        Some(n) => {
            out.push('<');
            out.push_str(n);
            n.to_owned()
        }
        None => {
            out.push_str(&format!("<TTLV tag=\"0x{:06X}\"", item.tag.0));
            "TTLV".to_owned()
        }
    };
    if let Value::Structure(children) = &item.value {
        if children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push_str(">\n");
        for (i, c) in children.iter().enumerate() {
            render(c, version, &children[..i], depth + 1, out);
        }
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push_str("</");
        out.push_str(&close_name);
        out.push_str(">\n");
        return;
    }
    out.push_str(" type=\"");
    out.push_str(item.item_type().name());
    out.push_str("\" value=\"");
    let ctx = text::context_name(name.unwrap_or(""), preceding);
    escape_attr(
        &text::format_value(&item.value, ctx.as_deref(), version, " "),
        out,
    );
    out.push_str("\"/>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Create"/>
    <RequestPayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>
      <TemplateAttribute>
        <Attribute>
          <AttributeName type="TextString" value="Cryptographic Usage Mask"/>
          <AttributeValue type="Integer" value="Encrypt Decrypt"/>
        </Attribute>
        <Attribute>
          <AttributeName type="TextString" value="x-note"/>
          <AttributeValue type="TextString" value="a &amp; b&#10;c"/>
        </Attribute>
      </TemplateAttribute>
      <TTLV tag="0x540001" type="ByteString" value="00ff"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>
"#;

    #[test]
    fn round_trips_a_request_with_attribute_context_and_extensions() {
        let item = from_xml(REQ, None).unwrap();
        let attr = &item.children()[1].children()[1].children()[1].children()[0];
        assert_eq!(attr.children()[1].value, Value::Integer(12));
        let ext = item.children()[1].children()[1].children().last().unwrap();
        assert_eq!(ext.tag, Tag(0x540001));
        let xml = to_xml(&item, Some(Version::new(1, 4)));
        assert!(xml.contains("value=\"Encrypt Decrypt\""), "{xml}");
        assert!(xml.contains("a &amp; b&#10;c"), "{xml}");
        assert_eq!(from_xml(&xml, None).unwrap(), item);
    }

    #[test]
    fn rejects_unknown_tags_types_and_placeholders() {
        assert!(matches!(
            from_xml("<Frobnicate/>", None),
            Err(XmlError::UnknownTag(_))
        ));
        assert!(matches!(
            from_xml(r#"<BatchCount type="Float" value="1"/>"#, None),
            Err(XmlError::UnknownType { .. })
        ));
        assert!(matches!(
            from_xml(
                r#"<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>"#,
                None
            ),
            Err(XmlError::Value(TextError::Placeholder { .. }))
        ));
        assert!(matches!(
            from_xml("<A><B>", None),
            Err(XmlError::Syntax { .. })
        ));
        assert!(matches!(from_xml("", None), Err(XmlError::NotOneRoot(0))));
    }

    #[test]
    fn rejects_deep_nesting_without_recursing() {
        let deep = "<RequestMessage>".repeat(10_000) + &"</RequestMessage>".repeat(10_000);
        assert_eq!(from_xml(&deep, None), Err(XmlError::TooDeep));
    }

    #[test]
    fn rejects_doctype_entities() {
        let x = r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><BatchCount type="Integer" value="&a;"/>"#;
        assert!(matches!(from_xml(x, None), Err(XmlError::Syntax { .. })));
    }
}
