//! GCP Cloud KMS over google-cloud-kms-v1 (feature `gcp`).
//!
//! sops 3.11 calls Cloud KMS over gRPC; Google's Rust client speaks the
//! REST mapping of the same two methods (`POST /v1/<key>:encrypt`,
//! `:decrypt`), so files are interchangeable: the stored `enc` is the
//! ciphertext either way (backends.md §5).
//!
//! Credentials are found as sops's Go client finds them, through the run's
//! environment snapshot, never the process environment (cli.md §10.4):
//! `GOOGLE_CREDENTIALS` (a path if such a file exists, else the JSON
//! itself), then `GOOGLE_OAUTH_ACCESS_TOKEN` (a static bearer), then
//! Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
//! gcloud's ADC file, the metadata server on GCE). `SOPS_GCP_KMS_ENDPOINT`
//! and `SOPS_GCP_KMS_UNIVERSE_DOMAIN` (sops 3.13) move the endpoint.
//!
//! The client is async; it runs on the process's one runtime
//! (`keys::blocking`), which prints "waiting for GCP KMS: …" when a call
//! takes long. The credentials and the client are made on the first call
//! and reused for the run.
//! Plaintext returned by KMS is copied into a `Zeroizing` buffer; the
//! client's own response buffers are out of our reach (STYLE.md §4).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use google_cloud_auth::credentials::{
    external_account, external_account_authorized_user, impersonated, mds, service_account, user_account,
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_kms_v1::client::KeyManagementService;
use zeroize::Zeroizing;

use super::Failure;
use crate::context::Env;

/// Go's text when no credential source applies (cli.md §10.4).
const NO_DEFAULT_CREDENTIALS: &str = "credentials: could not find default credentials. \
     See https://cloud.google.com/docs/authentication/external/set-up-adc for more information";

pub(super) struct Client {
    env: Env,
    /// The client the first call builds, or why it could not be made
    /// (which every later key reports again, as sops does).
    ready: OnceLock<Result<KeyManagementService, String>>,
}

impl Client {
    pub(super) fn new(env: Env) -> Client {
        Client { env, ready: OnceLock::new() }
    }

    /// The client, made on first use.
    fn ready(&self) -> Result<&KeyManagementService, Failure> {
        self.ready
            .get_or_init(|| block_on("credentials", kms_client(&self.env))?)
            .as_ref()
            .map_err(|e| Failure::Setup(e.clone()))
    }

    /// Makes the credentials and client now (sops does so before it looks
    /// at the `enc` it is to decrypt).
    pub(super) fn prepare(&self) -> Result<(), Failure> {
        self.ready().map(|_| ())
    }

    pub(super) fn encrypt(&self, id: &str, data: &[u8]) -> Result<Vec<u8>, Failure> {
        let client = self.ready()?;
        let call = client.encrypt().set_name(id).set_plaintext(data.to_vec()).send();
        let out = block_on(&format!("Encrypt with {id}"), call)
            .map_err(Failure::Setup)?
            .map_err(|e| Failure::Call(describe(&e)))?;
        Ok(out.ciphertext.to_vec())
    }

    pub(super) fn decrypt(&self, id: &str, blob: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let client = self.ready()?;
        let call = client.decrypt().set_name(id).set_ciphertext(blob).send();
        let out = block_on(&format!("Decrypt with {id}"), call)
            .map_err(Failure::Setup)?
            .map_err(|e| Failure::Call(describe(&e)))?;
        Ok(Zeroizing::new(out.plaintext.to_vec()))
    }
}

/// Runs `fut` on the process's runtime; after a few seconds stderr says
/// "waiting for GCP KMS: <what>…" (the client's own retries and timeouts
/// still apply).
fn block_on<F: std::future::Future>(what: &str, fut: F) -> Result<F::Output, String> {
    crate::keys::blocking::block_on(&format!("GCP KMS: {what}"), fut)
}

/// The KMS client sops would make: its credentials and endpoint.
async fn kms_client(env: &Env) -> Result<KeyManagementService, String> {
    let creds = credentials(env)?;
    let mut builder = KeyManagementService::builder().with_credentials(creds);
    if let Some(endpoint) = endpoint(env) {
        builder = builder.with_endpoint(endpoint);
    }
    builder.build().await.map_err(|e| error_chain(&e))
}

/// The endpoint override, with sops 3.13's precedence:
/// `SOPS_GCP_KMS_ENDPOINT` (a URL, or gRPC's `host:port`, taken as HTTPS),
/// else `SOPS_GCP_KMS_UNIVERSE_DOMAIN` (`https://cloudkms.<domain>`).
fn endpoint(env: &Env) -> Option<String> {
    if let Some(e) = env.non_empty("SOPS_GCP_KMS_ENDPOINT") {
        return Some(if e.contains("://") { e.to_owned() } else { format!("https://{e}") });
    }
    env.non_empty("SOPS_GCP_KMS_UNIVERSE_DOMAIN").map(|d| format!("https://cloudkms.{d}"))
}

/// The credentials sops's Go client would use, found through `env` in
/// sops's order (cli.md §10.4): `GOOGLE_CREDENTIALS` (path or JSON), then
/// `GOOGLE_OAUTH_ACCESS_TOKEN`, then Application Default Credentials.
/// Errors are sops's texts, without its `cannot create GCP KMS service: `
/// prefix. Needs no network; call it inside a tokio runtime (some
/// credential types start a refresh task when first used).
pub fn credentials(env: &Env) -> Result<Credentials, String> {
    if let Some(value) = env.non_empty("GOOGLE_CREDENTIALS") {
        // A path if a file (or anything) exists there, else the JSON itself.
        let json = if Path::new(value).exists() {
            std::fs::read_to_string(value).map_err(|e| {
                format!(
                    "credentials: failed to obtain credentials from \"GOOGLE_CREDENTIALS\": {}",
                    go_read_error(Path::new(value), &e)
                )
            })?
        } else {
            value.to_owned()
        };
        return from_json(&json);
    }
    if let Some(token) = env.non_empty("GOOGLE_OAUTH_ACCESS_TOKEN") {
        return Ok(Credentials::from(StaticToken::new(token)?));
    }
    application_default(env)
}

/// Application Default Credentials as Go's `credentials.DetectDefault`
/// finds them: the file named by `GOOGLE_APPLICATION_CREDENTIALS` (which
/// must exist), gcloud's well-known file (skipped when unreadable), then
/// the metadata server when on GCE.
fn application_default(env: &Env) -> Result<Credentials, String> {
    if let Some(path) = env.non_empty("GOOGLE_APPLICATION_CREDENTIALS") {
        let json = std::fs::read_to_string(path).map_err(|e| go_read_error(Path::new(path), &e))?;
        return from_json(&json);
    }
    if let Some(path) = well_known_file(env) {
        if let Ok(json) = std::fs::read_to_string(path) {
            return from_json(&json);
        }
    }
    if on_gce(env) {
        let mut builder = mds::Builder::default();
        if let Some(host) = env.non_empty("GCE_METADATA_HOST") {
            builder = builder.with_endpoint(format!("http://{host}"));
        }
        return builder.build().map_err(|e| format!("credentials: {e}"));
    }
    Err(NO_DEFAULT_CREDENTIALS.to_owned())
}

/// gcloud's ADC file: `$CLOUDSDK_CONFIG/application_default_credentials.json`,
/// else `$HOME/.config/gcloud/…` (`%APPDATA%\gcloud\…` on Windows).
fn well_known_file(env: &Env) -> Option<PathBuf> {
    const NAME: &str = "application_default_credentials.json";
    if let Some(dir) = env.non_empty("CLOUDSDK_CONFIG") {
        return Some(Path::new(dir).join(NAME));
    }
    if cfg!(windows) {
        return env.non_empty("APPDATA").map(|d| Path::new(d).join("gcloud").join(NAME));
    }
    env.non_empty("HOME").map(|h| Path::new(h).join(".config").join("gcloud").join(NAME))
}

/// Go's `metadata.OnGCE` without its network probes: `GCE_METADATA_HOST`
/// set, or the machine's DMI product name says Google (Linux).
fn on_gce(env: &Env) -> bool {
    if env.non_empty("GCE_METADATA_HOST").is_some() {
        return true;
    }
    std::fs::read_to_string("/sys/class/dmi/id/product_name")
        .is_ok_and(|name| name.trim().starts_with("Google"))
}

/// Credentials from a JSON credentials file, by its `type`, with Go's
/// texts for what it cannot use.
fn from_json(text: &str) -> Result<Credentials, String> {
    let json: serde_json::Value =
        // serde_json's reasons name positions, never the input.
        serde_json::from_str(text).map_err(|e| format!("invalid credentials JSON: {e}"))?;
    let kind = json.get("type").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let built = match kind.as_str() {
        // Signs its own JWTs: no token endpoint is contacted (backends.md §5).
        "service_account" => service_account::Builder::new(json).build(),
        "authorized_user" => user_account::Builder::new(json).build(),
        "impersonated_service_account" => impersonated::Builder::new(json).build(),
        "external_account" => external_account::Builder::new(json).build(),
        "external_account_authorized_user" => external_account_authorized_user::Builder::new(json).build(),
        "" => return Err("credentials: unsupported unidentified file type".to_owned()),
        other => return Err(format!("credentials: unsupported filetype \"{other}\"")),
    };
    built.map_err(|e| format!("credentials: {e}"))
}

/// Go's `os.ReadFile` error text: `open <path>: no such file or directory`,
/// `read <path>: is a directory`.
fn go_read_error(path: &Path, e: &std::io::Error) -> String {
    let op = if path.is_dir() { "read" } else { "open" };
    format!("{op} {}: {}", path.display(), crate::config::io_text(e))
}

/// `GOOGLE_OAUTH_ACCESS_TOKEN` as credentials: the same bearer on every
/// call, never refreshed (sops's `oauth2.StaticTokenSource`).
struct StaticToken {
    headers: http::HeaderMap,
    tag: EntityTag,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticToken").finish_non_exhaustive()
    }
}

impl StaticToken {
    fn new(token: &str) -> Result<StaticToken, String> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            "credentials: GOOGLE_OAUTH_ACCESS_TOKEN holds characters not allowed in an HTTP header".to_owned()
        })?;
        value.set_sensitive(true);
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(StaticToken { headers, tag: EntityTag::new() })
    }
}

impl CredentialsProvider for StaticToken {
    async fn headers(
        &self,
        extensions: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError> {
        match extensions.get::<EntityTag>() {
            Some(tag) if *tag == self.tag => Ok(CacheableResource::NotModified),
            _ => Ok(CacheableResource::New { entity_tag: self.tag.clone(), data: self.headers.clone() }),
        }
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// The service's reason in grpc-go's words, `rpc error: code = <Code> desc
/// = <message>`, as sops prints it; other failures as their error chain.
fn describe(err: &google_cloud_gax::error::Error) -> String {
    match err.status() {
        Some(status) => format!("rpc error: code = {} desc = {}", go_code(status.code.name()), status.message),
        None => error_chain(err),
    }
}

/// grpc-go's name of a status code: `NOT_FOUND` → `NotFound`.
fn go_code(name: &str) -> String {
    if name == "OK" {
        return name.to_owned();
    }
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| f.to_string() + &c.as_str().to_ascii_lowercase())
        })
        .collect()
}

/// An error's text and, when it does not already say it, its root cause
/// (the client's layers repeat their sources' texts in part, so the whole
/// chain reads as a stutter).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut root = err.source();
    while let Some(next) = root.and_then(std::error::Error::source) {
        root = Some(next);
    }
    if let Some(root) = root {
        let text = root.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn grpc_code_names() {
        assert_eq!(go_code("NOT_FOUND"), "NotFound");
        assert_eq!(go_code("UNAUTHENTICATED"), "Unauthenticated");
        assert_eq!(go_code("INVALID_ARGUMENT"), "InvalidArgument");
        assert_eq!(go_code("OK"), "OK");
    }

    #[test]
    fn endpoint_follows_sops_3_13() {
        assert_eq!(endpoint(&env(&[])), None);
        assert_eq!(endpoint(&env(&[("SOPS_GCP_KMS_ENDPOINT", "http://127.0.0.1:1")])).unwrap(), "http://127.0.0.1:1");
        assert_eq!(endpoint(&env(&[("SOPS_GCP_KMS_ENDPOINT", "kms.example:443")])).unwrap(), "https://kms.example:443");
        assert_eq!(
            endpoint(&env(&[("SOPS_GCP_KMS_UNIVERSE_DOMAIN", "example.com")])).unwrap(),
            "https://cloudkms.example.com"
        );
        assert_eq!(
            endpoint(&env(&[("SOPS_GCP_KMS_UNIVERSE_DOMAIN", "example.com"), ("SOPS_GCP_KMS_ENDPOINT", "h:1")]))
                .unwrap(),
            "https://h:1"
        );
    }

    #[test]
    fn credential_errors_are_sops_texts() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let missing = dir.path().join("missing.json").to_string_lossy().into_owned();
        let err = |pairs: &[(&str, &str)]| credentials(&env(pairs)).unwrap_err();
        assert_eq!(
            err(&[("HOME", &home), ("GOOGLE_APPLICATION_CREDENTIALS", &missing)]),
            format!("open {missing}: no such file or directory")
        );
        assert_eq!(err(&[("HOME", &home), ("GOOGLE_APPLICATION_CREDENTIALS", &home)]), format!("read {home}: is a directory"));
        assert_eq!(
            err(&[("GOOGLE_CREDENTIALS", &home)]),
            format!("credentials: failed to obtain credentials from \"GOOGLE_CREDENTIALS\": read {home}: is a directory")
        );
        assert_eq!(err(&[("GOOGLE_CREDENTIALS", "{}")]), "credentials: unsupported unidentified file type");
        assert_eq!(err(&[("GOOGLE_CREDENTIALS", r#"{"type":"foo"}"#)]), "credentials: unsupported filetype \"foo\"");
        // The other types Go's client knows reach their own builders.
        for kind in ["authorized_user", "impersonated_service_account", "external_account", "external_account_authorized_user"] {
            let e = err(&[("GOOGLE_CREDENTIALS", &format!(r#"{{"type":"{kind}"}}"#))]);
            assert!(e.starts_with("credentials: ") && !e.contains("unsupported"), "{kind}: {e}");
        }
        // GOOGLE_CREDENTIALS wins over the token, which wins over ADC.
        assert_eq!(
            err(&[("GOOGLE_CREDENTIALS", "{}"), ("GOOGLE_OAUTH_ACCESS_TOKEN", "t")]),
            "credentials: unsupported unidentified file type"
        );
        assert!(credentials(&env(&[("GOOGLE_OAUTH_ACCESS_TOKEN", "t"), ("GOOGLE_APPLICATION_CREDENTIALS", &missing)])).is_ok());
        assert!(err(&[("GOOGLE_CREDENTIALS", "notjson")]).starts_with("invalid credentials JSON: "));
        // Nothing at all, off GCE: Go's wording (unless this machine is a GCE VM).
        if !on_gce(&env(&[])) {
            assert_eq!(err(&[("HOME", &home)]), NO_DEFAULT_CREDENTIALS);
        }
    }

    #[test]
    fn gcloud_adc_file_is_found_in_home_and_cloudsdk_config() {
        let dir = tempfile::tempdir().unwrap();
        let gcloud = dir.path().join(".config").join("gcloud");
        std::fs::create_dir_all(&gcloud).unwrap();
        std::fs::write(gcloud.join("application_default_credentials.json"), r#"{"type":"bogus"}"#).unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let e = credentials(&env(&[("HOME", &home)])).unwrap_err();
        assert_eq!(e, "credentials: unsupported filetype \"bogus\"");
        let conf = gcloud.to_string_lossy().into_owned();
        let e = credentials(&env(&[("CLOUDSDK_CONFIG", &conf)])).unwrap_err();
        assert_eq!(e, "credentials: unsupported filetype \"bogus\"");
    }

    #[test]
    fn static_token_sends_the_bearer() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let creds = credentials(&env(&[("GOOGLE_OAUTH_ACCESS_TOKEN", "tok123")])).unwrap();
        let headers = rt.block_on(creds.headers(http::Extensions::new())).unwrap();
        let CacheableResource::New { data, .. } = headers else { panic!("no headers") };
        assert_eq!(data.get("authorization").unwrap(), "Bearer tok123");
        assert!(!format!("{creds:?}").contains("tok123"));
        assert!(credentials(&env(&[("GOOGLE_OAUTH_ACCESS_TOKEN", "a\nb")])).is_err());
    }
}
