//! AWS KMS when rsops is built without the `aws` feature: `kms` entries
//! still parse and re-emit, but wrapping names the missing feature and
//! unwrapping says the key source is not built in (STYLE.md §6).

// The same signatures as enabled.rs, so callers carry no `cfg`.
#![allow(clippy::unused_self)]

use super::KmsKey;
use zeroize::Zeroizing;

/// Stands in for the SDK client of the enabled build.
pub(super) struct Client;

impl Client {
    pub(super) fn new() -> Client {
        Client
    }

    pub(super) fn encrypt(&self, key: KmsKey<'_>, _data: &[u8]) -> Result<String, String> {
        Err(format!(
            "cannot use AWS KMS key '{}': rsops was built without the `aws` feature",
            key.arn
        ))
    }

    pub(super) fn decrypt(&self, _key: KmsKey<'_>, _blob: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, String> {
        Err("AWS KMS is not built in: rsops was built without the `aws` feature".to_owned())
    }
}
