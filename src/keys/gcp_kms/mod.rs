//! The GCP Cloud KMS master-key backend: wrapping the data key with Cloud
//! KMS `Encrypt` and unwrapping it with `Decrypt`, as sops 3.11 does
//! (cli.md §10.4, §9.1, §9.2; format.md §6.2; backends.md §5).
//!
//! What is sops's here, in every build: the resource-id check (its regex,
//! applied at use time), the order of the credential sources, and the
//! texts of the failures (`cannot create GCP KMS service: …`, `failed to
//! {en,de}crypt sops data key with GCP KMS key: …`, a bad `enc` reported
//! as Go's base64 error). The calls themselves live in `enabled.rs`
//! (feature `gcp`, google-cloud-kms-v1 over REST); `disabled.rs` says the
//! build lacks them. Chosen by `#[path]` so callers carry no `cfg`
//! (STYLE.md §6).
//!
//! Nothing starts early: [`GcpKmsSource::new`] only keeps the environment;
//! the tokio runtime, the credentials and the client are made on the first
//! wrap or unwrap, so an age-only file never touches them.

#[cfg_attr(feature = "gcp", path = "enabled.rs")]
#[cfg_attr(not(feature = "gcp"), path = "disabled.rs")]
mod client;

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use zeroize::Zeroizing;

use crate::context::Env;
use crate::gotext;

/// Whether this build can use GCP Cloud KMS keys (`--version` lists it).
pub const BUILT_IN: bool = cfg!(feature = "gcp");

/// The credentials sops's Go client would use, found through `env` in
/// sops's order (`GOOGLE_CREDENTIALS`, `GOOGLE_OAUTH_ACCESS_TOKEN`, then
/// Application Default Credentials). Errors are sops's texts without the
/// `cannot create GCP KMS service: ` prefix. Shared with `publish` (GCS).
#[cfg(feature = "gcp")]
pub use client::credentials;

/// `cannot create GCP KMS service: ` — sops's prefix for every failure
/// before the call (bad id, credentials).
const CANNOT_CREATE: &str = "cannot create GCP KMS service: ";

/// Whether `id` is a `CryptoKey` name by sops's pattern
/// `^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`
/// (cli.md §10.4).
pub fn is_resource_id(id: &str) -> bool {
    static ID: OnceLock<Regex> = OnceLock::new();
    ID.get_or_init(|| {
        Regex::new(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
            .expect("the resource-id pattern compiles")
    })
    .is_match(id)
}

/// sops's error for an id that is not a `CryptoKey` name.
fn invalid_id(id: &str) -> GcpKmsError {
    GcpKmsError(format!("{CANNOT_CREATE}no valid resource ID found in {}", gotext::quote(id)))
}


/// A failure of the GCP KMS backend; `Display` is sops's text, then the
/// service's reason. Holds no secret: resource ids, paths and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpKmsError(pub String);

impl fmt::Display for GcpKmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GcpKmsError {}

/// Where a failure happened, for the prefix sops puts on it.
#[cfg_attr(not(feature = "gcp"), allow(dead_code))]
pub(crate) enum Failure {
    /// Before any call: credentials or client (`cannot create GCP KMS service: `).
    Setup(String),
    /// The call itself (`failed to … sops data key with GCP KMS key: `).
    Call(String),
    /// The build has no GCP client (shown as is).
    #[cfg_attr(feature = "gcp", allow(dead_code))]
    Disabled(String),
}

impl Failure {
    /// sops's text for a failure while `{en,de}crypt`ing (`verb`).
    fn describe(self, verb: &str) -> GcpKmsError {
        GcpKmsError(match self {
            Failure::Setup(e) => format!("{CANNOT_CREATE}{e}"),
            Failure::Call(e) => format!("failed to {verb} sops data key with GCP KMS key: {e}"),
            Failure::Disabled(e) => e,
        })
    }
}

/// The GCP KMS key source of one run. Creating it costs a copy of the
/// environment; the runtime, credentials and client start on first use.
pub struct GcpKmsSource {
    client: client::Client,
}

impl fmt::Debug for GcpKmsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpKmsSource").field("built_in", &BUILT_IN).finish_non_exhaustive()
    }
}

impl GcpKmsSource {
    pub fn new(env: &Env) -> GcpKmsSource {
        GcpKmsSource { client: client::Client::new(env.clone()) }
    }

    /// Wraps `data` (a data key or Shamir share) with the `CryptoKey`
    /// `resource_id` and returns the `enc` text: standard padded base64 of
    /// the returned ciphertext.
    pub fn wrap(&self, resource_id: &str, data: &[u8]) -> Result<String, GcpKmsError> {
        use base64::Engine as _;
        if !is_resource_id(resource_id) {
            return Err(invalid_id(resource_id));
        }
        let blob = self.client.encrypt(resource_id, data).map_err(|f| f.describe("encrypt"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(blob))
    }

    /// Unwraps the data key from an entry's `enc`. As in sops, the client
    /// (and its credentials) comes first, then the base64 is checked, and
    /// its error is Go's text alone.
    pub fn unwrap(&self, resource_id: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, GcpKmsError> {
        use base64::Engine as _;
        if !is_resource_id(resource_id) {
            return Err(invalid_id(resource_id));
        }
        self.client.prepare().map_err(|f| f.describe("decrypt"))?;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(enc)
            .map_err(|e| GcpKmsError(gotext::base64_error(&e)))?;
        self.client.decrypt(resource_id, blob).map_err(|f| f.describe("decrypt"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "projects/p/locations/global/keyRings/r/cryptoKeys/k";

    #[test]
    fn resource_ids_follow_sops_pattern() {
        assert!(is_resource_id(ID));
        assert!(is_resource_id("projects/my-proj/locations/europe-west1/keyRings/sops/cryptoKeys/sops-key"));
        assert!(!is_resource_id(&format!("{ID}/cryptoKeyVersions/1")));
        assert!(!is_resource_id("projects/p/locations/global/keyRings/r/cryptoKeys/"));
        assert!(!is_resource_id("projects//locations/global/keyRings/r/cryptoKeys/k"));
        assert!(!is_resource_id(&format!("/{ID}")));
        assert!(!is_resource_id("arn:aws:kms:us-east-1:1:key/a"));
    }

    #[test]
    fn invalid_id_fails_before_anything_else() {
        let src = GcpKmsSource::new(&Env::default());
        let msg = src.wrap("projects/p", &[0; 32]).unwrap_err().to_string();
        assert_eq!(msg, "cannot create GCP KMS service: no valid resource ID found in \"projects/p\"");
        let msg = src.unwrap("a\"b", "AAAA").unwrap_err().to_string();
        assert_eq!(msg, "cannot create GCP KMS service: no valid resource ID found in \"a\\\"b\"");
    }

    #[test]
    fn a_build_without_gcp_says_so() {
        // Nothing reachable: no credentials, a dead endpoint and metadata server.
        let env = Env::from_pairs([
            ("SOPS_GCP_KMS_ENDPOINT", "http://127.0.0.1:9"),
            ("GCE_METADATA_HOST", "127.0.0.1:9"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json"),
        ]);
        let src = GcpKmsSource::new(&env);
        let wrapped = src.wrap(ID, &[0; 32]);
        let unwrapped = src.unwrap(ID, "AAAA");
        if BUILT_IN {
            // Fails on credentials (none here) or succeeds; never the feature text.
            for msg in [wrapped.err().map(|e| e.0), unwrapped.err().map(|e| e.0)].into_iter().flatten() {
                assert!(!msg.contains("`gcp` feature"), "{msg}");
            }
        } else {
            assert_eq!(
                wrapped.unwrap_err().to_string(),
                format!("cannot use GCP KMS key '{ID}': rsops was built without the `gcp` feature")
            );
            assert_eq!(
                unwrapped.unwrap_err().to_string(),
                "GCP KMS is not built in: rsops was built without the `gcp` feature"
            );
        }
    }

    #[test]
    fn invalid_id_quotes_like_go() {
        let err = invalid_id("a\tb\u{7}é");
        assert!(err.0.ends_with("no valid resource ID found in \"a\\tb\\aé\""), "{}", err.0);
    }
}
