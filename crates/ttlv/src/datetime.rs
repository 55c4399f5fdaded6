//! ISO 8601 for the XML and JSON encodings: DateTime values are seconds since the Unix epoch,
//! DateTimeExtended values microseconds. Written here (a few lines of civil-calendar arithmetic)
//! to keep the codec crate free of dependencies.

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Years outside 0001–9999 are written as plain numbers by the encodings.
const MIN_SECS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_SECS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

fn format_secs(secs: i64) -> Option<String> {
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return None;
    }
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// `2026-01-02T03:04:05+00:00`, or the plain number when the year is out of range.
pub fn format_datetime(secs: i64) -> String {
    match format_secs(secs) {
        Some(s) => s + "+00:00",
        None => secs.to_string(),
    }
}

/// `2026-01-02T03:04:05.000006+00:00` from microseconds.
pub fn format_datetime_extended(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    match format_secs(secs) {
        Some(s) => format!("{s}.{:06}+00:00", micros.rem_euclid(1_000_000)),
        None => micros.to_string(),
    }
}

/// A parsed date and time: seconds since the epoch and the microsecond fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub secs: i64,
    pub micros: u32,
}

/// Parses an ISO 8601 date-time: `YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]`
/// (no offset means UTC), or a plain integer which is taken as-is (`Parsed::micros` 0).
pub fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(|secs| Parsed { secs, micros: 0 });
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(i64::from(y), mo) {
        return None;
    }
    let mut pos = 10;
    let (mut h, mut mi, mut sec, mut micros) = (0, 0, 0, 0u32);
    if matches!(b.get(pos), Some(b'T' | b't' | b' ')) {
        h = num(pos + 1..pos + 3)?;
        if b.get(pos + 3) != Some(&b':') {
            return None;
        }
        mi = num(pos + 4..pos + 6)?;
        pos += 6;
        if b.get(pos) == Some(&b':') {
            sec = num(pos + 1..pos + 3)?;
            pos += 3;
            if b.get(pos) == Some(&b'.') {
                let frac_start = pos + 1;
                let mut end = frac_start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == frac_start {
                    return None;
                }
                let frac = std::str::from_utf8(&b[frac_start..end.min(frac_start + 6)]).ok()?;
                micros = format!("{frac:0<6}").parse().ok()?;
                pos = end;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let offset: i64 = match b.get(pos) {
        None => 0,
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(c @ (b'+' | b'-')) => {
            let oh = i64::from(num(pos + 1..pos + 3)?);
            let rest = &b[pos + 3..];
            let om = match rest {
                [] => 0,
                [b':', ..] if rest.len() == 3 => i64::from(num(pos + 4..pos + 6)?),
                _ if rest.len() == 2 => i64::from(num(pos + 3..pos + 5)?),
                _ => return None,
            };
            let o = oh * 3600 + om * 60;
            if *c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(i64::from(y), mo, d) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec)
        - offset;
    Some(Parsed { secs, micros })
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for secs in [0, 1_767_323_045, -1, 951_782_400, MAX_SECS, MIN_SECS] {
            let s = format_datetime(secs);
            assert_eq!(parse(&s).unwrap().secs, secs, "{s}");
        }
        assert_eq!(format_datetime(1_767_323_045), "2026-01-02T03:04:05+00:00");
        assert_eq!(format_datetime(MAX_SECS + 1), (MAX_SECS + 1).to_string());
    }

    #[test]
    fn parses_offsets_fractions_and_numbers() {
        let p = |s| parse(s).unwrap();
        assert_eq!(
            p("2001-01-01T10:00:00+10:00").secs,
            p("2001-01-01T00:00:00Z").secs
        );
        assert_eq!(
            p("2001-01-01T10:00:00-0130").secs,
            p("2001-01-01T11:30:00").secs
        );
        assert_eq!(p("2001-01-01").secs, 978_307_200);
        assert_eq!(p("2001-01-01T00:00:00.5Z").micros, 500_000);
        assert_eq!(p("12345").secs, 12345);
        assert_eq!(
            format_datetime_extended(p("2001-01-01T00:00:00.000042Z").secs * 1_000_000 + 42),
            "2001-01-01T00:00:00.000042+00:00"
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for s in [
            "",
            "2001-13-01",
            "2001-02-30",
            "2001-01-01T25:00",
            "2001-01-01X",
            "abc",
            "2001-01-01T00:00:00+1",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }
}
