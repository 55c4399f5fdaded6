//! `hsmkms ttlv decode|encode`: convert one KMIP message between binary TTLV (raw or hex) and
//! the KMIP XML or JSON encodings, for operators reading captures.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::ttlv::{self, Limits, Version};

#[derive(Subcommand)]
pub enum TtlvCommand {
    /// Binary TTLV (raw or hex) → readable XML or JSON.
    Decode(DecodeArgs),
    /// XML or JSON → binary TTLV (raw, or hex with --hex).
    Encode(EncodeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TextFormat {
    Xml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BinaryInput {
    /// Raw bytes, or hex digits when the input is all hex (white space ignored).
    Auto,
    Raw,
    Hex,
}

#[derive(Args)]
pub struct DecodeArgs {
    /// Input file (default: standard input).
    file: Option<PathBuf>,
    /// Output encoding.
    #[arg(long, value_enum, default_value = "xml")]
    to: TextFormat,
    /// How to read the input.
    #[arg(long, value_enum, default_value = "auto")]
    input: BinaryInput,
    /// KMIP version that names tags and values (default: the message's own header).
    #[arg(long, value_name = "X.Y")]
    kmip_version: Option<Version>,
}

#[derive(Args)]
pub struct EncodeArgs {
    /// Input file (default: standard input).
    file: Option<PathBuf>,
    /// Input encoding.
    #[arg(long, value_enum)]
    from: TextFormat,
    /// Write hex digits instead of raw bytes.
    #[arg(long)]
    hex: bool,
    /// KMIP version that resolves tag and value names (default: the message's own header).
    #[arg(long, value_name = "X.Y")]
    kmip_version: Option<Version>,
}

/// Largest input accepted by these commands: the codec's own message limit, as hex.
const MAX_INPUT: u64 = (Limits::DEFAULT.max_message_len as u64) * 2 + 4096;

fn read_input(file: &Option<PathBuf>) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let res = match file {
        Some(p) => std::fs::File::open(p)
            .map_err(|e| format!("cannot open {}: {e}", p.display()))?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf),
        None => std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut buf),
    };
    res.map_err(|e| format!("cannot read input: {e}"))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(format!("input larger than {MAX_INPUT} bytes"));
    }
    Ok(buf)
}

fn write_output(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write output: {e}"))
}

/// The protocol version in a decoded message's header, if it has one.
fn header_version(item: &ttlv::Item) -> Option<Version> {
    use crate::ttlv::{Tag, Value};
    let header = item
        .children()
        .iter()
        .find(|c| c.tag == Tag::REQUEST_HEADER || c.tag == Tag::RESPONSE_HEADER)?;
    let pv = header.child(Tag::PROTOCOL_VERSION)?;
    let int = |t| match pv.child(t).map(|i| &i.value) {
        Some(Value::Integer(v)) => u8::try_from(*v).ok(),
        _ => None,
    };
    Some(Version::new(
        int(Tag::PROTOCOL_VERSION_MAJOR)?,
        int(Tag::PROTOCOL_VERSION_MINOR)?,
    ))
}

pub fn run(cmd: TtlvCommand) -> Result<(), String> {
    match cmd {
        TtlvCommand::Decode(a) => {
            let input = read_input(&a.file)?;
            let is_hex = |b: &[u8]| {
                b.iter()
                    .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace())
            };
            let bytes = match a.input {
                BinaryInput::Raw => input,
                BinaryInput::Hex => decode_hex(&input)?,
                BinaryInput::Auto if !input.is_empty() && is_hex(&input) => decode_hex(&input)?,
                BinaryInput::Auto => input,
            };
            let item = ttlv::decode(&bytes, &Limits::DEFAULT).map_err(|e| e.to_string())?;
            let version = a.kmip_version.or_else(|| header_version(&item));
            let text = match a.to {
                TextFormat::Xml => ttlv::xml::to_xml(&item, version),
                TextFormat::Json => ttlv::json::to_json_string(&item, version) + "\n",
            };
            write_output(text.as_bytes())
        }
        TtlvCommand::Encode(a) => {
            let input = read_input(&a.file)?;
            let text = std::str::from_utf8(&input).map_err(|_| "input is not UTF-8".to_string())?;
            let item = match a.from {
                TextFormat::Xml => {
                    ttlv::xml::from_xml(text, a.kmip_version).map_err(|e| e.to_string())?
                }
                TextFormat::Json => {
                    ttlv::json::from_json(text, a.kmip_version).map_err(|e| e.to_string())?
                }
            };
            let bytes = ttlv::to_vec(&item);
            if a.hex {
                write_output((hex::encode(&bytes) + "\n").as_bytes())
            } else {
                write_output(&bytes)
            }
        }
    }
}

fn decode_hex(input: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = input
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    hex::decode(&digits).map_err(|e| format!("input is not valid hex: {e}"))
}
