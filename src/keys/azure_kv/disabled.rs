//! Azure Key Vault when rsops is built without the `azure` feature:
//! `azure_kv` entries still parse and re-emit, but using one names the
//! missing feature (STYLE.md §6).

// The same signatures as enabled.rs, so callers carry no `cfg`.
#![allow(clippy::unused_self)]

use zeroize::Zeroizing;

use super::{AzureEnv, AzureKey, Credential};

/// Stands in for the SDK client of the enabled build.
pub(super) struct Client;

impl Client {
    pub(super) fn new() -> Client {
        Client
    }

    pub(super) fn encrypt(&self, _env: &AzureEnv, _plan: &[Credential], _key: AzureKey<'_>, _data: &[u8]) -> Result<Vec<u8>, String> {
        Err(LACKING.to_owned())
    }

    pub(super) fn decrypt(
        &self,
        _env: &AzureEnv,
        _plan: &[Credential],
        _key: AzureKey<'_>,
        _blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, String> {
        Err(LACKING.to_owned())
    }

    pub(super) fn latest_version(&self, _env: &AzureEnv, _plan: &[Credential], _vault_url: &str, _name: &str) -> Result<String, String> {
        Err(LACKING.to_owned())
    }
}

const LACKING: &str = "Azure Key Vault is not built in: rsops was built without the `azure` feature";
