//! What a command may consult besides its request: a snapshot of the
//! environment, the working directory, and key sources opened on first use.
//!
//! Nothing here starts early: age identities are loaded the first time an
//! age key is tried, and later backends follow the same pattern, so a file
//! that needs no cloud key never touches a cloud client.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::PathBuf;

use crate::keys::age::{AgeEnv, AgeIdentities};
use crate::keys::aws_kms::AwsKmsSource;
use crate::keys::azure_kv::{AzureEnv, AzureKvSource};
use crate::keys::gcp_kms::GcpKmsSource;
use crate::keys::pgp::{PgpEnv, PgpSource};
use crate::keys::vault::{VaultEnv, VaultSource};
use crate::keyservice::KeyServices;

/// A snapshot of environment variables, so tests can run hermetically and
/// no code deep in the library reads the process environment.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment (variables that are not UTF-8 are skipped).
    pub fn from_process() -> Self {
        Env { vars: std::env::vars().collect() }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The value if the variable is set (possibly to the empty string).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value if the variable is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// Per-run context handed to every operation.
pub struct Context {
    pub env: Env,
    pub cwd: PathBuf,
    /// The key services master-key operations go through (cli.md §3.9):
    /// only the local one unless `main` sets them from `--keyservice`.
    key_services: KeyServices,
    age: OnceCell<AgeIdentities>,
    pgp: OnceCell<PgpSource>,
    aws_kms: OnceCell<AwsKmsSource>,
    azure_kv: OnceCell<AzureKvSource>,
    gcp_kms: OnceCell<GcpKmsSource>,
    vault: OnceCell<VaultSource>,
}

impl Context {
    pub fn new(env: Env, cwd: PathBuf) -> Self {
        Context {
            env,
            cwd,
            key_services: KeyServices::default(),
            age: OnceCell::new(), pgp: OnceCell::new(), aws_kms: OnceCell::new(), azure_kv: OnceCell::new(), gcp_kms: OnceCell::new(), vault: OnceCell::new() }
    }

    /// The process's environment and working directory.
    pub fn from_process() -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Context::new(Env::from_process(), cwd)
    }

    /// The key services of this run, in the order sops tries them.
    pub fn key_services(&self) -> &KeyServices {
        &self.key_services
    }

    /// Replaces the key services (`--enable-local-keyservice`, `--keyservice`).
    pub fn set_key_services(&mut self, services: KeyServices) {
        self.key_services = services;
    }

    /// age identities from every source sops reads, loaded once.
    pub fn age_identities(&self) -> &AgeIdentities {
        self.age.get_or_init(|| AgeIdentities::new(AgeEnv::from_lookup(|k| self.env.get(k).map(Into::into))))
    }

    /// The PGP key source (gpg's home directory and program), its keyrings
    /// read on first use.
    pub fn pgp(&self) -> &PgpSource {
        self.pgp.get_or_init(|| PgpSource::new(PgpEnv::from_lookup(|k| self.env.get(k).map(Into::into))))
    }

    /// The AWS KMS key source; its runtime, SDK and credential chain start
    /// on the first KMS call, never for files without KMS keys.
    pub fn aws_kms(&self) -> &AwsKmsSource {
        self.aws_kms.get_or_init(AwsKmsSource::new)
    }

    /// The Azure Key Vault key source; its runtime, credential chain and
    /// HTTPS client start on the first Key Vault call, never for files
    /// without such keys.
    pub fn azure_kv(&self) -> &AzureKvSource {
        self.azure_kv.get_or_init(|| AzureKvSource::new(AzureEnv::from_lookup(|k| self.env.get(k).map(Into::into))))
    }

    /// The GCP Cloud KMS key source; its runtime, credentials and client
    /// start on the first Cloud KMS call, never for files without such keys.
    pub fn gcp_kms(&self) -> &GcpKmsSource {
        self.gcp_kms.get_or_init(|| GcpKmsSource::new(&self.env))
    }

    /// The Vault transit key source; its HTTP client is made on the first
    /// Vault request, never for files without Vault keys.
    pub fn vault(&self) -> &VaultSource {
        self.vault.get_or_init(|| VaultSource::new(VaultEnv::from_lookup(|k| self.env.get(k).map(Into::into))))
    }
}
