//! PKCS#11 through `cryptoki`: the module (initialised once per process), the token found by
//! label, login, a bounded session pool with recovery, the master keys (KEK versions and the
//! record-MAC key), and every cryptographic primitive the service needs. HSM profiles
//! (`hsm-profiles/`) carry what differs between vendors.
//!
//! The API is synchronous and blocking: the server calls it from
//! `tokio::task::spawn_blocking`. It knows nothing of KMIP: keys are named by the caller's
//! unique identifier and described by [`WrappedKey`], which the store keeps.
//!
//! Files: [`session`] (module, token, pool, recovery), [`master`] (KEK and record-MAC key,
//! `init`), [`keys`] (generate, import, wrap/unwrap, export), [`ops`] (symmetric encrypt, MAC,
//! digest, random), [`asym`] (signatures, RSA encryption), [`token`] (creating a token on first
//! start), [`cache`] (unwrapped handles), [`profile`], [`raw`] (the only `unsafe`: mechanism
//! codes cryptoki cannot name), [`secret`] (PIN and clear bytes), [`types`].

mod asym;
mod cache;
mod error;
mod keys;
mod master;
mod ops;
pub mod profile;
mod raw;
mod secret;
mod session;
mod stream;
mod token;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::Pkcs11;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;

pub use asym::{RsaPadding, SignInput};
pub use cache::CacheLimits;
pub use error::{rv_name, HsmError};
pub use keys::MAX_RSA_BITS;
pub use master::{kek_label, mac_label, validate_master_template, InitReport, MasterKeyInventory};
pub use profile::{
    ApprovedMode, PlaintextExport, Profile, CKM_AES_KEY_WRAP_KWP, CKM_AES_KEY_WRAP_PAD,
};
pub use secret::{Pin, SecretBytes};
pub use session::{find_token, module_context};
pub use stream::CipherStream;
pub use token::ensure_token;
pub use types::{
    modulus_bits, Cipher, Curve, HashAlg, KeyKind, KeyPairSpec, KeyUsage, MacAlg, ManagedKey,
    PrivateKeyParts, PublicKey, SignAlg, WrappedKey,
};

use cache::HandleCache;
use master::MasterHandles;
use raw::RawModule;
use session::{lock_plain, Pool};

use crate::config::HsmConfig;

/// Tuning of an [`Hsm`].
#[derive(Debug, Clone, Copy)]
pub struct HsmOptions {
    /// Sessions in the pool (SoftHSM serialises threads in one process: more sessions help
    /// other HSMs, not SoftHSM).
    pub sessions: usize,
    pub cache: CacheLimits,
}

impl Default for HsmOptions {
    fn default() -> Self {
        Self {
            sessions: 4,
            cache: CacheLimits::default(),
        }
    }
}

/// The HSM: one token, logged in, with a pool of sessions. `Send + Sync`; share it in an `Arc`.
pub struct Hsm {
    module: PathBuf,
    ctx: Pkcs11,
    raw: RawModule,
    profile: Profile,
    wrap_code: u64,
    pool: Pool,
    cache: HandleCache,
    /// Master-key handles found in the current pool generation.
    masters: Mutex<Option<(u64, MasterHandles)>>,
}

impl std::fmt::Debug for Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hsm")
            .field("module", &self.module)
            .field("profile", &self.profile.name)
            .finish_non_exhaustive()
    }
}

/// One request's view: the hsm and the leased session.
pub(crate) struct Op<'a> {
    hsm: &'a Hsm,
    s: &'a Session,
    generation: u64,
}

impl Hsm {
    /// Opens the HSM described by `[hsm]`: loads the module, finds the token by label, reads
    /// the PIN from `pin_file` or `pin_env`, logs in, and checks the master keys if present.
    pub fn open(cfg: &HsmConfig) -> Result<Self, HsmError> {
        let pin = match (&cfg.pin_file, &cfg.pin_env) {
            (Some(f), _) => Pin::from_file(f)?,
            (None, Some(v)) => Pin::from_env(v)?,
            (None, None) => return Err(HsmError::Pin("set [hsm] pin_file or pin_env".into())),
        };
        let profile = Profile::load(&cfg.profile)?;
        let options = HsmOptions {
            sessions: cfg.sessions,
            cache: CacheLimits {
                max_entries: cfg.cache_entries,
                max_age: std::time::Duration::from_secs(cfg.cache_max_age_secs),
            },
        };
        Self::open_with(&cfg.module, profile, &cfg.token_label, pin, options)
    }

    /// [`Hsm::open`] with explicit parts.
    pub fn open_with(
        module: &Path,
        profile: Profile,
        token_label: &str,
        pin: Pin,
        options: HsmOptions,
    ) -> Result<Self, HsmError> {
        if !module.is_file() {
            return Err(HsmError::ModuleLoad {
                path: module.to_owned(),
                detail: "file not found".into(),
            });
        }
        let ctx = module_context(module)?;
        let raw = RawModule::load(module)?;
        let slot = find_token(&ctx, module, token_label)?;
        let wrap_code = profile.wrap_code()?;
        let pool = Pool::new(
            ctx.clone(),
            module.to_owned(),
            token_label.to_owned(),
            pin,
            options.sessions,
            slot,
        );
        let hsm = Self {
            module: module.to_owned(),
            ctx,
            raw,
            profile,
            wrap_code,
            pool,
            cache: HandleCache::new(options.cache),
            masters: Mutex::new(None),
        };
        if !hsm.supports(wrap_code)? {
            return Err(HsmError::MechanismUnsupported {
                mechanism: "profile wrap_mechanism",
                code: wrap_code,
                purpose: "wrapping keys under the KEK (check the HSM profile)",
            });
        }
        // Logs in and validates master keys that exist (a public or extractable KEK is refused).
        hsm.run(|op| op.masters().map(|_| ()))?;
        Ok(hsm)
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn module_path(&self) -> &Path {
        &self.module
    }

    /// The KWP mechanism code used for the KEK.
    pub fn wrap_mechanism(&self) -> u64 {
        self.wrap_code
    }

    /// Whether the token offers mechanism `code` (`C_GetMechanismInfo` by code: cryptoki's
    /// mechanism list drops codes it does not know).
    pub fn supports(&self, code: u64) -> Result<bool, HsmError> {
        Ok(self
            .raw
            .mechanism_info(self.pool.slot().id(), code)?
            .is_some())
    }

    /// Drops the cached unwrapped copies of `unique_id` (call on ReKey, Revoke, Destroy and any
    /// change of state or usage).
    pub fn invalidate(&self, unique_id: &str) {
        self.cache.invalidate(unique_id);
    }

    /// Number of cached unwrapped copies (for metrics and tests).
    pub fn cached_handles(&self) -> usize {
        self.cache.len()
    }

    /// The initialised module context (for tools that need raw access to the same module).
    pub fn context(&self) -> &Pkcs11 {
        &self.ctx
    }

    /// Runs `f` on a leased session; on a lost session or login, recovers and fails clearly.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&Op<'_>) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        let lease = self.pool.lease()?;
        let generation = lease.generation;
        self.cache.bury(lease.session(), generation);
        let result = f(&Op {
            hsm: self,
            s: lease.session(),
            generation,
        });
        let e = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let lost =
            e.is_session_loss() || (e.may_be_logout() && self.pool.logged_out(lease.session()));
        if !lost {
            return Err(e);
        }
        let (function, rv) = match &e {
            HsmError::Pkcs11 { function, rv } => (*function, *rv),
            _ => return Err(e),
        };
        drop(lease);
        self.cache.clear();
        *lock_plain(&self.masters) = None;
        let recovered = self.pool.recover(generation);
        Err(HsmError::SessionLost {
            function,
            rv,
            recovered,
        })
    }
}

impl Op<'_> {
    /// The master-key handles of this generation, found on first use.
    pub(crate) fn masters(&self) -> Result<MasterHandles, HsmError> {
        if let Some((g, m)) = lock_plain(&self.hsm.masters).as_ref() {
            if *g == self.generation {
                return Ok(m.clone());
            }
        }
        let found = master::find_masters(self.s)?;
        *lock_plain(&self.hsm.masters) = Some((self.generation, found.clone()));
        Ok(found)
    }

    /// `C_WrapKey` with a parameterless mechanism code: through cryptoki when it can name the
    /// code, through [`raw`] otherwise.
    pub(crate) fn wrap_by_code(
        &self,
        code: u64,
        wrapping: ObjectHandle,
        key: ObjectHandle,
    ) -> Result<Vec<u8>, HsmError> {
        match known_mechanism(code) {
            Some(m) => self
                .s
                .wrap_key(&m, wrapping, key)
                .map_err(|e| HsmError::from_ck("C_WrapKey", e)),
            None => self.hsm.raw.wrap_key(self.s, code, wrapping, key),
        }
    }

    /// `C_UnwrapKey` with a parameterless mechanism code.
    pub(crate) fn unwrap_by_code(
        &self,
        code: u64,
        unwrapping: ObjectHandle,
        blob: &[u8],
        template: &[cryptoki::object::Attribute],
    ) -> Result<ObjectHandle, HsmError> {
        match known_mechanism(code) {
            Some(m) => self
                .s
                .unwrap_key(&m, unwrapping, blob, template)
                .map_err(|e| HsmError::from_ck("C_UnwrapKey", e)),
            None => self
                .hsm
                .raw
                .unwrap_key(self.s, code, unwrapping, blob, template),
        }
    }
}

fn known_mechanism(code: u64) -> Option<Mechanism<'static>> {
    match code {
        0x2109 => Some(Mechanism::AesKeyWrap),
        CKM_AES_KEY_WRAP_PAD => Some(Mechanism::AesKeyWrapPad),
        _ => None,
    }
}

/// A session object destroyed when dropped (transient copies, generated keys once wrapped).
pub(crate) struct Transient<'a> {
    s: &'a Session,
    pub(crate) handle: ObjectHandle,
}

impl<'a> Transient<'a> {
    pub(crate) fn new(s: &'a Session, handle: ObjectHandle) -> Self {
        Self { s, handle }
    }
}

impl Drop for Transient<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.s.destroy_object(self.handle) {
            tracing::debug!(error = %e, "destroying a transient HSM object failed");
        }
    }
}
