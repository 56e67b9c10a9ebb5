//! Azure Key Vault over `azure_security_keyvault_keys` and `azure_identity`
//! (feature `azure`).
//!
//! The credential chain is built here because `azure_identity` has no
//! `DefaultAzureCredential`: the credentials sops's azidentity tries, in its
//! order, narrowed by `AZURE_TOKEN_CREDENTIALS` (see `plan_credentials`),
//! with its rules — a credential that is not configured lets the chain go
//! on, one that is configured but fails stops it; the one that worked is
//! used for the rest of the run; a managed identity first tried in the
//! full chain gets one second. The environment, workload identity and App
//! Service managed identity credentials are configured from `ctx.env`;
//! `azure_identity` reads the VM metadata endpoint's settings and
//! `AZURE_AUTHORITY_HOST` from the process environment, and the `az`/`azd`
//! it runs find `PATH` there (it gives no way to pass them).
//!
//! The HTTPS client is the SDK's (reqwest + rustls): it trusts the platform
//! roots or `SSL_CERT_FILE` and honours `HTTPS_PROXY`/`NO_PROXY`, as Go does.
//! The Key Vault authorizer sends the first request without body and token,
//! reads the 401 challenge, and checks its resource against the vault host.
//!
//! The SDK is async; its calls run on the process's one runtime
//! (`keys::blocking`), started by the first call. Plaintext returned by Key Vault is copied into a
//! `Zeroizing` buffer; the SDK's own buffers are out of our reach
//! (STYLE.md §4).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::{ExponentialRetryOptions, RequestContent, RetryOptions};
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, ClientSecretCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use azure_security_keyvault_keys::models::{
    EncryptionAlgorithm, KeyClientEncryptOptions, KeyClientGetKeyOptions, KeyOperationParameters,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use zeroize::Zeroizing;

use super::{chain_report, response_error, AzureEnv, AzureKey, Credential, CredentialError, NOT_TLS};
use crate::keys::blocking::error_chain as chain_text;

/// The API version sops 3.11's azkeys sends (backends.md §4).
const API_VERSION: &str = "7.6";

/// The token URL of the VM metadata endpoint, as azidentity names it.
const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// How long a managed identity may take on its first try in the full
/// chain before it counts as not available (azidentity's `timeoutWrapper`).
const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(1);

pub(super) struct Client {
    chain: OnceLock<Arc<Chain>>,
    clients: Mutex<HashMap<String, Arc<KeyClient>>>,
}

impl Client {
    pub(super) fn new() -> Client {
        Client { chain: OnceLock::new(), clients: Mutex::new(HashMap::new()) }
    }

    /// Runs `fut` on the process's runtime (`keys::blocking`), which says
    /// on stderr what it waits for after a few seconds (the SDK's own
    /// retries and timeouts still apply).
    #[allow(clippy::unused_self)] // called as a method like the other client helpers
    fn block_on<T>(&self, what: &str, fut: impl Future<Output = Result<T, String>>) -> Result<T, String> {
        crate::keys::blocking::block_on(&format!("Azure Key Vault: {what}"), fut)?
    }

    /// The run's credential chain, made on first use from `env` and `plan`.
    fn chain(&self, env: &AzureEnv, plan: &[Credential]) -> Arc<Chain> {
        self.chain.get_or_init(|| Arc::new(Chain::new(env, plan))).clone()
    }

    /// One Key Vault client per vault URL, sharing the chain (so a token
    /// is fetched once per vault and run).
    fn key_client(&self, env: &AzureEnv, plan: &[Credential], vault_url: &str) -> Result<Arc<KeyClient>, String> {
        // Go's bearer policy refuses to send a token over plain HTTP; the
        // Rust one does too, but with its own words.
        if !vault_url.starts_with("https://") {
            return Err(NOT_TLS.to_owned());
        }
        let mut clients = self.clients.lock().map_err(|_| "the Azure client cache is poisoned".to_owned())?;
        if let Some(c) = clients.get(vault_url) {
            return Ok(c.clone());
        }
        let mut options = KeyClientOptions { api_version: API_VERSION.to_owned(), ..KeyClientOptions::default() };
        options.client_options.retry = go_retries();
        let credential: Arc<dyn TokenCredential> = self.chain(env, plan);
        let client = KeyClient::new(vault_url, credential, Some(options))
            .map_err(|e| format!("failed to construct Azure Key Vault client: {e}"))?;
        let client = Arc::new(client);
        clients.insert(vault_url.to_owned(), client.clone());
        Ok(client)
    }

    pub(super) fn encrypt(&self, env: &AzureEnv, plan: &[Credential], key: AzureKey<'_>, data: &[u8]) -> Result<Vec<u8>, String> {
        let client = self.key_client(env, plan, key.vault_url)?;
        let chain = self.chain(env, plan);
        let url = format!("{}/keys/{}/{}/encrypt", key.vault_url, key.name, key.version);
        self.block_on(&format!("encrypt with {}", key.id()), async {
            let params = operation(data)?;
            let options = KeyClientEncryptOptions {
                key_version: (!key.version.is_empty()).then(|| key.version.to_owned()),
                ..KeyClientEncryptOptions::default()
            };
            let result = client.encrypt(key.name, params, Some(options)).await;
            let model = result.and_then(azure_core::http::Response::into_model).map_err(|e| describe(&e, "POST", &url, &chain))?;
            model.result.ok_or_else(|| "the Key Vault answer has no value".to_owned())
        })
    }

    pub(super) fn decrypt(
        &self,
        env: &AzureEnv,
        plan: &[Credential],
        key: AzureKey<'_>,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, String> {
        let client = self.key_client(env, plan, key.vault_url)?;
        let chain = self.chain(env, plan);
        let url = format!("{}/keys/{}/{}/decrypt", key.vault_url, key.name, key.version);
        self.block_on(&format!("decrypt with {}", key.id()), async {
            let params = operation(blob)?;
            let result = client.decrypt(key.name, key.version, params, None).await;
            let model = result.and_then(azure_core::http::Response::into_model).map_err(|e| describe(&e, "POST", &url, &chain))?;
            model.result.map(Zeroizing::new).ok_or_else(|| "the Key Vault answer has no value".to_owned())
        })
    }

    pub(super) fn latest_version(&self, env: &AzureEnv, plan: &[Credential], vault_url: &str, name: &str) -> Result<String, String> {
        let client = self.key_client(env, plan, vault_url)?;
        let chain = self.chain(env, plan);
        let url = format!("{vault_url}/keys/{name}/");
        self.block_on(&format!("get {url}"), async {
            let result = client.get_key(name, Some(KeyClientGetKeyOptions::default())).await;
            let model = result.and_then(azure_core::http::Response::into_model).map_err(|e| describe(&e, "GET", &url, &chain))?;
            let kid = model.key.and_then(|k| k.kid).unwrap_or_default();
            Ok(version_from_kid(&kid))
        })
    }
}

/// Go azcore's default retries (3 retries, 0.8 s doubling), so an
/// unreachable vault fails after seconds as with sops, not after the Rust
/// SDK's minute of eight retries.
fn go_retries() -> RetryOptions {
    RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: azure_core::time::Duration::milliseconds(800),
        max_retries: 3,
        max_total_elapsed: azure_core::time::Duration::seconds(60),
        max_delay: azure_core::time::Duration::seconds(60),
    })
}

/// `{"alg":"RSA-OAEP-256","value":…}`, the only algorithm sops uses.
fn operation(value: &[u8]) -> Result<RequestContent<KeyOperationParameters>, String> {
    KeyOperationParameters {
        algorithm: Some(EncryptionAlgorithm::RsaOaep256),
        value: Some(value.to_vec()),
        ..KeyOperationParameters::default()
    }
    .try_into()
    .map_err(|e: azure_core::Error| format!("cannot encode the Key Vault request: {e}"))
}

/// Go's `KID.Version()`: the path segment after `/keys/<name>/`.
fn version_from_kid(kid: &str) -> String {
    let path = kid.split_once("://").map_or(kid, |(_, rest)| rest);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    // host, "keys", name, version
    if segments.len() >= 4 && segments[1] == "keys" {
        segments[3].to_owned()
    } else {
        String::new()
    }
}

/// The SDK's error in sops's words: a service error as azcore's
/// `ResponseError`, a token failure as the chain's report.
fn describe(err: &azure_core::Error, method: &str, url: &str, chain: &Chain) -> String {
    match err.kind() {
        ErrorKind::HttpResponse { status, error_code, raw_response } => {
            let body: &[u8] = raw_response.as_ref().map_or(&[], |r| r.body().as_ref());
            response_error(method, url, u16::from(*status), error_code.as_deref(), body)
        }
        ErrorKind::Credential => chain.last_report().unwrap_or_else(|| chain_text(err)),
        _ => format!("{method} {url}: {}", chain_text(err)),
    }
}

/// One link of the chain: a credential ready to ask, or the reason it
/// could not be made (reported when the chain reaches it, as Go's
/// `defaultCredentialErrorReporter` does).
enum Link {
    Ready(Credential, Arc<dyn TokenCredential>),
    /// The App Service managed identity, asked directly so that a refusal
    /// reads as azidentity's (the SDK's credential keeps only a summary).
    AppService(AppServiceIdentity),
    /// `EnvironmentCredential` with a client certificate (certificate.rs).
    Certificate(Box<super::certificate::CertificateCredential>),
    Unusable(Credential, CredentialError),
}

/// sops's `DefaultAzureCredential`, built from `ctx.env`.
struct Chain {
    links: Vec<Link>,
    /// The link that gave a token; used alone from then on.
    chosen: Mutex<Option<usize>>,
    /// The managed identity's first try is cut short only in the full chain.
    probe_managed_identity: Mutex<bool>,
    /// The report of the last failure, for `describe`.
    report: Mutex<Option<String>>,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultAzureCredential").field("links", &self.links.len()).finish_non_exhaustive()
    }
}

impl Chain {
    fn new(env: &AzureEnv, plan: &[Credential]) -> Chain {
        let links = plan.iter().map(|c| link(env, *c)).collect();
        Chain {
            links,
            chosen: Mutex::new(None),
            probe_managed_identity: Mutex::new(plan.len() > 1),
            report: Mutex::new(None),
        }
    }

    fn last_report(&self) -> Option<String> {
        self.report.lock().ok().and_then(|r| r.clone())
    }

    async fn ask(&self, index: usize, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let cred = self.credential(index);
        let attempt = async {
            match &self.links[index] {
                Link::Ready(c, source) => source.get_token(scopes, None).await.map_err(|e| classify(*c, &e)),
                Link::AppService(identity) => identity.token(scopes).await,
                Link::Certificate(cert) => cert.token(scopes).await,
                Link::Unusable(_, e) => Err(e.clone()),
            }
        };
        let probe = cred == Credential::ManagedIdentity && self.probe_managed_identity.lock().is_ok_and(|p| *p);
        if !probe {
            return attempt.await;
        }
        match tokio::time::timeout(MANAGED_IDENTITY_PROBE, attempt).await {
            Ok(result) => {
                // A managed identity answered: no time limit from now on.
                if let Ok(mut p) = self.probe_managed_identity.lock() {
                    *p = false;
                }
                result
            }
            Err(_) => Err(CredentialError::Unavailable(
                "managed identity timed out. See https://aka.ms/azsdk/go/identity/troubleshoot#dac for more information"
                    .to_owned(),
            )),
        }
    }
}

// The signature `#[async_trait]` gives the trait, written out so rsops
// needs no proc-macro crate of its own for one method.
impl TokenCredential for Chain {
    fn get_token<'a, 'b, 'c, 'd, 'f>(
        &'a self,
        scopes: &'b [&'c str],
        _options: Option<TokenRequestOptions<'d>>,
    ) -> std::pin::Pin<Box<dyn Future<Output = azure_core::Result<AccessToken>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        'd: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let chosen = self.chosen.lock().ok().and_then(|c| *c);
            if let Some(i) = chosen {
                return self.ask(i, scopes).await.map_err(|e| {
                    let report = chain_report(&[(self.credential(i), e)]);
                    self.fail(report)
                });
            }
            let mut attempts = Vec::new();
            for i in 0..self.links.len() {
                match self.ask(i, scopes).await {
                    Ok(token) => {
                        if let Ok(mut c) = self.chosen.lock() {
                            *c = Some(i);
                        }
                        return Ok(token);
                    }
                    Err(e) => {
                        let stop = matches!(e, CredentialError::Failed(_));
                        attempts.push((self.credential(i), e));
                        if stop {
                            break;
                        }
                    }
                }
            }
            Err(self.fail(chain_report(&attempts)))
        })
    }
}

impl Chain {
    fn credential(&self, i: usize) -> Credential {
        match &self.links[i] {
            Link::Ready(c, _) | Link::Unusable(c, _) => *c,
            Link::AppService(_) => Credential::ManagedIdentity,
            Link::Certificate(_) => Credential::Environment,
        }
    }

    fn fail(&self, report: String) -> azure_core::Error {
        if let Ok(mut r) = self.report.lock() {
            *r = Some(report.clone());
        }
        azure_core::Error::with_message(ErrorKind::Credential, report)
    }
}

/// Makes one credential as azidentity's `NewDefaultAzureCredential` would,
/// with its texts for what is not configured.
fn link(env: &AzureEnv, cred: Credential) -> Link {
    let unavailable = |msg: &str| Link::Unusable(cred, CredentialError::Unavailable(msg.to_owned()));
    let made = |r: azure_core::Result<Arc<dyn TokenCredential>>| match r {
        Ok(c) => Link::Ready(cred, c),
        Err(e) => Link::Unusable(cred, CredentialError::Unavailable(chain_text(&e))),
    };
    match cred {
        Credential::Environment => {
            let Some(tenant) = &env.tenant_id else { return unavailable("missing environment variable AZURE_TENANT_ID") };
            let Some(client_id) = &env.client_id else { return unavailable("missing environment variable AZURE_CLIENT_ID") };
            if let Some(secret) = &env.client_secret {
                // AZURE_AUTHORITY_HOST: read by azure_identity itself.
                made(
                    ClientSecretCredential::new(tenant, client_id.clone(), Secret::new(secret.clone()), None)
                        .map(|c| c as Arc<dyn TokenCredential>),
                )
            } else if let Some(path) = &env.client_certificate_path {
                // azidentity's order: secret, then certificate. A file that
                // cannot be used makes the credential unavailable, with its text.
                match super::certificate::CertificateCredential::new(env, tenant, client_id, path) {
                    Ok(cert) => Link::Certificate(Box::new(cert)),
                    Err(e) => unavailable(&e),
                }
            } else if env.username.is_some() && env.password.is_some() {
                unavailable("rsops cannot use a user name and password (AZURE_USERNAME) yet; use a client secret, workload identity, a managed identity or the Azure CLI")
            } else {
                unavailable("incomplete environment variable configuration. Only AZURE_TENANT_ID and AZURE_CLIENT_ID are set")
            }
        }
        Credential::WorkloadIdentity => {
            let Some(client_id) = &env.client_id else {
                return unavailable("no client ID specified. Check pod configuration or set ClientID in the options");
            };
            let Some(file) = &env.federated_token_file else {
                return unavailable("no token file specified. Check pod configuration or set TokenFilePath in the options");
            };
            let Some(tenant) = &env.tenant_id else {
                return unavailable("no tenant ID specified. Check pod configuration or set TenantID in the options");
            };
            let options = WorkloadIdentityCredentialOptions {
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant.clone()),
                token_file_path: Some(file.clone()),
                ..WorkloadIdentityCredentialOptions::default()
            };
            made(WorkloadIdentityCredential::new(Some(options)).map(|c| c as Arc<dyn TokenCredential>))
        }
        Credential::ManagedIdentity => {
            // App Service: IDENTITY_ENDPOINT + IDENTITY_HEADER from ctx.env
            // (without IDENTITY_SERVER_THUMBPRINT, which means Service Fabric).
            if let (Some(endpoint), Some(header), None) =
                (&env.identity_endpoint, &env.identity_header, &env.identity_server_thumbprint)
            {
                return Link::AppService(AppServiceIdentity {
                    endpoint: endpoint.clone(),
                    header: header.clone(),
                    client_id: env.client_id.clone(),
                    http: azure_core::http::new_http_client(None),
                });
            }
            // Otherwise azure_identity decides from the process environment
            // (in practice the VM metadata endpoint). AZURE_CLIENT_ID picks a
            // user-assigned identity, as in azidentity.
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: env.client_id.clone().map(UserAssignedId::ClientId),
                ..ManagedIdentityCredentialOptions::default()
            };
            made(ManagedIdentityCredential::new(Some(options)).map(|c| c as Arc<dyn TokenCredential>))
        }
        Credential::AzureCli | Credential::AzureDeveloperCli | Credential::AzurePowerShell => {
            let program = cred.program().unwrap_or_default();
            if !env.find_program(program) {
                return unavailable("executable not found on path");
            }
            match cred {
                Credential::AzureCli => made(AzureCliCredential::new(None).map(|c| c as Arc<dyn TokenCredential>)),
                Credential::AzureDeveloperCli => {
                    made(AzureDeveloperCliCredential::new(None).map(|c| c as Arc<dyn TokenCredential>))
                }
                _ => unavailable("rsops does not run Azure PowerShell; sign in with the Azure CLI (az login) instead"),
            }
        }
    }
}

/// Whether a credential's failure lets the chain go on (azidentity: the
/// developer tools are "unavailable" when not signed in; a managed identity
/// whose endpoint cannot be reached is unavailable; any other failure of a
/// configured credential stops the chain).
fn classify(cred: Credential, err: &azure_core::Error) -> CredentialError {
    let text = chain_text(err);
    match (cred, err.kind()) {
        (Credential::ManagedIdentity, ErrorKind::HttpResponse { status, raw_response, .. }) => {
            let body: &[u8] = raw_response.as_ref().map_or(&[], |r| r.body().as_ref());
            // azidentity prints the endpoint's answer without an error code line.
            // Only the VM metadata endpoint is left to the SDK (App Service is ours).
            let answer = response_error("GET", IMDS_TOKEN_URL, u16::from(*status), None, body)
                .replace("ERROR CODE UNAVAILABLE\n", "");
            CredentialError::Failed(format!(
                "\n{answer}To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id"
            ))
        }
        (Credential::ManagedIdentity, ErrorKind::Connection | ErrorKind::Io) => CredentialError::Unavailable(text),
        (Credential::AzureCli | Credential::AzureDeveloperCli, _) => {
            if text.contains("az login") || text.contains("azd auth login") || text.contains("not logged in") {
                CredentialError::Unavailable(text)
            } else {
                CredentialError::Failed(text)
            }
        }
        _ => CredentialError::Failed(text),
    }
}

/// App Service's managed identity endpoint, as azidentity calls it:
/// `GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=<R>` with the
/// `X-IDENTITY-HEADER` secret.
struct AppServiceIdentity {
    endpoint: String,
    header: String,
    client_id: Option<String>,
    http: Arc<dyn azure_core::http::HttpClient>,
}

impl AppServiceIdentity {
    async fn token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let failed = |m: String| CredentialError::Failed(m);
        let resource = scopes.first().map_or("", |s| s.trim_end_matches("/.default"));
        let mut url = azure_core::http::Url::parse(&self.endpoint)
            .map_err(|e| failed(format!("invalid IDENTITY_ENDPOINT {:?}: {e}", self.endpoint)))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("api-version", "2019-08-01").append_pair("resource", resource);
            if let Some(id) = &self.client_id {
                query.append_pair("client_id", id);
            }
        }
        let mut request = azure_core::http::Request::new(url, azure_core::http::Method::Get);
        request.insert_header("x-identity-header", self.header.clone());
        let response = self.http.execute_request(&request).await.map_err(|e| failed(chain_text(&e)))?;
        let (status, _headers, body) = response.deconstruct();
        let body = body.collect().await.map_err(|e| failed(chain_text(&e)))?;
        if !status.is_success() {
            // azidentity prints the endpoint's answer without an error code line.
            let answer = response_error("GET", &self.endpoint, u16::from(status), None, &body)
                .replace("ERROR CODE UNAVAILABLE\n", "");
            return Err(failed(format!(
                "\n{answer}To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id"
            )));
        }
        parse_identity_token(&body).ok_or_else(|| {
            failed(format!(
                "\nunexpected response from the managed identity endpoint {}\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id",
                self.endpoint
            ))
        })
    }
}

/// `{"access_token": …, "expires_on": "<epoch>" or <epoch>}`.
fn parse_identity_token(body: &[u8]) -> Option<AccessToken> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = value.get("access_token")?.as_str()?.to_owned();
    let expires = match value.get("expires_on")? {
        serde_json::Value::String(s) => s.parse::<i64>().ok()?,
        serde_json::Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    let expires_on = azure_core::time::OffsetDateTime::from_unix_timestamp(expires).ok()?;
    Some(AccessToken::new(Secret::new(token), expires_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comes_from_the_kid() {
        assert_eq!(version_from_kid("https://v.vault.azure.net/keys/k/abc123"), "abc123");
        assert_eq!(version_from_kid("https://v.vault.azure.net:8443/keys/k/abc?x=1"), "abc");
        assert_eq!(version_from_kid("https://v.vault.azure.net/keys/k"), "");
        assert_eq!(version_from_kid(""), "");
    }

    #[test]
    fn identity_tokens_parse_with_either_expiry_form() {
        let t = parse_identity_token(br#"{"access_token":"abc","expires_on":"1700000000","token_type":"Bearer"}"#).unwrap();
        assert_eq!(t.token.secret(), "abc");
        assert_eq!(t.expires_on.unix_timestamp(), 1_700_000_000);
        let t = parse_identity_token(br#"{"access_token":"x","expires_on":1700000001}"#).unwrap();
        assert_eq!(t.expires_on.unix_timestamp(), 1_700_000_001);
        assert!(parse_identity_token(br#"{"expires_on":"1"}"#).is_none());
        assert!(parse_identity_token(b"not json").is_none());
    }

    #[test]
    fn unconfigured_credentials_say_what_is_missing() {
        // No credential that talks to the network is made here: only the
        // ones whose configuration is absent (IMDS guard, backends.md §7).
        let env = AzureEnv::default();
        let texts: Vec<String> = [Credential::Environment, Credential::WorkloadIdentity, Credential::AzureCli]
            .into_iter()
            .map(|c| match link(&env, c) {
                Link::Unusable(_, CredentialError::Unavailable(m)) => m,
                _ => panic!("{c:?} should be unusable"),
            })
            .collect();
        assert_eq!(texts[0], "missing environment variable AZURE_TENANT_ID");
        assert_eq!(texts[1], "no client ID specified. Check pod configuration or set ClientID in the options");
        assert_eq!(texts[2], "executable not found on path");
        let partial = AzureEnv { tenant_id: Some("t".into()), client_id: Some("c".into()), ..AzureEnv::default() };
        assert!(matches!(link(&partial, Credential::Environment),
            Link::Unusable(_, CredentialError::Unavailable(m)) if m.starts_with("incomplete environment variable configuration")));
    }
}
