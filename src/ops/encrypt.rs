//! `encrypt`: plaintext in, encrypted file out (cli.md §4.2, format.md §11.2).
//! Refuses input that already carries sops metadata (exit 203).

use zeroize::Zeroizing;

use super::{attach_metadata, has_metadata, Outcome};
use crate::context::Context;
use crate::crypt::rules::CryptRule;
use crate::crypt::{mac, shamir, DataKey};
use crate::error::Error;
use crate::io::{read_input, Input};
use crate::keys::{KeyGroup, KeyRef, MasterKey};
use crate::metadata::{time, Metadata, WRITTEN_VERSION};
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::{walk, Branch};

/// Everything `encrypt` needs, resolved from flags, environment and config.
pub struct EncryptRequest {
    pub input: Input,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    /// Key groups for the new file; one group unless Shamir is used.
    pub key_groups: Vec<Vec<KeyRef>>,
    pub shamir_threshold: usize,
    /// `None` only for the binary store, which records no rule (format.md §4.5).
    pub rule: Option<CryptRule>,
    pub mac_only_encrypted: bool,
}

/// Wraps the data key (or each group's Shamir share) for every master key.
pub fn wrap_data_key(
    key: &DataKey,
    groups: &[Vec<KeyRef>],
    threshold: usize,
    ctx: &Context,
) -> Result<Vec<KeyGroup>, Error> {
    if ctx.key_services().is_empty() {
        return Err(Error::GenerateDataKey(vec!["no key services provided, cannot update master keys".to_owned()]));
    }
    let parts: Vec<Zeroizing<Vec<u8>>> = if groups.len() > 1 {
        let t = if threshold == 0 { groups.len() } else { threshold };
        shamir::split(key.expose(), groups.len(), t).map_err(|e| {
            Error::GenerateDataKey(vec![format!("could not split data key into parts for Shamir: {e}")])
        })?
    } else {
        vec![Zeroizing::new(key.expose().to_vec())]
    };
    let created_at = time::format_rfc3339(&time::now_utc());
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(groups.len());
    for (group, part) in groups.iter().zip(&parts) {
        if group.is_empty() {
            errors.push("empty key group provided".to_owned());
            continue;
        }
        let mut wrapped = Vec::with_capacity(group.len());
        for k in group {
            // Through every key service in order (cli.md §3.9); when all
            // fail, each one's error is listed.
            match ctx.key_services().wrap(k, part, ctx) {
                Ok(enc) => wrapped.push(MasterKey {
                    key: k.clone(),
                    enc,
                    created_at: (!matches!(k, KeyRef::Age { .. })).then(|| created_at.clone()),
                }),
                Err(errs) => errors.extend(
                    errs.iter().map(|e| format!("failed to encrypt new data key with master key {:?}: {e}", k.id())),
                ),
            }
        }
        out.push(wrapped);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::GenerateDataKey(errors))
    }
}

/// Wraps `data` with one master key using the local key sources: the
/// local key service (also what `rsops keyservice` runs per request).
pub fn wrap_one(key: &KeyRef, data: &[u8], ctx: &Context) -> Result<String, String> {
    match key {
        KeyRef::Age { recipient } => crate::keys::age::wrap(recipient, data).map_err(|e| e.to_string()),
        KeyRef::Pgp { fingerprint } => ctx.pgp().wrap(fingerprint, data).map_err(|e| e.to_string()),
        KeyRef::AwsKms { arn, role, context, aws_profile } => ctx
            .aws_kms()
            .wrap(crate::keys::aws_kms::KmsKey { arn, role, context, aws_profile }, data)
            .map_err(|e| e.to_string()),
        KeyRef::GcpKms { resource_id } => ctx.gcp_kms().wrap(resource_id, data).map_err(|e| e.to_string()),
        KeyRef::AzureKv { vault_url, name, version } => {
            ctx.azure_kv().wrap(crate::keys::azure_kv::AzureKey { vault_url, name, version }, data)
        }
        KeyRef::Vault { address, engine_path, key_name } => {
            ctx.vault().wrap(&crate::keys::vault::TransitKey { address, engine_path, key_name }, data)
        }
        other @ KeyRef::Hckms { .. } => Err(format!("rsops cannot use {} keys yet: this build has no {} key source", other.kind().name(), other.kind().name())),
    }
}

/// Parses the plaintext with the input store and checks it may be encrypted.
pub fn load_plaintext(bytes: &[u8], format: Format, options: StoreOptions) -> Result<Vec<Branch>, Error> {
    let docs = store_for(format, options).load_plain(bytes).map_err(|e| {
        // Non-string keys and uint64 values are found while loading here,
        // but sops finds them in its tree walk: exit 23 with that wording.
        if e.0.starts_with(crate::stores::yaml::WALK_ERROR_PREFIX) {
            Error::EncryptTree(e.0)
        } else {
            Error::ParsePlain(e)
        }
    })?;
    if docs.is_empty() {
        return Err(Error::EmptyDocument);
    }
    if has_metadata(&docs, format) {
        return Err(Error::AlreadyEncrypted);
    }
    Ok(docs)
}

/// Encrypts `docs` under a fresh data key and returns the encrypted tree
/// with metadata attached, ready for the output store.
pub fn encrypt_docs(
    mut docs: Vec<Branch>,
    req: &EncryptRequest,
    ctx: &Context,
) -> Result<Vec<Branch>, Error> {
    let key = DataKey::generate();
    let key_groups = wrap_data_key(&key, &req.key_groups, req.shamir_threshold, ctx)?;
    let rule = req.rule.clone().unwrap_or_else(CryptRule::default_rule);
    let digest = walk::encrypt(&mut docs, &key, &rule, req.mac_only_encrypted, None)
        .map_err(|e| Error::EncryptTree(e.message))?;
    let last_modified = time::format_rfc3339(&time::now_utc());
    // With several groups the threshold defaults to the number of groups
    // and is always recorded (format.md §6.1).
    let shamir_threshold = if key_groups.len() > 1 && req.shamir_threshold == 0 {
        key_groups.len()
    } else {
        req.shamir_threshold
    };
    let meta = Metadata {
        key_groups,
        shamir_threshold,
        mac: mac::seal(&key, &digest, &last_modified),
        last_modified,
        rule: req.rule.clone(),
        mac_only_encrypted: req.mac_only_encrypted,
        version: WRITTEN_VERSION.to_owned(),
    };
    attach_metadata(&mut docs, &meta, req.output_format);
    Ok(docs)
}

/// Runs `encrypt`.
pub fn run(req: &EncryptRequest, ctx: &Context) -> Result<Outcome, Error> {
    let bytes = read_input(&req.input)?;
    let docs = load_plaintext(&bytes, req.input_format, StoreOptions::default())?;
    drop(bytes);
    let docs = encrypt_docs(docs, req, ctx)?;
    let out = store_for(req.output_format, req.output_options).emit(&docs).map_err(|e| Error::DumpFile(e.0))?;
    Ok(Outcome { bytes: out, warnings: Vec::new() })
}
