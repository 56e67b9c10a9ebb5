//! The key service when rsops is built without the `keyservice` feature:
//! `--keyservice` URIs are refused when resolved (see `KeyServices::
//! from_flags`), so this client is never reached with a remote; `rsops
//! keyservice` fails naming the missing feature (STYLE.md §6).

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{lacks_feature, Log, ServeOptions, Target};
use crate::context::Env;
use crate::keys::{KeyRef, MasterKey};

/// Stands in for the gRPC client of the enabled build.
pub(super) struct Client;

#[allow(clippy::unused_self)] // the enabled client's signatures
impl Client {
    pub(super) fn new() -> Result<Client, String> {
        Err(lacks_feature())
    }

    pub(super) fn encrypt(&self, _target: &Target, _key: &KeyRef, _data: &[u8]) -> Result<String, String> {
        Err(lacks_feature())
    }

    pub(super) fn decrypt(&self, _target: &Target, _key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        Err(lacks_feature())
    }
}

pub(super) fn serve(_opts: &ServeOptions, _env: Env, _cwd: PathBuf, _log: Arc<dyn Log>) -> Result<(), String> {
    Err(lacks_feature())
}
