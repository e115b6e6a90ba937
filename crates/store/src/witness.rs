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

/// The length `COMMIT` is given (and allocated) when mapped: the longest
/// record (a 200-byte hall id, a 9-byte key suffix, 15 bytes of framing)
/// with room to spare.
const MAPPED_LEN: u64 = 512;

/// Records in `COMMIT` the last key that a returned flush covered. No fsync:
/// it must survive a process crash (the page cache does), and it is written
/// only after sled's flush returned, so it never names a key the database
/// could lack after a crash, even a power cut — unless sled lost flushed data.
pub(crate) fn write_witness(f: &std::fs::File, tree: u8, key: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.write_all_at(&witness_bytes(tree, key), 0)
}

/// The writer's `COMMIT`, written after every flush. Mapped into memory
/// when it can be, so that recording a flush is a copy into the page cache
/// instead of a `pwrite` (≈ 1.4 µs of a lone command's ≈ 8 µs above raw
/// sled; BENCHMARKS.md, issue 17): the same page cache, so it survives a
/// process crash exactly as the `pwrite` did, and as before nothing forces
/// it to disk. Its blocks are allocated before it is mapped, so a full disk
/// can never fault a write to the mapping (a `SIGBUS`); if they cannot be,
/// or mapping fails, it is written with `pwrite` as before.
pub(crate) struct Witness {
    file: std::fs::File,
    map: Option<memmap2::MmapMut>,
}

impl Witness {
    pub fn new(file: std::fs::File) -> Witness {
        let map = match Self::map(&file) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, "cannot map COMMIT; writing it with pwrite");
                None
            }
        };
        Witness { file, map }
    }

    fn map(file: &std::fs::File) -> std::io::Result<memmap2::MmapMut> {
        use fs2::FileExt;
        if file.metadata()?.len() < MAPPED_LEN {
            // Real blocks, not a hole: see the type's doc.
            file.allocate(MAPPED_LEN)?;
        }
        // SAFETY: the mapping is only valid while nobody truncates the file
        // under it. `COMMIT` belongs to the process holding `LOCK` (this
        // one, for as long as the store is open); the only other writer,
        // `hallcall accept-store`, takes `LOCK` first.
        unsafe {
            memmap2::MmapOptions::new()
                .len(MAPPED_LEN as usize)
                .map_mut(file)
        }
    }

    /// Records the last key a returned flush covered (see [`write_witness`]).
    pub fn write(&mut self, tree: u8, key: &[u8]) -> std::io::Result<()> {
        let bytes = witness_bytes(tree, key);
        match &mut self.map {
            Some(m) if bytes.len() <= m.len() => {
                m[..bytes.len()].copy_from_slice(&bytes);
                Ok(())
            }
            _ => write_witness(&self.file, tree, key),
        }
    }
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

/// Whether `COMMIT` holds no record yet: empty, or only the zeros it is
/// allocated with before a first flush.
pub(crate) fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
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
        // A longer record's tail left behind is ignored.
        let mut over = b.clone();
        over.extend_from_slice(&[7; 40]);
        assert_eq!(parse_witness(&over), parse_witness(&b));
        assert!(is_blank(&[]) && is_blank(&[0; 512]) && !is_blank(&b));
    }

    #[test]
    fn a_mapped_witness_reads_back_and_keeps_the_file_length() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("COMMIT");
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .expect("open");
        let mut w = Witness::new(f);
        assert!(w.map.is_some(), "mapped");
        w.write(WITNESS_LOG, b"a-long-hall-id\0\0\0\0\0\0\0\0\x09")
            .expect("write");
        w.write(WITNESS_DAYS, b"h\x002026-01-31").expect("write");
        drop(w);
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len() as u64, MAPPED_LEN);
        assert_eq!(
            parse_witness(&bytes),
            Some((WITNESS_DAYS, &b"h\x002026-01-31"[..]))
        );
    }
}
