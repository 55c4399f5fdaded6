//! Types for secrets that pass through this process: the user PIN and clear key bytes read back
//! for an authorised export. They redact `Debug`, have no `Display`, and zeroize on drop.

use std::fmt;
use std::path::Path;

use zeroize::{Zeroize, Zeroizing};

use super::HsmError;

/// The HSM user PIN.
#[derive(Clone, Zeroize)]
#[zeroize(drop)]
pub struct Pin(String);

impl Pin {
    /// Wraps a PIN (tests and tools; the server reads it with [`Pin::from_file`] or
    /// [`Pin::from_env`]).
    pub fn new(pin: String) -> Self {
        Self(pin)
    }

    /// Reads the first line of `path` (trailing CR/LF removed).
    pub fn from_file(path: &Path) -> Result<Self, HsmError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            HsmError::Pin(format!(
                "pin_file {}: {e} (create it with the user PIN on its first line)",
                path.display()
            ))
        })?);
        let line = text.lines().next().unwrap_or("");
        Self::checked(line.to_owned(), || {
            format!("pin_file {} is empty", path.display())
        })
    }

    /// Reads the environment variable `name`.
    pub fn from_env(name: &str) -> Result<Self, HsmError> {
        let value = std::env::var(name)
            .map_err(|_| HsmError::Pin(format!("pin_env variable {name} is not set")))?;
        Self::checked(value, || format!("pin_env variable {name} is empty"))
    }

    fn checked(pin: String, empty: impl FnOnce() -> String) -> Result<Self, HsmError> {
        let pin = Self(pin);
        if pin.0.is_empty() {
            return Err(HsmError::Pin(empty()));
        }
        Ok(pin)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Clear key material (imported values, or a value read back for an authorised KMIP Get).
#[derive(Clone, PartialEq, Eq, Zeroize)]
#[zeroize(drop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_debug() {
        assert_eq!(format!("{:?}", Pin::new("1234".into())), "Pin(<redacted>)");
        let s = format!("{:?}", SecretBytes::new(b"canary-canary".to_vec()));
        assert!(!s.contains("canary"), "{s}");
    }

    #[test]
    fn reads_first_line_of_pin_file_and_rejects_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pin");
        std::fs::write(&p, "987654\r\nignored\n").unwrap();
        assert_eq!(Pin::from_file(&p).unwrap().expose(), "987654");
        std::fs::write(&p, "\n").unwrap();
        assert!(matches!(Pin::from_file(&p), Err(HsmError::Pin(_))));
        let e = Pin::from_file(&dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("pin_file"), "{e}");
    }
}
