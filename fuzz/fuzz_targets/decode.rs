//! Fuzz the binary TTLV decoder: it must never panic, and whatever it accepts must re-encode to
//! exactly the input and decode again to the same tree (decode → encode → decode agree).
#![no_main]

use hsmkms_ttlv::{decode, to_vec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_len: 1 << 16,
        ..Limits::DEFAULT
    };
    if let Ok(item) = decode(data, &limits) {
        let bytes = to_vec(&item);
        assert_eq!(bytes, data, "accepted input must re-encode to itself");
        let again = decode(&bytes, &limits).expect("re-encoded message must decode");
        assert_eq!(again, item);
    }
});
