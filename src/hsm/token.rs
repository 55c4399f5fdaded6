//! Creating the token on first start (the development container, `hsmkms container`):
//! `C_InitToken` on the first slot without an initialised token, then `C_InitPIN` with the user
//! PIN as the security officer. A token that already carries the label is left alone.

use std::path::Path;

use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use super::{find_token, module_context, HsmError, Pin};

/// Makes sure the module at `module` has a token labelled `label`; creates it with these PINs
/// when it is missing. Returns whether it created one.
pub fn ensure_token(
    module: &Path,
    label: &str,
    so_pin: &Pin,
    user_pin: &Pin,
) -> Result<bool, HsmError> {
    let ctx = module_context(module)?;
    match find_token(&ctx, module, label) {
        Ok(_) => return Ok(false),
        Err(HsmError::TokenNotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| HsmError::from_ck("C_GetSlotList", e))?;
    let mut free = None;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| HsmError::from_ck("C_GetTokenInfo", e))?;
        if !info.token_initialized() {
            free = Some(slot);
            break;
        }
    }
    let slot = free.ok_or_else(|| HsmError::NoFreeSlot {
        module: module.to_owned(),
        label: label.to_owned(),
    })?;
    ctx.init_token(slot, &AuthPin::from(so_pin.expose()), label)
        .map_err(|e| HsmError::from_ck("C_InitToken", e))?;
    // SoftHSM moves an initialised token to a new slot id: find it again by label.
    let slot = find_token(&ctx, module, label)?;
    let session = ctx
        .open_rw_session(slot)
        .map_err(|e| HsmError::from_ck("C_OpenSession", e))?;
    session
        .login(UserType::So, Some(&AuthPin::from(so_pin.expose())))
        .map_err(|e| HsmError::from_ck("C_Login", e))?;
    session
        .init_pin(&AuthPin::from(user_pin.expose()))
        .map_err(|e| HsmError::from_ck("C_InitPIN", e))?;
    session
        .logout()
        .map_err(|e| HsmError::from_ck("C_Logout", e))?;
    Ok(true)
}
