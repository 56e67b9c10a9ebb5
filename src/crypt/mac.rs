//! The MAC: SHA-512 over the plaintext leaves, sealed with `lastmodified` as
//! AAD (format.md §5).

use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::value::{self, CryptError, ValueType};
use super::DataKey;

/// Accumulates leaf plaintexts in walk order.
pub struct MacHasher(Sha512);

impl MacHasher {
    /// With `mac_only_encrypted` the hash starts with SHA-256("sops") so an
    /// empty input still differs from the normal mode (format.md §5.2).
    pub fn new(mac_only_encrypted: bool) -> Self {
        let mut h = Sha512::new();
        if mac_only_encrypted {
            h.update(Sha256::digest(b"sops"));
        }
        MacHasher(h)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Upper-case hex of the digest, 128 characters.
    pub fn finish(self) -> String {
        use std::fmt::Write;
        let digest = self.0.finalize();
        let mut out = String::with_capacity(128);
        for b in digest {
            write!(out, "{b:02X}").expect("writing to a String");
        }
        out
    }
}

/// Encrypts the MAC string; `aad` is `lastmodified` re-formatted (§5.3).
pub fn seal(key: &DataKey, mac: &str, aad: &str) -> String {
    value::encrypt(key, mac.as_bytes(), aad.as_bytes(), ValueType::Str, None)
}

/// Decrypts the stored MAC. A missing or empty `mac` is the empty string,
/// which then fails the comparison as "no MAC" (format.md §5.6).
pub fn open(key: &DataKey, stored: &str, aad: &str) -> Result<String, CryptError> {
    if stored.is_empty() {
        return Ok(String::new());
    }
    let enc = value::parse(stored)?;
    let (plain, _) = value::decrypt_bytes(key, &enc, aad.as_bytes())?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// Constant-time comparison of two MAC strings.
pub fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_mac_is_hash_of_concatenation() {
        // format.md §5.1: a: 1 / b: 2 / c: 3 hashes as SHA-512("123").
        let mut h = MacHasher::new(false);
        for v in ["1", "2", "3"] {
            h.update(v.as_bytes());
        }
        let mut direct = MacHasher::new(false);
        direct.update(b"123");
        assert_eq!(h.finish(), direct.finish());
    }

    #[test]
    fn mac_only_prefix_changes_empty_digest() {
        assert_ne!(MacHasher::new(true).finish(), MacHasher::new(false).finish());
        assert_eq!(MacHasher::new(false).finish().len(), 128);
    }

    #[test]
    fn seal_and_open() {
        let k = DataKey::generate();
        let sealed = seal(&k, "ABCD", "2026-11-22T20:08:39Z");
        assert_eq!(open(&k, &sealed, "2026-11-22T20:08:39Z").unwrap(), "ABCD");
        assert!(open(&k, &sealed, "2026-11-22T20:08:40Z").is_err());
        assert!(equal("AB", "AB") && !equal("AB", "AC"));
    }
}
