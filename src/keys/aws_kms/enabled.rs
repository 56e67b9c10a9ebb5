//! AWS KMS over aws-sdk-kms and aws-config (feature `aws`).
//!
//! Each call loads the SDK configuration the way sops's
//! `config.LoadDefaultConfig` does: region forced from the ARN, the key's
//! profile (if any) as the shared-config profile, and otherwise the SDK's
//! own chain and endpoint overrides (`AWS_ENDPOINT_URL[_KMS|_STS]`, a
//! profile's `endpoint_url`), read by the SDK from the process environment
//! (cli.md §9.2). With a role, STS `AssumeRole` runs first, once, and its
//! temporary credentials sign the KMS call, as in sops.
//!
//! The SDK reads the **process** environment, not `ctx.env`: aws-config
//! 1.13 takes its `Env`/`Fs` shims only through `ConfigLoader::env`/`fs`,
//! which exist only with its `test-util` feature (documented as testing
//! only), and `ProviderConfig::with_env` is crate-private. The binary builds
//! `ctx.env` from the process environment, so both agree there; a library
//! caller with a synthetic `Env` gets the process's for AWS.
//!
//! The SDK is async; its calls run on the process's one runtime
//! (`keys::blocking`), started by the first call. Plaintext returned by KMS is
//! copied into a `Zeroizing` buffer; the SDK's own response buffers are out
//! of our reach (STYLE.md §4).

use std::future::Future;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::config::ProvideCredentials as _;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::RequestId as _;
use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::{hostname, session_name, KmsKey};
use crate::keys::blocking::error_chain as chain;

pub(super) struct Client;

impl Client {
    pub(super) fn new() -> Client {
        Client
    }

    /// Runs `fut` on the process's runtime (`keys::blocking`), which says
    /// on stderr what it waits for after a few seconds (issue 7 item 8; the
    /// SDK's own retries and timeouts still apply).
    #[allow(clippy::unused_self)] // the key source's handle, as the other backends
    fn block_on<T>(&self, what: &str, fut: impl Future<Output = Result<T, String>>) -> Result<T, String> {
        crate::keys::blocking::block_on(&format!("AWS KMS: {what}"), fut)?
    }

    pub(super) fn encrypt(&self, key: KmsKey<'_>, data: &[u8]) -> Result<String, String> {
        let region = key.region()?;
        self.block_on(&format!("Encrypt with {}", key.arn), async {
            let client = kms_client(key, region).await?;
            let mut req = client.encrypt().key_id(key.arn).plaintext(Blob::new(data.to_vec()));
            for (k, v) in key.context {
                req = req.encryption_context(k, v);
            }
            let out = req
                .send()
                .await
                .map_err(|e| format!("failed to encrypt sops data key with AWS KMS: {}", describe("Encrypt", &e)))?;
            let blob = out.ciphertext_blob().ok_or_else(|| {
                "failed to encrypt sops data key with AWS KMS: the answer has no CiphertextBlob".to_owned()
            })?;
            Ok(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
        })
    }

    pub(super) fn decrypt(&self, key: KmsKey<'_>, blob: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, String> {
        let region = key.region()?;
        self.block_on(&format!("Decrypt with {}", key.arn), async {
            let client = kms_client(key, region).await?;
            let mut req = client.decrypt().key_id(key.arn).ciphertext_blob(Blob::new(blob));
            for (k, v) in key.context {
                req = req.encryption_context(k, v);
            }
            let out = req
                .send()
                .await
                .map_err(|e| format!("failed to decrypt sops data key with AWS KMS: {}", describe("Decrypt", &e)))?;
            let plain = out.plaintext().ok_or_else(|| {
                "failed to decrypt sops data key with AWS KMS: the answer has no Plaintext".to_owned()
            })?;
            Ok(Zeroizing::new(plain.as_ref().to_vec()))
        })
    }
}

/// The SDK configuration sops's `createKMSConfig` builds for `key`.
async fn sdk_config(key: KmsKey<'_>, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    if !key.aws_profile.is_empty() {
        // sops passes the profile programmatically, so its credentials win
        // over AWS_ACCESS_KEY_ID (cli.md §10.3); aws-config does the same.
        loader = loader.profile_name(key.aws_profile);
    }
    loader.load().await
}

/// A KMS client for `key`, after assuming its role if it has one.
async fn kms_client(key: KmsKey<'_>, region: &str) -> Result<aws_sdk_kms::Client, String> {
    let config = sdk_config(key, region).await;
    if key.role.is_empty() {
        return Ok(aws_sdk_kms::Client::new(&config));
    }
    let name = session_name(&hostname()?);
    let provider = AssumeRoleProvider::builder(key.role).session_name(name).configure(&config).build().await;
    // Assume the role now, once, so a failure reads as sops's and the KMS
    // call is signed with the temporary credentials (cli.md §10.3).
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| format!("failed to assume role '{}': {}", key.role, chain(&e)))?;
    let kms_config = aws_sdk_kms::config::Builder::from(&config).credentials_provider(credentials).build();
    Ok(aws_sdk_kms::Client::from_conf(kms_config))
}

/// AWS's reason, in the shape of aws-sdk-go-v2's `operation error KMS: <op>,
/// …` so that texts people search for look alike.
fn describe<E>(op: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let meta = service.err();
            format!(
                "operation error KMS: {op}, https response error StatusCode: {status}, RequestID: {}, {}: {}",
                err.request_id().unwrap_or_default(),
                meta.code().unwrap_or("UnknownError"),
                meta.message().unwrap_or_default()
            )
        }
        other => format!("operation error KMS: {op}, {}", chain(other)),
    }
}

