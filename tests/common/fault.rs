//! Real faults injected through the same PKCS#11 module the `Hsm` under test uses (no mocks):
//! another party closing every session of the application, or logging it out.

use std::path::Path;

use hsmkms::hsm::{find_token, module_context};

/// `C_CloseAllSessions` on the token: every session of this process dies, pooled ones too.
pub fn close_all_sessions(module: &Path, label: &str) {
    let ctx = module_context(module).unwrap();
    let slot = find_token(&ctx, module, label).unwrap();
    // cryptoki 0.12 does not expose C_CloseAllSessions: call it through cryptoki-sys.
    #[allow(unsafe_code)]
    // SAFETY: loading the already-loaded, already-initialised module only takes a reference.
    let lib = unsafe { cryptoki_sys::Pkcs11::new(module) }.unwrap();
    #[allow(unsafe_code)]
    // SAFETY: a plain slot id in, no pointers.
    let rv = unsafe { lib.C_CloseAllSessions(slot.id() as _) };
    assert_eq!(rv, cryptoki_sys::CKR_OK, "C_CloseAllSessions");
}

/// `C_Logout` through a fresh session: login state is per application, so every pooled session
/// loses its user login (and private objects become invisible).
pub fn logout(module: &Path, label: &str) {
    let ctx = module_context(module).unwrap();
    let slot = find_token(&ctx, module, label).unwrap();
    let s = ctx.open_rw_session(slot).unwrap();
    s.logout().unwrap();
    // Keep the application's other sessions open: closing this one is harmless.
    drop(s);
}
