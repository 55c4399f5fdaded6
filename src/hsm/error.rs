//! [`HsmError`]: every failure of the HSM layer, naming the PKCS#11 function and return value and,
//! where the cause is known, what to do about it.

use std::path::PathBuf;

use cryptoki::error::{Error as CkError, RvError};

/// A failure of the HSM layer.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The PKCS#11 module could not be loaded.
    #[error(
        "cannot load the PKCS#11 module {path}: {detail}. Install SoftHSMv2 (Debian: \
         `apt-get install softhsm2`, module /usr/lib/softhsm/libsofthsm2.so) or set [hsm] module \
         to your HSM vendor's PKCS#11 library"
    )]
    ModuleLoad { path: PathBuf, detail: String },

    /// A PKCS#11 call returned an error.
    #[error("{function} returned {}{}", rv_name(*.rv), advice(*.rv))]
    Pkcs11 { function: &'static str, rv: RvError },

    /// The session or the login was lost (session closed, logged out, token removed). The
    /// current request failed; the pool has re-opened and re-logged in when `recovered` is true.
    #[error(
        "{function} returned {}: the HSM session was lost ({}); the request was not carried out, \
         retry it",
        rv_name(*.rv),
        if *.recovered { "sessions re-opened" } else { "re-opening failed, check the HSM" }
    )]
    SessionLost {
        function: &'static str,
        rv: RvError,
        recovered: bool,
    },

    /// No token with the configured label.
    #[error(
        "no token labelled {label:?} in module {module} (tokens present: {present:?}): check \
         [hsm] token_label or initialise the token"
    )]
    TokenNotFound {
        label: String,
        module: PathBuf,
        present: Vec<String>,
    },

    /// A token had to be created but every slot already holds an initialised token.
    #[error(
        "cannot create token {label:?}: module {module} has no slot without an initialised \
         token (SoftHSM always offers one; another HSM's token must be initialised with its own \
         tools)"
    )]
    NoFreeSlot { module: PathBuf, label: String },

    /// The PIN could not be read.
    #[error("cannot read the HSM PIN: {0}")]
    Pin(String),

    /// Authenticated decryption failed: wrong key, IV, additional data or tag, or altered data.
    /// SoftHSM reports this as `CKR_GENERAL_ERROR`, Kryoptic as `CKR_ENCRYPTED_DATA_INVALID`.
    #[error("{function}: authentication failed (wrong key, IV, additional data or tag, or the ciphertext was altered)")]
    AuthenticationFailed { function: &'static str },

    /// A signature or MAC did not verify.
    #[error("{function}: signature or MAC does not verify")]
    SignatureInvalid { function: &'static str },

    /// A store record's MAC does not verify: the record was altered, swapped or forged.
    #[error("record MAC does not verify: the record was altered or belongs to another object; it must not be used")]
    RecordMacInvalid,

    /// The token does not offer a mechanism this request needs.
    #[error("the token does not support mechanism {mechanism} ({code:#x}) for {purpose}")]
    MechanismUnsupported {
        mechanism: &'static str,
        code: u64,
        purpose: &'static str,
    },

    /// A master key (KEK or record-MAC key) is absent.
    #[error("master key {label} not found in the token: run `hsmkms init --config FILE` (on a token with part of the master keys it completes the set while the store is empty)")]
    MasterKeyMissing { label: String },

    /// `init` found master keys already present and refuses to overwrite them.
    #[error("master key {label} already exists in the token: init never overwrites keys (use --new-kek-version to add a KEK version)")]
    MasterKeyExists { label: String },

    /// A master-key template or object lacks a protection it must have.
    #[error("master key {label} is not protected as required: {reason}")]
    InsecureMasterKey { label: String, reason: &'static str },

    /// A blob names a KEK version that the token does not hold.
    #[error("KEK version {version} not found in the token (label hsmkms-kek-v{version})")]
    KekVersionMissing { version: u32 },

    /// A request argument is not acceptable (bad length, unsupported size, inconsistent type).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),

    /// An HSM profile could not be found or parsed.
    #[error("HSM profile {name}: {reason}")]
    Profile { name: String, reason: String },

    /// No pooled session became free in time.
    #[error("all {0} HSM sessions are busy: raise [hsm] sessions or reduce concurrency")]
    PoolExhausted(usize),

    /// An error of the cryptoki wrapper that is not a PKCS#11 return value.
    #[error("cryptoki: {0}")]
    Cryptoki(String),
}

impl HsmError {
    /// Wraps a cryptoki error from `function`, mapping the values whose meaning is known.
    pub(crate) fn from_ck(function: &'static str, e: CkError) -> Self {
        match e {
            CkError::Pkcs11(rv, _) => Self::from_rv(function, rv),
            CkError::LibraryLoading(e) => Self::Cryptoki(e.to_string()),
            other => Self::Cryptoki(other.to_string()),
        }
    }

    pub(crate) fn from_rv(function: &'static str, rv: RvError) -> Self {
        match rv {
            RvError::SignatureInvalid | RvError::SignatureLenRange => {
                Self::SignatureInvalid { function }
            }
            _ => Self::Pkcs11 { function, rv },
        }
    }

    /// The PKCS#11 return value carried, if any.
    pub fn rv(&self) -> Option<RvError> {
        match self {
            Self::Pkcs11 { rv, .. } | Self::SessionLost { rv, .. } => Some(*rv),
            _ => None,
        }
    }

    /// True when the error means the session or login is gone, so the session must be dropped.
    pub(crate) fn is_session_loss(&self) -> bool {
        matches!(self.rv(), Some(rv) if rv_is_session_loss(rv))
    }

    /// True when the error may hide a logout (a private object's handle became invalid).
    pub(crate) fn may_be_logout(&self) -> bool {
        matches!(
            self.rv(),
            Some(
                RvError::KeyHandleInvalid
                    | RvError::ObjectHandleInvalid
                    | RvError::WrappingKeyHandleInvalid
                    | RvError::UnwrappingKeyHandleInvalid
            )
        )
    }
}

pub(crate) fn rv_is_session_loss(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::UserNotLoggedIn
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::CryptokiNotInitialized
    )
}

/// `PinIncorrect` → `CKR_PIN_INCORRECT`.
pub fn rv_name(rv: RvError) -> String {
    match rv {
        RvError::UnknownErrorCode(c) => format!("CKR_{c:#x}"),
        RvError::VendorDefined(c) => format!("CKR_VENDOR_DEFINED({c:#x})"),
        other => {
            let debug = format!("{other:?}");
            let mut out = String::from("CKR");
            for ch in debug.chars() {
                if ch.is_ascii_uppercase() {
                    out.push('_');
                }
                out.push(ch.to_ascii_uppercase());
            }
            out
        }
    }
}

fn advice(rv: RvError) -> &'static str {
    match rv {
        RvError::PinIncorrect => ": the user PIN is wrong, check pin_file (or pin_env)",
        RvError::PinLocked => ": the user PIN is locked, the security officer must reset it",
        RvError::PinExpired => ": the user PIN has expired, change it with the HSM's tools",
        RvError::UserPinNotInitialized => {
            ": the token has no user PIN yet, initialise it (softhsm2-util --init-token or pkcs11-tool --init-pin)"
        }
        RvError::TokenWriteProtected => ": the token is write-protected",
        RvError::MechanismInvalid => ": the token does not offer this mechanism, check the HSM profile",
        RvError::KeyFunctionNotPermitted => ": the key's attributes forbid this operation",
        RvError::DeviceMemory => ": the HSM is out of memory for objects or sessions",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_return_values_as_in_the_standard() {
        assert_eq!(rv_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(rv_name(RvError::GeneralError), "CKR_GENERAL_ERROR");
        assert_eq!(
            rv_name(RvError::SessionHandleInvalid),
            "CKR_SESSION_HANDLE_INVALID"
        );
    }

    #[test]
    fn advises_on_wrong_pin() {
        let e = HsmError::from_rv("C_Login", RvError::PinIncorrect).to_string();
        assert!(e.contains("C_Login returned CKR_PIN_INCORRECT"), "{e}");
        assert!(e.contains("check pin_file"), "{e}");
    }
}
