//! The OASIS KMIP 1.4 and 2.1 vectors through the codec and the typed layer:
//! XML → tree → binary → tree → XML (and JSON) without loss, and every message decoded into the
//! typed layer and re-encoded from the typed value to identical bytes. Then the CLI's XML → hex
//! against the OASIS runner's own encoder for every message.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::vectors::{file_version, messages, substitute_placeholders, vector_files, vectors_dir};
use hsmkms::kmip::Message;
use hsmkms::ttlv::{self, json, xml, Limits};

const EXPECTED_FILES: usize = 154;
const EXPECTED_MESSAGES: usize = 2030;

#[test]
fn every_vector_round_trips_through_tree_binary_xml_json_and_typed_layer() {
    let dir = vectors_dir();
    let files = vector_files(&dir);
    assert_eq!(
        files.len(),
        EXPECTED_FILES,
        "vector files under {}",
        dir.display()
    );
    let mut count = 0;
    let mut typed_object_items = 0;
    for path in &files {
        let dir_version = file_version(path);
        for (i, mut node) in messages(path).into_iter().enumerate() {
            let at = format!("{} message {}", path.display(), i + 1);
            substitute_placeholders(&mut node);
            let version = xml::node_version(&node).or(dir_version);
            let tree = xml::node_to_item(&node, version).unwrap_or_else(|e| panic!("{at}: {e}"));
            let bytes = ttlv::to_vec(&tree);
            let back =
                ttlv::decode(&bytes, &Limits::DEFAULT).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(back, tree, "{at}: binary round trip");
            let text = xml::to_xml(&back, version);
            let again =
                xml::from_xml(&text, version).unwrap_or_else(|e| panic!("{at}: {e}\n{text}"));
            assert_eq!(again, tree, "{at}: XML round trip");
            let j = json::to_json_string(&back, version);
            let from_json =
                json::from_json(&j, version).unwrap_or_else(|e| panic!("{at}: {e}\n{j}"));
            assert_eq!(from_json, tree, "{at}: JSON round trip");
            let typed = Message::from_item(&back).unwrap_or_else(|e| panic!("{at}: typed: {e}"));
            // The lifecycle operations are typed, never left as trees.
            if let Message::Request(r) = &typed {
                for b in &r.batch_items {
                    if hsmkms::service::OBJECT_OPERATIONS.contains(&b.operation) {
                        assert!(
                            !matches!(b.payload, hsmkms::kmip::RequestPayload::Other(_)),
                            "{at}: {:?} payload not typed",
                            b.operation
                        );
                        typed_object_items += 1;
                    }
                }
            }
            let re = ttlv::to_vec(&typed.to_item());
            assert!(
                re == bytes,
                "{at}: typed re-encoding differs\n{}",
                xml::to_xml(&typed.to_item(), version)
            );
            count += 1;
        }
    }
    assert_eq!(count, EXPECTED_MESSAGES);
    assert!(
        typed_object_items > 500,
        "{typed_object_items} typed object requests"
    );
}

#[test]
fn cli_encodes_every_vector_message_exactly_as_the_oasis_runner() {
    let dir = vectors_dir();
    let runner = dir
        .parent()
        .expect("vectors dir has a parent")
        .join("run_vectors.py");
    assert!(runner.is_file(), "{} not found", runner.display());
    let xml_dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(&runner)
        .args(["--encode", "--encode-xml"])
        .arg(xml_dir.path())
        .arg(&dir)
        .output()
        .expect("python3 must be installed to run the OASIS runner");
    assert!(
        out.status.success(),
        "runner failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), EXPECTED_MESSAGES, "runner output lines");
    let exe = env!("CARGO_BIN_EXE_hsmkms");
    let check = |line: &&str| -> Option<String> {
        let parts: Vec<&str> = line.split(' ').collect();
        let [file, n, kind, expected] = parts[..] else {
            return Some(format!("unexpected runner line: {line}"));
        };
        let name = format!("{}.{n}.{kind}.xml", file.replace('/', "_"));
        let input = match std::fs::read(xml_dir.path().join(&name)) {
            Ok(i) => i,
            Err(e) => return Some(format!("{name}: runner wrote no XML: {e}")),
        };
        let mut child = Command::new(exe)
            .args(["ttlv", "encode", "--from", "xml", "--hex"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hsmkms");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(&input).expect("write to hsmkms");
        }
        let o = child.wait_with_output().expect("wait for hsmkms");
        let got = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        (got != expected).then(|| {
            format!(
                "{name}: expected {expected}\n got {got} {}",
                String::from_utf8_lossy(&o.stderr)
            )
        })
    };
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<_> = lines.chunks(lines.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
}
