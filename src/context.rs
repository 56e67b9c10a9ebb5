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
use crate::keys::pgp::{PgpEnv, PgpSource};
use crate::keys::vault::{VaultEnv, VaultSource};

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
    age: OnceCell<AgeIdentities>,
    pgp: OnceCell<PgpSource>,
    aws_kms: OnceCell<AwsKmsSource>,
    vault: OnceCell<VaultSource>,
}

impl Context {
    pub fn new(env: Env, cwd: PathBuf) -> Self {
        Context { env, cwd, age: OnceCell::new(), pgp: OnceCell::new(), aws_kms: OnceCell::new(), vault: OnceCell::new() }
    }

    /// The process's environment and working directory.
    pub fn from_process() -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Context::new(Env::from_process(), cwd)
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

    /// The Vault transit key source; its HTTP client is made on the first
    /// Vault request, never for files without Vault keys.
    pub fn vault(&self) -> &VaultSource {
        self.vault.get_or_init(|| VaultSource::new(VaultEnv::from_lookup(|k| self.env.get(k).map(Into::into))))
    }
}
