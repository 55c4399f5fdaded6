//! Fuzz the binary TTLV decoder: it must never panic, and whatever it accepts must re-encode to
//! exactly the input and decode again to the same tree (decode → encode → decode agree), and the
//! zeroizing forms the server uses agree with the plain ones.
#![no_main]

use hsmkms_ttlv::{decode, decode_zeroizing, encoded_len, to_vec, to_zeroizing_vec, Limits};
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
        assert_eq!(encoded_len(&item), bytes.len());
        assert_eq!(*to_zeroizing_vec(&item), bytes);
        let z = decode_zeroizing(data, &limits).expect("accepted once, accepted again");
        assert_eq!(*z, item);
    }
});
