//! [`Identity`]: who the client is, as the server read it from the client certificate (subject
//! CN by default; `[tls] identity` chooses). Handed to the service with every request; it is the
//! owner of the objects the client creates and the name `[access] admins` lists.

use std::fmt;

/// A client identity. Compared byte for byte (no case folding: `CN=Alice` and `CN=alice` are
/// different clients, as a CA would treat them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity(String);

impl Identity {
    pub fn new(name: impl Into<String>) -> Self {
        Identity(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Identities come from certificates: show control characters escaped in logs.
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}
