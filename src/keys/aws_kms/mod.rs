//! The AWS KMS master-key backend: wrapping the data key with KMS `Encrypt`
//! and unwrapping it with `Decrypt`, as sops 3.11 does (cli.md §10.3, §9.2;
//! format.md §6.2; backends.md §2).
//!
//! What is sops's here, in every build: the ARN check and the region taken
//! from the ARN (never `AWS_REGION`), the STS session name `sops@<host>`,
//! and the texts of the failures (`no valid ARN found in '<arn>'`,
//! `failed to {en,de}crypt sops data key with AWS KMS: …`, `failed to assume
//! role '<role>': …`). The calls themselves live in `enabled.rs` (feature
//! `aws`, aws-sdk-kms + aws-config); `disabled.rs` says the build lacks
//! them. Chosen by `#[path]` so callers carry no `cfg` (STYLE.md §6).
//!
//! Nothing starts early: [`AwsKmsSource::new`] only records that KMS may be
//! used; the tokio runtime, the SDK configuration and the credential chain
//! are created on the first wrap or unwrap, so an age-only file never
//! touches them.

#[cfg_attr(feature = "aws", path = "enabled.rs")]
#[cfg_attr(not(feature = "aws"), path = "disabled.rs")]
mod client;
pub mod context_bug;

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use zeroize::Zeroizing;

use super::KeyRef;
use crate::gotext;

/// Whether this build can use AWS KMS keys (`--version` lists it).
pub const BUILT_IN: bool = cfg!(feature = "aws");

/// AWS's limit on `RoleSessionName`; sops cuts its name there (cli.md §10.3).
const SESSION_NAME_LIMIT: usize = 64;

/// One AWS KMS key, borrowed from a [`KeyRef::AwsKms`].
#[derive(Clone, Copy, Debug)]
pub struct KmsKey<'a> {
    pub arn: &'a str,
    /// Role ARN to assume first (`""`: none).
    pub role: &'a str,
    /// Encryption context, sorted by key.
    pub context: &'a [(String, String)],
    /// Shared-config profile (`""`: the SDK's default chain).
    pub aws_profile: &'a str,
}

impl<'a> KmsKey<'a> {
    /// The KMS fields of `key`, if it is an AWS KMS key.
    pub fn from_ref(key: &'a KeyRef) -> Option<KmsKey<'a>> {
        match key {
            KeyRef::AwsKms { arn, role, context, aws_profile } => Some(KmsKey { arn, role, context, aws_profile }),
            _ => None,
        }
    }

    /// The region named by the ARN, or sops's error when the ARN is not one
    /// (checked at use time, as sops does).
    pub fn region(&self) -> Result<&'a str, String> {
        region_from_arn(self.arn).ok_or_else(|| format!("no valid ARN found in '{}'", self.arn))
    }
}

/// The region of a KMS key or alias ARN, by sops's `arnRegex`
/// `^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$` (cli.md §10.3).
pub fn region_from_arn(arn: &str) -> Option<&str> {
    static ARN: OnceLock<Regex> = OnceLock::new();
    let re = ARN.get_or_init(|| {
        Regex::new(r"^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$").expect("the ARN pattern compiles")
    });
    re.captures(arn).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// sops's STS session name: `sops@` and the host name without the
/// characters outside `[a-zA-Z0-9=,.@-_]` (where `@-_` is the ASCII range
/// `@`…`_`, so `-` itself goes), cut to 64 bytes (cli.md §10.3).
pub fn session_name(hostname: &str) -> String {
    let kept: String = hostname
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ',' | '.' | '@'..='_'))
        .collect();
    let mut name = format!("sops@{kept}");
    name.truncate(SESSION_NAME_LIMIT);
    name
}

/// The host name as Go's `os.Hostname` finds it on Linux: the kernel's
/// `/proc/sys/kernel/hostname`, else `uname`.
#[cfg_attr(unix, allow(clippy::unnecessary_wraps))] // fallible on other systems
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub(crate) fn hostname() -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let name = text.trim_end_matches('\n');
        if !name.is_empty() {
            return Ok(name.to_owned());
        }
    }
    #[cfg(unix)]
    {
        Ok(rustix::system::uname().nodename().to_string_lossy().into_owned())
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").map_err(|e| format!("failed to construct STS session name: {e}"))
    }
}

/// A failure of the AWS KMS backend; `Display` is sops's text, then AWS's
/// reason. Holds no secret: ARNs, context keys and the service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsKmsError(pub String);

impl fmt::Display for AwsKmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AwsKmsError {}

/// The AWS KMS key source of one run. Creating it costs nothing; the
/// runtime and SDK start on first use.
pub struct AwsKmsSource {
    client: client::Client,
}

impl fmt::Debug for AwsKmsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsSource").field("built_in", &BUILT_IN).finish_non_exhaustive()
    }
}

impl Default for AwsKmsSource {
    fn default() -> Self {
        AwsKmsSource::new()
    }
}

impl AwsKmsSource {
    pub fn new() -> AwsKmsSource {
        AwsKmsSource { client: client::Client::new() }
    }

    /// Wraps `data` (a data key or Shamir share) with `key` and returns the
    /// `enc` text: standard padded base64 of the `CiphertextBlob`.
    pub fn wrap(&self, key: KmsKey<'_>, data: &[u8]) -> Result<String, AwsKmsError> {
        self.client.encrypt(key, data).map_err(AwsKmsError)
    }

    /// Unwraps the data key from an entry's `enc`. The base64 is checked
    /// before anything else, as sops does.
    pub fn unwrap(&self, key: KmsKey<'_>, enc: &str) -> Result<Zeroizing<Vec<u8>>, AwsKmsError> {
        use base64::Engine as _;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(enc)
            .map_err(|e| AwsKmsError(format!("error base64-decoding encrypted data key: {}", gotext::base64_error(&e))))?;
        self.client.decrypt(key, blob).map_err(AwsKmsError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_arn() {
        assert_eq!(region_from_arn("arn:aws:kms:eu-west-3:050752621342:key/4680e482"), Some("eu-west-3"));
        assert_eq!(region_from_arn("arn:aws-us-gov:kms:us-gov-west-1:1:alias/sops"), Some("us-gov-west-1"));
        assert_eq!(region_from_arn("arn:aws:kms:us-east-1:12x:key/a"), None);
        assert_eq!(region_from_arn("arn:gcp:kms:antartica-north-2::key/45e6"), None);
        assert_eq!(region_from_arn("notanarn"), None);
        let key = KmsKey { arn: "notanarn", role: "", context: &[], aws_profile: "" };
        assert_eq!(key.region().unwrap_err(), "no valid ARN found in 'notanarn'");
    }

    #[test]
    fn session_name_is_sanitised_and_cut() {
        assert_eq!(session_name("my-host.example.com"), "sops@myhost.example.com");
        // `@`…`_` is a range in sops's pattern: brackets and `^` stay.
        assert_eq!(session_name("a[b]^c_d e/f"), "sops@a[b]^c_def");
        let long = "h".repeat(100);
        assert_eq!(session_name(&long).len(), 64);
        assert!(session_name("ĥost").ends_with("@ost"));
    }

    #[test]
    fn bad_enc_fails_before_any_call() {
        let src = AwsKmsSource::new();
        let key = KmsKey { arn: "arn:aws:kms:us-east-1:1:key/a", role: "", context: &[], aws_profile: "" };
        let err = src.unwrap(key, "not base64!").unwrap_err();
        assert_eq!(err.to_string(), "error base64-decoding encrypted data key: illegal base64 data at input byte 3");
    }

    #[test]
    fn invalid_arn_fails_before_any_call() {
        let src = AwsKmsSource::new();
        let key = KmsKey { arn: "notanarn", role: "", context: &[], aws_profile: "" };
        let msg = src.wrap(key, &[0; 32]).unwrap_err().to_string();
        if BUILT_IN {
            assert_eq!(msg, "no valid ARN found in 'notanarn'");
        } else {
            assert!(msg.contains("`aws` feature"), "{msg}");
        }
    }
}
