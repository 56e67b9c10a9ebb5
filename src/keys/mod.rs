//! Master keys: which key ([`KeyRef`]), and the sources that wrap and unwrap
//! the data key with it.
//!
//! A `KeyRef` is plain data with the fields of the keyservice proto's `Key`
//! oneof; it knows nothing about crypto. Wrapping and unwrapping happen in
//! the backend modules, reached only when a key of that kind is used, so an
//! age-only file never starts a cloud client.

pub mod age;
pub mod aws_kms;
pub mod azure_kv;
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure", feature = "keyservice", feature = "vault"))]
pub(crate) mod blocking;
pub mod gcp_kms;
pub mod pgp;
pub mod recover;
pub mod vault;

/// The kinds of master key sops knows, in the order a key group holds them
/// after loading (format.md §6.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    AwsKms,
    GcpKms,
    Hckms,
    AzureKv,
    Vault,
    Pgp,
    Age,
}

impl KeyKind {
    /// The identifier used in metadata and in `--decryption-order`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::AwsKms => "kms",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::Hckms => "hckms",
            KeyKind::AzureKv => "azure_kv",
            KeyKind::Vault => "hc_vault",
            KeyKind::Pgp => "pgp",
            KeyKind::Age => "age",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyKind> {
        [
            KeyKind::AwsKms,
            KeyKind::GcpKms,
            KeyKind::Hckms,
            KeyKind::AzureKv,
            KeyKind::Vault,
            KeyKind::Pgp,
            KeyKind::Age,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// Which master key: the identifying fields of one metadata entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    Age {
        recipient: String,
    },
    Pgp {
        fingerprint: String,
    },
    AwsKms {
        arn: String,
        role: String,
        /// Encryption context, sorted by key as sops writes it.
        context: Vec<(String, String)>,
        aws_profile: String,
    },
    GcpKms {
        resource_id: String,
    },
    AzureKv {
        vault_url: String,
        name: String,
        version: String,
    },
    Vault {
        address: String,
        engine_path: String,
        key_name: String,
    },
    Hckms {
        key_id: String,
    },
}

impl KeyRef {
    pub fn kind(&self) -> KeyKind {
        match self {
            KeyRef::Age { .. } => KeyKind::Age,
            KeyRef::Pgp { .. } => KeyKind::Pgp,
            KeyRef::AwsKms { .. } => KeyKind::AwsKms,
            KeyRef::GcpKms { .. } => KeyKind::GcpKms,
            KeyRef::AzureKv { .. } => KeyKind::AzureKv,
            KeyRef::Vault { .. } => KeyKind::Vault,
            KeyRef::Hckms { .. } => KeyKind::Hckms,
        }
    }

    /// The key id sops prints in its failure report (cli.md §2.3).
    pub fn id(&self) -> String {
        match self {
            KeyRef::Age { recipient } => recipient.clone(),
            KeyRef::Pgp { fingerprint } => fingerprint.clone(),
            KeyRef::AwsKms { arn, role, context, aws_profile } => {
                let mut id = arn.clone();
                if !role.is_empty() {
                    id.push('+');
                    id.push_str(role);
                }
                if !context.is_empty() {
                    id.push('|');
                    let pairs: Vec<String> = context.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    id.push_str(&pairs.join(","));
                }
                if !aws_profile.is_empty() {
                    id.push('|');
                    id.push_str(aws_profile);
                }
                id
            }
            KeyRef::GcpKms { resource_id } => resource_id.clone(),
            KeyRef::AzureKv { vault_url, name, version } => format!("{vault_url}/keys/{name}/{version}"),
            KeyRef::Vault { address, engine_path, key_name } => format!("{address}/v1/{engine_path}/keys/{key_name}"),
            KeyRef::Hckms { key_id } => key_id.clone(),
        }
    }
}

/// One entry of a key group: the key, its wrapped data key and when it was
/// added (absent for age, which sops does not timestamp).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterKey {
    pub key: KeyRef,
    pub enc: String,
    pub created_at: Option<String>,
}

/// A key group: all its keys wrap the same data key (or Shamir share).
pub type KeyGroup = Vec<MasterKey>;
