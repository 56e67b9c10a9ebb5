//! The built-in OpenPGP path when rsops is built without the `pgp` feature:
//! it only says so, and the `gpg` binary fallback does the work, as it does
//! in sops for GnuPG ≥ 2.1 homes.

// The same signatures as enabled.rs, so callers carry no `cfg`.
#![allow(clippy::unused_self)]

use super::PgpEnv;
use zeroize::Zeroizing;

const NOT_BUILT: &str = "rsops was built without the `pgp` feature (no built-in OpenPGP)";

/// Stands in for the keyrings of the enabled build.
pub(super) struct Keys;

impl Keys {
    pub(super) fn new(_env: &PgpEnv) -> Keys {
        Keys
    }

    pub(super) fn encrypt(&self, _fingerprint: &str, _data: &[u8]) -> Result<String, String> {
        Err(NOT_BUILT.to_owned())
    }

    pub(super) fn decrypt(&self, _fingerprint: &str, _enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        Err(NOT_BUILT.to_owned())
    }
}
