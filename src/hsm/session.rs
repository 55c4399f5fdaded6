//! Module loading (one `C_Initialize` per module per process), the token found by label, login,
//! and the bounded session pool with recovery from lost sessions and logins.
//!
//! Recovery: when a call fails with a value meaning the session or login is gone
//! (`CKR_SESSION_HANDLE_INVALID`, `CKR_SESSION_CLOSED`, `CKR_USER_NOT_LOGGED_IN`,
//! `CKR_DEVICE_REMOVED`, `CKR_TOKEN_NOT_PRESENT`, or an invalid handle of a private object while
//! the session is no longer logged in), every pooled session is dropped (its generation ends,
//! which also empties the handle cache and the master-key handles), a fresh session is opened
//! and logged in with bounded backoff, and the request fails with [`HsmError::SessionLost`].
//! The next request runs normally.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::{HsmError, Pin};

/// Backoff between attempts to re-open a session after a loss: bounded, about 1.3 s in all.
const RECOVERY_BACKOFF: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_millis(50),
    Duration::from_millis(250),
    Duration::from_millis(1000),
];

/// How long a request waits for a free session before failing with `PoolExhausted`.
const LEASE_WAIT: Duration = Duration::from_secs(30);

fn modules() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Locks a mutex that guards plain data: a panic while holding it leaves no broken invariant,
/// so poisoning is ignored.
pub(crate) fn lock_plain<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

use lock_plain as lock;

/// The process-wide, initialised context of the module at `path`: loaded and `C_Initialize`d
/// on first use, shared afterwards (a PKCS#11 module must be initialised once per process).
pub fn module_context(path: &Path) -> Result<Pkcs11, HsmError> {
    let key = path.canonicalize().map_err(|e| HsmError::ModuleLoad {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    let mut map = lock(modules());
    if let Some(ctx) = map.get(&key) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| HsmError::ModuleLoad {
        path: key.clone(),
        detail: e.to_string(),
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(HsmError::from_ck("C_Initialize", e)),
    }
    map.insert(key, ctx.clone());
    Ok(ctx)
}

/// The slot holding the token labelled `label` (SoftHSM moves initialised tokens to random slot
/// ids, so slots are never configured by number).
pub fn find_token(ctx: &Pkcs11, module: &Path, label: &str) -> Result<Slot, HsmError> {
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| HsmError::from_ck("C_GetSlotList", e))?;
    let mut present = Vec::new();
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| HsmError::from_ck("C_GetTokenInfo", e))?;
        let l = info.label().trim_end().to_owned();
        if l == label {
            return Ok(slot);
        }
        present.push(l);
    }
    Err(HsmError::TokenNotFound {
        label: label.into(),
        module: module.to_owned(),
        present,
    })
}

struct PoolState {
    idle: Vec<Session>,
    /// Sessions open now, idle or leased.
    open: usize,
    /// Bumped when sessions are lost: leases of older generations are dropped, not returned.
    generation: u64,
    slot: Slot,
}

/// A bounded pool of logged-in read/write sessions.
pub(crate) struct Pool {
    ctx: Pkcs11,
    module: PathBuf,
    label: String,
    pin: Pin,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

/// A session taken from the pool; returned on drop unless its generation ended.
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    session: Option<Session>,
    pub(crate) generation: u64,
}

impl Lease<'_> {
    pub(crate) fn session(&self) -> &Session {
        // Only `None` during drop.
        self.session
            .as_ref()
            .unwrap_or_else(|| unreachable!("lease used after drop"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let mut st = lock(&self.pool.state);
        if st.generation == self.generation {
            st.idle.push(session);
        } else {
            // The session belongs to a dead generation: it was closed by the fault or is
            // useless; drop it (cryptoki's close error is ignored) without returning it.
            st.open = st.open.saturating_sub(1);
            drop(st);
            drop(session);
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    pub(crate) fn new(
        ctx: Pkcs11,
        module: PathBuf,
        label: String,
        pin: Pin,
        max: usize,
        slot: Slot,
    ) -> Self {
        Self {
            ctx,
            module,
            label,
            pin,
            max: max.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                generation: 0,
                slot,
            }),
            freed: Condvar::new(),
        }
    }

    pub(crate) fn slot(&self) -> Slot {
        lock(&self.state).slot
    }

    /// Takes an idle session, opens one if under the bound, or waits.
    pub(crate) fn lease(&self) -> Result<Lease<'_>, HsmError> {
        let mut st = lock(&self.state);
        loop {
            if let Some(session) = st.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    session: Some(session),
                    generation: st.generation,
                });
            }
            if st.open < self.max {
                st.open += 1;
                let (slot, generation) = (st.slot, st.generation);
                drop(st);
                return match self.open_logged_in(slot) {
                    Ok(session) => Ok(Lease {
                        pool: self,
                        session: Some(session),
                        generation,
                    }),
                    Err(e) => {
                        let mut st = lock(&self.state);
                        st.open = st.open.saturating_sub(1);
                        drop(st);
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(st, LEASE_WAIT)
                .unwrap_or_else(|e| e.into_inner());
            st = next;
            if timeout.timed_out() && st.idle.is_empty() && st.open >= self.max {
                return Err(HsmError::PoolExhausted(self.max));
            }
        }
    }

    /// Opens a read/write session and logs the user in unless the application already is
    /// (login is per application and token, not per session).
    fn open_logged_in(&self, slot: Slot) -> Result<Session, HsmError> {
        let session = self
            .ctx
            .open_rw_session(slot)
            .map_err(|e| HsmError::from_ck("C_OpenSession", e))?;
        let state = session
            .get_session_info()
            .map_err(|e| HsmError::from_ck("C_GetSessionInfo", e))?
            .session_state();
        if !matches!(state, SessionState::RwUser | SessionState::RoUser) {
            let pin = AuthPin::from(self.pin.expose());
            match session.login(UserType::User, Some(&pin)) {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(e) => return Err(HsmError::from_ck("C_Login", e)),
            }
        }
        Ok(session)
    }

    /// True when `session` is alive but no longer logged in (someone called `C_Logout`).
    pub(crate) fn logged_out(&self, session: &Session) -> bool {
        match session.get_session_info() {
            Ok(info) => !matches!(
                info.session_state(),
                SessionState::RwUser | SessionState::RoUser
            ),
            Err(_) => true,
        }
    }

    /// Ends the current generation (drops every idle session) and re-opens one logged-in
    /// session with bounded backoff. Returns whether it succeeded.
    pub(crate) fn recover(&self, failed_generation: u64) -> bool {
        let dropped = {
            let mut st = lock(&self.state);
            if st.generation == failed_generation {
                st.generation += 1;
                let idle = std::mem::take(&mut st.idle);
                st.open = st.open.saturating_sub(idle.len());
                idle
            } else {
                Vec::new()
            }
        };
        // Closing may fail (the sessions are gone): cryptoki ignores the error on drop.
        drop(dropped);
        tracing::warn!(
            module = %self.module.display(),
            token = %self.label,
            "HSM session lost: re-opening sessions"
        );
        for wait in RECOVERY_BACKOFF {
            std::thread::sleep(wait);
            // The token may have moved (removed and re-inserted): look it up again.
            let slot = match find_token(&self.ctx, &self.module, &self.label) {
                Ok(s) => s,
                Err(_) => continue,
            };
            match self.open_logged_in(slot) {
                Ok(session) => {
                    let mut st = lock(&self.state);
                    st.slot = slot;
                    if st.open < self.max {
                        st.idle.push(session);
                        st.open += 1;
                    }
                    drop(st);
                    self.freed.notify_one();
                    tracing::info!(token = %self.label, "HSM sessions re-opened");
                    return true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "re-opening an HSM session failed");
                }
            }
        }
        false
    }
}
