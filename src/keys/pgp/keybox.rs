//! GnuPG's keybox file (`pubring.kbx`, GnuPG ≥ 2.1): just enough of the
//! format to take out the OpenPGP keyblocks, which sequoia then parses.
//!
//! A keybox is a run of blobs. Each starts with a big-endian `u32` length
//! (counting itself), a type byte (1: the file header, 2: OpenPGP, 3:
//! X.509) and a version byte. An OpenPGP blob then has `u16` flags and the
//! `u32` offset and length of the keyblock, relative to the blob's start
//! (GnuPG's `kbx/keybox-blob.c` documents the layout). The rest of the blob
//! (key and user-id indexes, checksums) only speeds up GnuPG's searches.

const BLOB_OPENPGP: u8 = 2;

fn be32(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()
}

/// The OpenPGP keyblocks of a keybox, in file order. A damaged tail ends
/// the walk (what came before is kept), as GnuPG stops at a bad blob.
pub(super) fn keyblocks(file: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(len) = be32(file, pos) {
        if len < 6 || pos + len > file.len() {
            break;
        }
        let blob = &file[pos..pos + len];
        if blob[4] == BLOB_OPENPGP {
            if let (Some(off), Some(klen)) = (be32(blob, 8), be32(blob, 12)) {
                if let Some(block) = blob.get(off..off.saturating_add(klen)) {
                    out.push(block);
                }
            }
        }
        pos += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::keyblocks;

    fn blob(kind: u8, payload: &[u8]) -> Vec<u8> {
        // header: len, type, version, flags, offset, length, then payload
        let len = 16 + payload.len();
        let mut b = Vec::new();
        b.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        b.extend_from_slice(&[kind, 1, 0, 0]);
        b.extend_from_slice(&16u32.to_be_bytes());
        b.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn takes_openpgp_blobs_only() {
        let mut file = blob(1, b"KBXf....");
        file.extend(blob(2, b"first"));
        file.extend(blob(3, b"x509"));
        file.extend(blob(2, b"second"));
        assert_eq!(keyblocks(&file), vec![&b"first"[..], &b"second"[..]]);
        // A truncated last blob is dropped, the rest kept.
        file.truncate(file.len() - 2);
        assert_eq!(keyblocks(&file), vec![&b"first"[..]]);
        assert!(keyblocks(b"").is_empty());
    }
}
