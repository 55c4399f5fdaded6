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
    // Through the function list: Kryoptic exports only C_GetFunctionList/C_GetInterface.
    let mut list: *mut cryptoki_sys::CK_FUNCTION_LIST = std::ptr::null_mut();
    #[allow(unsafe_code)]
    // SAFETY: C_GetFunctionList writes one pointer to the module's static table.
    let rv = unsafe { lib.C_GetFunctionList(&mut list) };
    assert_eq!(rv, cryptoki_sys::CKR_OK, "C_GetFunctionList");
    assert!(!list.is_null());
    #[allow(unsafe_code)]
    // SAFETY: `list` is non-null and points to the module's static function table.
    let close_all = unsafe { (*list).C_CloseAllSessions }.expect("C_CloseAllSessions");
    #[allow(unsafe_code)]
    // SAFETY: a plain slot id in, no pointers.
    let rv = unsafe { close_all(slot.id() as _) };
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

/// `C_WrapKey` with a parameterless mechanism by code (cryptoki 0.12 cannot name 0x210B), for
/// measuring a token's KWP output against RFC 5649 vectors.
pub fn wrap_by_code(
    module: &Path,
    session: &cryptoki::session::Session,
    code: u64,
    wrapping: cryptoki::object::ObjectHandle,
    key: cryptoki::object::ObjectHandle,
) -> Vec<u8> {
    #[allow(unsafe_code)]
    // SAFETY: loading the already-loaded, already-initialised module only takes a reference.
    let lib = unsafe { cryptoki_sys::Pkcs11::new(module) }.unwrap();
    let mut list: *mut cryptoki_sys::CK_FUNCTION_LIST = std::ptr::null_mut();
    #[allow(unsafe_code)]
    // SAFETY: C_GetFunctionList writes one pointer to the module's static table.
    let rv = unsafe { lib.C_GetFunctionList(&mut list) };
    assert_eq!(rv, cryptoki_sys::CKR_OK);
    #[allow(unsafe_code)]
    // SAFETY: `list` points to the module's static function table.
    let wrap = unsafe { (*list).C_WrapKey }.expect("C_WrapKey");
    let mut mech = cryptoki_sys::CK_MECHANISM {
        mechanism: code as _,
        pParameter: std::ptr::null_mut(),
        ulParameterLen: 0,
    };
    let mut out = vec![0u8; 1024];
    let mut len = out.len() as cryptoki_sys::CK_ULONG;
    #[allow(unsafe_code)]
    // SAFETY: `out` has `len` writable bytes; the mechanism lives across the call.
    let rv = unsafe {
        wrap(
            session.handle(),
            &mut mech,
            wrapping.handle(),
            key.handle(),
            out.as_mut_ptr(),
            &mut len,
        )
    };
    assert_eq!(rv, cryptoki_sys::CKR_OK, "C_WrapKey({code:#x})");
    out.truncate(len as usize);
    out
}

/// Destroys the token object labelled `label` (a master key) through a fresh session logged in
/// with `pin`: what an `init` killed before creating that key leaves behind. The session is
/// closed again, so the application's login state is what it was.
pub fn destroy_token_object(module: &Path, token: &str, pin: &str, label: &str) {
    use cryptoki::object::Attribute;
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;
    let ctx = module_context(module).unwrap();
    let slot = find_token(&ctx, module, token).unwrap();
    let s = ctx.open_rw_session(slot).unwrap();
    match s.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))) {
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
        }
        Err(e) => panic!("login: {e}"),
    }
    let found = s
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .unwrap();
    assert_eq!(found.len(), 1, "one object labelled {label}");
    s.destroy_object(found[0]).unwrap();
}
