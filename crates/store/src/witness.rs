//! `COMMIT`, the witness of the last flush: its encoding, written by the
//! writer after every flush that returned and checked by [`crate::dir`] when
//! a directory is opened.
//!
//! Why it exists: sled checksums its records, but when it meets a damaged
//! one while opening, it takes it for the torn end of its log and silently
//! recovers only what came before. A database that lacks the key named here
//! lost acknowledged events, and is refused.

pub(crate) const WITNESS_LOG: u8 = 1;
pub(crate) const WITNESS_DAYS: u8 = 2;

/// Records in `COMMIT` the last key that a returned flush covered. No fsync:
/// it must survive a process crash (the page cache does), and it is written
/// only after sled's flush returned, so it never names a key the database
/// could lack after a crash, even a power cut — unless sled lost flushed data.
pub(crate) fn write_witness(f: &std::fs::File, tree: u8, key: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.write_all_at(&witness_bytes(tree, key), 0)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `HCW2`, tree, key length (u16 BE), key, FNV-1a of all that: a torn or
/// stale write is recognised instead of being trusted.
pub(crate) fn witness_bytes(tree: u8, key: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(key.len() + 15);
    b.extend_from_slice(b"HCW2");
    b.push(tree);
    b.extend_from_slice(&(key.len() as u16).to_be_bytes());
    b.extend_from_slice(key);
    let h = fnv(&b);
    b.extend_from_slice(&h.to_be_bytes());
    b
}

/// (tree, key) of a witness record; `None` if it is damaged.
pub(crate) fn parse_witness(b: &[u8]) -> Option<(u8, &[u8])> {
    if b.len() < 15 || &b[..4] != b"HCW2" {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([b[5], b[6]]));
    let end = 7 + len;
    let h = u64::from_be_bytes(b.get(end..end + 8)?.try_into().ok()?);
    (fnv(&b[..end]) == h).then(|| (b[4], &b[7..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witness_round_trips_and_rejects_damage() {
        let b = witness_bytes(WITNESS_LOG, b"h1\0\0\0\0\0\0\0\0\x07");
        assert_eq!(
            parse_witness(&b),
            Some((WITNESS_LOG, &b"h1\0\0\0\0\0\0\0\0\x07"[..]))
        );
        let mut bad = b.clone();
        bad[8] ^= 1;
        assert_eq!(parse_witness(&bad), None);
        assert_eq!(parse_witness(&b[..b.len() - 1]), None);
    }
}
