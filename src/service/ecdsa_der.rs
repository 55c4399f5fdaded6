//! ECDSA signatures between the two forms: PKCS#11's raw `r ‖ s` (each half as long as the
//! curve's field) and the DER `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279 §2.2.3, SEC 1
//! §C.5) that KMIP clients — PyKMIP, OpenSSL — put in Signature Data. Decoding is strict DER
//! (minimal lengths and integers, nothing trailing) and bounded by the field size.

/// Raw `r ‖ s` → DER. `raw` must have an even length.
pub fn to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || raw.len() % 2 != 0 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::with_capacity(raw.len() + 6);
    integer(&mut body, r);
    integer(&mut body, s);
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    length(&mut out, body.len());
    out.extend_from_slice(&body);
    Some(out)
}

/// DER → raw `r ‖ s` for a curve whose field is `field_bytes` long; `None` if `der` is not one
/// strictly encoded signature with both integers positive and fitting the field.
pub fn from_der(der: &[u8], field_bytes: usize) -> Option<Vec<u8>> {
    let (tag, body, rest) = element(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (r, body) = read_integer(body, field_bytes)?;
    let (s, body) = read_integer(body, field_bytes)?;
    if !body.is_empty() {
        return None;
    }
    let mut out = vec![0u8; 2 * field_bytes];
    out.get_mut(field_bytes.checked_sub(r.len())?..field_bytes)?
        .copy_from_slice(r);
    out.get_mut((2 * field_bytes).checked_sub(s.len())?..)?
        .copy_from_slice(s);
    Some(out)
}

fn length(out: &mut Vec<u8>, n: usize) {
    // Signatures of the supported curves stay far below 64 KiB.
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, n as u8]),
        _ => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
}

fn integer(out: &mut Vec<u8>, v: &[u8]) {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let v = v.get(start..).unwrap_or_default();
    out.push(0x02);
    let Some(first) = v.first() else {
        out.extend_from_slice(&[1, 0]);
        return;
    };
    let pad = first & 0x80 != 0;
    length(out, v.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

/// One TLV: (tag, contents, what follows). Minimal length encodings only.
fn element(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, d) = d.split_first()?;
    let (&first, d) = d.split_first()?;
    let (len, d) = match first {
        0..=0x7f => (usize::from(first), d),
        0x81 => {
            let (&n, d) = d.split_first()?;
            if n < 0x80 {
                return None;
            }
            (usize::from(n), d)
        }
        0x82 => {
            let (&hi, d) = d.split_first()?;
            let (&lo, d) = d.split_first()?;
            let n = usize::from(hi) << 8 | usize::from(lo);
            if n < 0x100 {
                return None;
            }
            (n, d)
        }
        _ => return None,
    };
    Some((tag, d.get(..len)?, d.get(len..)?))
}

/// A positive, minimally encoded INTEGER of at most `max` magnitude bytes: its magnitude.
fn read_integer(d: &[u8], max: usize) -> Option<(&[u8], &[u8])> {
    let (tag, v, rest) = element(d)?;
    let (&first, tail) = v.split_first()?;
    if tag != 0x02 || first & 0x80 != 0 {
        return None;
    }
    // A leading zero only where the next byte's top bit is set (minimal, positive).
    let v = match (first, tail.first()) {
        (0, None) => v,
        (0, Some(b)) if b & 0x80 != 0 => tail,
        (0, Some(_)) => return None,
        _ => v,
    };
    if v.len() > max {
        return None;
    }
    Some((v, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips_any_p384_signature(raw in proptest::collection::vec(any::<u8>(), 96)) {
            prop_assert_eq!(from_der(&to_der(&raw).unwrap(), 48).unwrap(), raw);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..160)
        ) {
            if let Some(raw) = from_der(&bytes, 66) {
                prop_assert_eq!(raw.len(), 132);
            }
        }
    }

    #[test]
    fn round_trips_every_curve_size() {
        for n in [32usize, 48, 66] {
            for (r0, s0) in [(0x01u8, 0x7f), (0x80, 0xff), (0x00, 0x00)] {
                let mut raw = vec![0x5a; 2 * n];
                raw[0] = r0;
                raw[n] = s0;
                let der = to_der(&raw).unwrap();
                assert_eq!(der[0], 0x30);
                assert_eq!(from_der(&der, n).unwrap(), raw, "{n} {r0:#x} {s0:#x}");
            }
        }
    }

    #[test]
    fn encodes_a_known_signature() {
        // r = 0x80 (needs a 0x00 pad), s = 0x01, on a 1-byte "field".
        assert_eq!(
            to_der(&[0x80, 0x01]).unwrap(),
            vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x01]
        );
        // P-521 signatures take the long length form.
        let der = to_der(&[0xff; 132]).unwrap();
        assert_eq!(&der[..3], &[0x30, 0x81, 138]);
    }

    #[test]
    fn rejects_non_der_and_oversized() {
        let good = to_der(&[0x11; 64]).unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(from_der(&trailing, 32).is_none());
        assert!(from_der(&good[..good.len() - 1], 32).is_none());
        assert!(from_der(&good, 31).is_none(), "r larger than the field");
        // Non-minimal integer (leading 0x00 before a small byte).
        assert!(from_der(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], 32).is_none());
        // Negative integer.
        assert!(from_der(&[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01], 32).is_none());
        // Non-minimal length form.
        assert!(from_der(&[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], 32).is_none());
        assert!(from_der(&[], 32).is_none());
        assert!(to_der(&[1, 2, 3]).is_none());
    }
}
