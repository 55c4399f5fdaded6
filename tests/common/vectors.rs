//! Test-side access to the OASIS KMIP conformance vectors (read from `KMIP_VECTORS_DIR`, never
//! copied into the project) and the placeholder substitution that the product itself refuses.

use std::path::{Path, PathBuf};

use hsmkms::ttlv::xml::{self, XmlNode};
use hsmkms::ttlv::Version;

/// The vectors directory; fails (never skips) when the variable is unset or wrong.
pub fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("KMIP_VECTORS_DIR").unwrap_or_else(|| {
        panic!(
            "KMIP_VECTORS_DIR is not set: point it at the OASIS vectors, e.g. \
             KMIP_VECTORS_DIR=../shared/kmip-vectors/vectors (the README's test command sets it)"
        )
    });
    let dir = PathBuf::from(dir);
    assert!(
        dir.is_dir(),
        "KMIP_VECTORS_DIR={} is not a directory",
        dir.display()
    );
    dir
}

/// Every `.xml` vector file below `dir`, sorted.
pub fn vector_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read vectors dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The KMIP version a vector file belongs to, from its directory (`…/1.4/…`).
pub fn file_version(path: &Path) -> Option<Version> {
    path.ancestors()
        .filter_map(|a| a.file_name()?.to_str()?.parse::<Version>().ok())
        .next()
}

/// The request and response message elements of one vector file. Some published files have a
/// stray wrapper end tag: like the OASIS runner, strip the wrappers and parse again.
pub fn messages(path: &Path) -> Vec<XmlNode> {
    let text = std::fs::read_to_string(path).expect("read vector");
    let roots = match xml::parse_document(&text) {
        Ok(r) => r,
        Err(_) => {
            let body = text
                .replace("<KMIP>", "")
                .replace("</KMIP>", "")
                .replace("<KmipTestCase>", "")
                .replace("</KmipTestCase>", "");
            xml::parse_document(&format!("<KMIP>{body}</KMIP>"))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }
    };
    let mut out = Vec::new();
    for r in roots {
        if r.name == "RequestMessage" || r.name == "ResponseMessage" {
            out.push(r);
        } else {
            out.extend(
                r.children
                    .into_iter()
                    .filter(|c| c.name == "RequestMessage" || c.name == "ResponseMessage"),
            );
        }
    }
    out
}

/// Replaces vector placeholders by the runner's fixed stand-ins: DateTime →
/// 2026-01-02T03:04:05+00:00, ByteString → 00112233445566778899aabbccddeeff, TextString → the
/// name without `$`.
pub fn substitute_placeholders(node: &mut XmlNode) {
    node.walk_mut(&mut |n| {
        let Some(v) = n
            .attr("value")
            .filter(|v| v.starts_with('$'))
            .map(str::to_owned)
        else {
            return;
        };
        let stand_in = match n.attr("type") {
            Some("DateTime") => "2026-01-02T03:04:05+00:00".to_owned(),
            Some("ByteString") => "00112233445566778899aabbccddeeff".to_owned(),
            Some("TextString") => v.trim_start_matches('$').to_owned(),
            other => panic!("placeholder {v} in a {other:?}: no stand-in"),
        };
        n.set_attr("value", stand_in);
    });
}
