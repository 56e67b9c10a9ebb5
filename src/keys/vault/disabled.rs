//! The Vault transport when rsops is built without the `vault` feature:
//! every request fails saying so. `hc_vault` entries still parse and
//! re-emit unchanged; only wrapping and unwrapping need the feature.

use zeroize::Zeroizing;

use super::{Call, VaultEnv};

const NOT_BUILT: &str = "HashiCorp Vault transit support is not built in (rsops was built without the `vault` feature)";

pub(super) struct Transport;

impl Transport {
    pub(super) fn new() -> Transport {
        Transport
    }

    #[allow(clippy::unused_self, clippy::unnecessary_wraps)] // the enabled transport's signature
    pub(super) fn prepare(&self, _env: &VaultEnv, _url: &str) -> Result<(), String> {
        Ok(())
    }

    #[allow(clippy::unused_self)] // the enabled transport's signature
    pub(super) fn put(&self, _call: &Call<'_>, _field: &str, _env: &VaultEnv) -> Result<Zeroizing<String>, String> {
        Err(NOT_BUILT.to_owned())
    }
}

pub(super) fn json_errors(_body: &str) -> Option<Vec<String>> {
    None
}
