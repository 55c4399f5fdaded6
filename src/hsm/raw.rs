//! The one place with `unsafe`: PKCS#11 calls with mechanism codes that cryptoki 0.12 cannot
//! name. Its `MechanismType` has a private field and `new_vendor_defined` refuses codes below
//! `CKM_VENDOR_DEFINED`, so the standard `CKM_AES_KEY_WRAP_KWP` (0x210B, Kryoptic's KWP) and
//! `CKM_MD5_HMAC` (0x211, legacy HMAC-MD5 outside FIPS mode) have no safe spelling; neither has
//! any vendor's own code for `C_GetMechanismInfo` checks below that range.
//!
//! The module loads the same shared library as cryptoki (the dynamic loader returns the already
//! loaded image, so both share one library state), takes its function list with
//! `C_GetFunctionList`, and works on handles from `Session::handle()` and
//! `ObjectHandle::handle()`. It never calls `C_Initialize`: cryptoki did, once per process.
#![allow(unsafe_code)]

use std::path::Path;
use std::ptr;

use cryptoki::error::{Rv, RvError};
use cryptoki::object::{Attribute, ObjectHandle};
use cryptoki::session::Session;
use cryptoki_sys::{
    CKR_OK, CK_ATTRIBUTE, CK_FUNCTION_LIST, CK_MECHANISM, CK_MECHANISM_INFO, CK_OBJECT_HANDLE,
    CK_ULONG,
};

use super::HsmError;

/// The module's function list, kept with the library handle that owns it.
pub(crate) struct RawModule {
    // Holds the dlopen reference so the function pointers below stay valid.
    _lib: cryptoki_sys::Pkcs11,
    list: CK_FUNCTION_LIST,
}

// SAFETY: CK_FUNCTION_LIST is a table of plain function pointers into the loaded module, which
// stays loaded while `_lib` lives; the module was initialised with OS locking, so its functions
// may be called from any thread.
unsafe impl Send for RawModule {}
// SAFETY: as above; the table is never mutated after construction.
unsafe impl Sync for RawModule {}

impl std::fmt::Debug for RawModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawModule")
    }
}

fn check(function: &'static str, rv: CK_ULONG) -> Result<(), HsmError> {
    if rv == CKR_OK {
        return Ok(());
    }
    match Rv::from(rv) {
        Rv::Error(e) => Err(HsmError::from_rv(function, e)),
        Rv::Ok => Ok(()),
    }
}

impl RawModule {
    /// Loads `path` (already loaded and initialised by cryptoki) and reads its function list.
    pub(crate) fn load(path: &Path) -> Result<Self, HsmError> {
        // SAFETY: loading a PKCS#11 module runs its initialisers; cryptoki has already loaded
        // the same file, so this only takes another reference to the mapped image.
        let lib = unsafe { cryptoki_sys::Pkcs11::new(path) }.map_err(|e| HsmError::ModuleLoad {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        let mut list_ptr: *mut CK_FUNCTION_LIST = ptr::null_mut();
        if lib.C_GetFunctionList.is_err() {
            return Err(HsmError::ModuleLoad {
                path: path.to_owned(),
                detail: "no C_GetFunctionList symbol".into(),
            });
        }
        // SAFETY: C_GetFunctionList writes one pointer to a static table owned by the module.
        check("C_GetFunctionList", unsafe {
            lib.C_GetFunctionList(&mut list_ptr)
        })?;
        if list_ptr.is_null() {
            return Err(HsmError::from_rv(
                "C_GetFunctionList",
                RvError::GeneralError,
            ));
        }
        // SAFETY: the pointer is non-null and points to the module's static function table,
        // valid while the library is loaded; we copy the table of pointers.
        let list = unsafe { *list_ptr };
        Ok(Self { _lib: lib, list })
    }

    /// `C_GetMechanismInfo` by raw code: cryptoki's `get_mechanism_list` drops codes it does
    /// not know, so support is always checked this way. `Ok(None)` when not supported.
    pub(crate) fn mechanism_info(
        &self,
        slot: u64,
        code: u64,
    ) -> Result<Option<CK_MECHANISM_INFO>, HsmError> {
        let f = self.list.C_GetMechanismInfo.ok_or(HsmError::from_rv(
            "C_GetMechanismInfo",
            RvError::FunctionNotSupported,
        ))?;
        let mut info = CK_MECHANISM_INFO::default();
        // SAFETY: plain integers in, one caller-owned struct out.
        let rv = unsafe { f(slot as _, code as _, &mut info) };
        match Rv::from(rv) {
            Rv::Ok => Ok(Some(info)),
            Rv::Error(RvError::MechanismInvalid) => Ok(None),
            Rv::Error(e) => Err(HsmError::from_rv("C_GetMechanismInfo", e)),
        }
    }

    /// `C_WrapKey` with a parameterless mechanism given by code.
    pub(crate) fn wrap_key(
        &self,
        session: &Session,
        code: u64,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
    ) -> Result<Vec<u8>, HsmError> {
        let f = self.list.C_WrapKey.ok_or(HsmError::from_rv(
            "C_WrapKey",
            RvError::FunctionNotSupported,
        ))?;
        let mut mech = parameterless(code);
        let mut len: CK_ULONG = 0;
        // SAFETY: size query (null output buffer); the mechanism struct lives across the call.
        check("C_WrapKey", unsafe {
            f(
                session.handle(),
                &mut mech,
                wrapping_key.handle(),
                key.handle(),
                ptr::null_mut(),
                &mut len,
            )
        })?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: `out` has `len` writable bytes, as the module asked for; it writes at most
        // `len` and updates `len` to the bytes written.
        check("C_WrapKey", unsafe {
            f(
                session.handle(),
                &mut mech,
                wrapping_key.handle(),
                key.handle(),
                out.as_mut_ptr(),
                &mut len,
            )
        })?;
        out.truncate(len as usize);
        Ok(out)
    }

    /// `C_UnwrapKey` with a parameterless mechanism given by code.
    pub(crate) fn unwrap_key(
        &self,
        session: &Session,
        code: u64,
        unwrapping_key: ObjectHandle,
        wrapped: &[u8],
        template: &[Attribute],
    ) -> Result<ObjectHandle, HsmError> {
        let f = self.list.C_UnwrapKey.ok_or(HsmError::from_rv(
            "C_UnwrapKey",
            RvError::FunctionNotSupported,
        ))?;
        let mut mech = parameterless(code);
        let mut attrs: Vec<CK_ATTRIBUTE> = template.iter().map(CK_ATTRIBUTE::from).collect();
        let mut handle: CK_OBJECT_HANDLE = 0;
        // SAFETY: `attrs` borrow the values inside `template`, which outlives the call; the
        // module reads `wrapped` (not written despite the *mut in the C signature) and writes
        // one handle.
        check("C_UnwrapKey", unsafe {
            f(
                session.handle(),
                &mut mech,
                unwrapping_key.handle(),
                wrapped.as_ptr() as *mut u8,
                wrapped.len() as _,
                attrs.as_mut_ptr(),
                attrs.len() as _,
                &mut handle,
            )
        })?;
        // SAFETY: `handle` was just returned by C_UnwrapKey for this module and session.
        Ok(unsafe { ObjectHandle::new_from_raw(handle) })
    }

    /// `C_SignInit` + `C_Sign` (a MAC or signature in one part) with a parameterless
    /// mechanism given by code.
    pub(crate) fn sign(
        &self,
        session: &Session,
        code: u64,
        key: ObjectHandle,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        let init = self.list.C_SignInit.ok_or(HsmError::from_rv(
            "C_SignInit",
            RvError::FunctionNotSupported,
        ))?;
        let f = self
            .list
            .C_Sign
            .ok_or(HsmError::from_rv("C_Sign", RvError::FunctionNotSupported))?;
        let mut mech = parameterless(code);
        // SAFETY: the mechanism struct lives across the call and has no parameter pointer.
        check("C_SignInit", unsafe {
            init(session.handle(), &mut mech, key.handle())
        })?;
        let mut len: CK_ULONG = 0;
        // SAFETY: size query (null output buffer); the module reads `data` (not written despite
        // the *mut in the C signature). A size query keeps the operation active.
        check("C_Sign", unsafe {
            f(
                session.handle(),
                data.as_ptr() as *mut u8,
                data.len() as _,
                ptr::null_mut(),
                &mut len,
            )
        })?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: `out` has `len` writable bytes, as the module asked for; it writes at most
        // `len`, updates `len` and ends the operation.
        check("C_Sign", unsafe {
            f(
                session.handle(),
                data.as_ptr() as *mut u8,
                data.len() as _,
                out.as_mut_ptr(),
                &mut len,
            )
        })?;
        out.truncate(len as usize);
        Ok(out)
    }

    /// `C_VerifyInit` + `C_Verify` with a parameterless mechanism given by code;
    /// [`HsmError::SignatureInvalid`] when the MAC or signature does not match.
    pub(crate) fn verify(
        &self,
        session: &Session,
        code: u64,
        key: ObjectHandle,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), HsmError> {
        let init = self.list.C_VerifyInit.ok_or(HsmError::from_rv(
            "C_VerifyInit",
            RvError::FunctionNotSupported,
        ))?;
        let f = self
            .list
            .C_Verify
            .ok_or(HsmError::from_rv("C_Verify", RvError::FunctionNotSupported))?;
        let mut mech = parameterless(code);
        // SAFETY: the mechanism struct lives across the call and has no parameter pointer.
        check("C_VerifyInit", unsafe {
            init(session.handle(), &mut mech, key.handle())
        })?;
        // SAFETY: the module only reads `data` and `signature` (the C signature says *mut).
        check("C_Verify", unsafe {
            f(
                session.handle(),
                data.as_ptr() as *mut u8,
                data.len() as _,
                signature.as_ptr() as *mut u8,
                signature.len() as _,
            )
        })
    }
}

fn parameterless(code: u64) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: code as _,
        pParameter: ptr::null_mut(),
        ulParameterLen: 0,
    }
}
