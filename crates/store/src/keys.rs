//! Key and value encodings (store format 2).

use chrono::NaiveDate;

/// Snapshot value header: format byte, then seq.
pub(crate) const SNAP_V1: u8 = 1;

/// `hall 0x00`: the prefix of every key of one hall.
pub(crate) fn prefix(hall: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(hall.len() + 9);
    k.extend_from_slice(hall.as_bytes());
    k.push(0);
    k
}

/// `hall 0x00 seq`: a log record's key, with the seq of the last event it
/// holds (see [`crate::log`] for the value).
pub(crate) fn log_key(hall: &str, seq: u64) -> Vec<u8> {
    let mut k = prefix(hall);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The seq of a log key of `hall`, if it is one.
pub(crate) fn log_seq(hall: &str, key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(hall.as_bytes())?.strip_prefix(&[0u8])?;
    let b: [u8; 8] = rest.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// `hall 0x00 YYYY-MM-DD`.
pub(crate) fn day_key(hall: &str, date: NaiveDate) -> Vec<u8> {
    let mut k = prefix(hall);
    k.extend_from_slice(date.format("%Y-%m-%d").to_string().as_bytes());
    k
}

pub(crate) fn day_of(hall: &str, key: &[u8]) -> Option<NaiveDate> {
    let rest = key.strip_prefix(hall.as_bytes())?.strip_prefix(&[0u8])?;
    let s = std::str::from_utf8(rest).ok()?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn u64_of(v: &[u8]) -> Option<u64> {
    let b: [u8; 8] = v.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

pub(crate) fn u32_of(v: &[u8]) -> Option<u32> {
    let b: [u8; 4] = v.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// The hall id a prefixed key belongs to.
pub(crate) fn hall_of(key: &[u8]) -> Option<&str> {
    let end = key.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&key[..end]).ok()
}

/// A `snap` tree record as formats 1–2 wrote it (tests build such stores).
#[cfg(test)]
pub(crate) fn snap_value(seq: u64, json: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(json.len() + 9);
    v.push(SNAP_V1);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(json);
    v
}

/// (seq, json) of a snapshot value.
pub(crate) fn snap_parts(v: &[u8]) -> Option<(u64, &[u8])> {
    if v.len() < 9 || v[0] != SNAP_V1 {
        return None;
    }
    let seq = u64_of(&v[1..9])?;
    Some((seq, &v[9..]))
}

/// Hall ids become key prefixes: non-empty, no NUL, bounded.
pub(crate) fn check_hall(hall: &str) -> Result<(), crate::StoreError> {
    if hall.is_empty() || hall.len() > 200 || hall.as_bytes().contains(&0) {
        return Err(crate::StoreError::Invalid(format!(
            "hall id {hall:?} must be 1 to 200 bytes without NUL"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_hall_then_seq() {
        let mut keys = vec![
            log_key("b", 1),
            log_key("a", 256),
            log_key("a", 2),
            log_key("ab", 1),
            log_key("a", 1),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                log_key("a", 1),
                log_key("a", 2),
                log_key("a", 256),
                log_key("ab", 1),
                log_key("b", 1)
            ]
        );
        assert_eq!(log_seq("a", &log_key("a", 77)), Some(77));
        assert_eq!(log_seq("a", &log_key("ab", 77)), None);
        assert_eq!(hall_of(&log_key("hall-1", 3)), Some("hall-1"));
        let d = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default();
        assert_eq!(day_of("x", &day_key("x", d)), Some(d));
        assert_eq!(snap_parts(&snap_value(9, b"{}")), Some((9, &b"{}"[..])));
        assert!(snap_parts(b"\x02aaaaaaaa{}").is_none());
    }
}
