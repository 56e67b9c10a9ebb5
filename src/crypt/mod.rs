//! The data key and everything encrypted with it: values, the MAC, the rules
//! that pick which values are encrypted, and Shamir splitting.

pub mod mac;
pub mod rules;
pub mod shamir;
pub mod value;

use rand::RngCore;
use zeroize::Zeroizing;

/// The per-file 32-byte AES-256 key (format.md §2.1).
///
/// No `Debug`, `Display` or `Clone`: the bytes leave this type only at the AES
/// call and when a master key wraps them.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// 32 fresh bytes from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        DataKey(key)
    }

    /// A key recovered from a master key; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(Zeroizing::new(arr)))
    }

    /// The raw bytes, for the cipher and for wrapping.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}
