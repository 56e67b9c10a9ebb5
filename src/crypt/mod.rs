//! The data key and everything encrypted with it: values, the MAC, the rules
//! that pick which values are encrypted, and Shamir splitting.

pub mod mac;
pub mod rules;
pub mod shamir;
pub mod value;

use std::sync::OnceLock;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::KeyInit;
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use rand::RngCore;
use zeroize::Zeroizing;

/// AES-256-GCM with sops's 32-byte nonces.
pub(crate) type Gcm32 = AesGcm<Aes256, U32>;

/// The per-file 32-byte AES-256 key (format.md §2.1).
///
/// No `Debug`, `Display` or `Clone`: the bytes leave this type only at the AES
/// call and when a master key wraps them.
pub struct DataKey(Zeroizing<[u8; 32]>, OnceLock<Gcm32>);

impl DataKey {
    /// 32 fresh bytes from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        DataKey(key, OnceLock::new())
    }

    /// A key recovered from a master key; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(Zeroizing::new(arr), OnceLock::new()))
    }

    /// The raw bytes, for the cipher and for wrapping.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The expanded AES-GCM cipher, built once per key: expanding the key for
    /// every value cost a third of a large file's time. The `zeroize`
    /// feature of aes-gcm wipes the round keys when the key is dropped.
    pub(crate) fn cipher(&self) -> &Gcm32 {
        self.1.get_or_init(|| Gcm32::new((&*self.0).into()))
    }
}
