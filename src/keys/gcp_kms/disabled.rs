//! GCP Cloud KMS when rsops is built without the `gcp` feature: `gcp_kms`
//! entries still parse and re-emit, but wrapping or unwrapping with one
//! says the build lacks the key source (STYLE.md §6).

use zeroize::Zeroizing;

use super::Failure;
use crate::context::Env;

/// Stands in for the client of the enabled build.
pub(super) struct Client;

// The same methods as the enabled client, so callers need no `cfg`.
#[allow(clippy::unused_self)]
impl Client {
    pub(super) fn new(_env: Env) -> Client {
        Client
    }

    fn lacking(id: &str) -> Failure {
        Failure::Disabled(format!(
            "cannot use GCP KMS key '{id}': rsops was built without the `gcp` feature"
        ))
    }

    pub(super) fn prepare(&self) -> Result<(), Failure> {
        Err(Failure::Disabled(
            "GCP KMS is not built in: rsops was built without the `gcp` feature".to_owned(),
        ))
    }

    pub(super) fn encrypt(&self, id: &str, _data: &[u8]) -> Result<Vec<u8>, Failure> {
        Err(Client::lacking(id))
    }

    pub(super) fn decrypt(&self, id: &str, _blob: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, Failure> {
        Err(Client::lacking(id))
    }
}
