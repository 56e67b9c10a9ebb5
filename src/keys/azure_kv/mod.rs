//! The Azure Key Vault master-key backend: wrapping the data key with the
//! vault's `encrypt` operation (RSA-OAEP-256) and unwrapping it with
//! `decrypt`, as sops 3.11 does (cli.md §10.5, format.md §6.2, backends.md §4).
//!
//! What is sops's here, in every build: the key URL pattern, `https` only,
//! the stored `enc` as base64url without padding, which credentials
//! `DefaultAzureCredential` tries and how `AZURE_TOKEN_CREDENTIALS` narrows
//! them ([`plan_credentials`]), and the texts of every failure, including
//! the Go SDK's layout of a service error ([`response_error`]). The calls
//! themselves live in `enabled.rs` (feature `azure`:
//! `azure_security_keyvault_keys` + `azure_identity`); `disabled.rs` says the
//! build lacks them. Chosen by `#[path]` so callers carry no `cfg`
//! (STYLE.md §6).
//!
//! Nothing starts early: [`AzureKvSource::new`] only captures the
//! environment; the tokio runtime, the credential chain and the HTTPS client
//! are created on the first call, so an age-only file never touches them.

#[cfg_attr(feature = "azure", path = "enabled.rs")]
#[cfg_attr(not(feature = "azure"), path = "disabled.rs")]
mod client;
/// The client-certificate credential (hand-written: azure_identity's needs openssl).
#[cfg(feature = "azure")]
mod certificate;

use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use regex::Regex;
use zeroize::Zeroizing;

use super::KeyRef;
use crate::gotext;

/// Whether this build can use Azure Key Vault keys (`--version` lists it).
pub const BUILT_IN: bool = cfg!(feature = "azure");

/// The error of a request to a vault URL that is not `https` (Go azcore's
/// bearer-token policy, seen through sops; backends.md §4).
pub const NOT_TLS: &str = "authenticated requests are not permitted for non TLS protected (https) endpoints";

/// One Key Vault key, borrowed from a [`KeyRef::AzureKv`].
#[derive(Clone, Copy, Debug)]
pub struct AzureKey<'a> {
    /// `https://<vault host>` without a trailing slash.
    pub vault_url: &'a str,
    pub name: &'a str,
    /// Empty: the latest version (only before sops resolved it).
    pub version: &'a str,
}

impl<'a> AzureKey<'a> {
    /// The Key Vault fields of `key`, if it is an Azure key.
    pub fn from_ref(key: &'a KeyRef) -> Option<AzureKey<'a>> {
        match key {
            KeyRef::AzureKv { vault_url, name, version } => Some(AzureKey { vault_url, name, version }),
            _ => None,
        }
    }

    /// sops's `ToString`: `<vault>/keys/<name>/<version>` (cli.md §10.5).
    pub fn id(&self) -> String {
        format!("{}/keys/{}/{}", self.vault_url, self.name, self.version)
    }
}

/// Splits `https://<vault>/keys/<name>[/<version>]` (trimmed) by sops's
/// pattern `^(https://[^/]+)/keys/([^/]+)(/[^/]*)?$`; `None` when it does
/// not match. An empty version (`…/keys/k` or `…/keys/k/`) means "latest",
/// which sops resolves at once ([`AzureKvSource::latest_version`]).
pub fn parse_url(url: &str) -> Option<(String, String, String)> {
    static URL: OnceLock<Regex> = OnceLock::new();
    let re = URL.get_or_init(|| Regex::new(r"^(https://[^/]+)/keys/([^/]+)(/[^/]*)?$").expect("the URL pattern compiles"));
    let caps = re.captures(url.trim())?;
    let version = caps.get(3).map_or("", |m| &m.as_str()[1..]);
    Some((caps[1].to_owned(), caps[2].to_owned(), version.to_owned()))
}

/// sops's error for a key URL that does not match; Go prints the (nil)
/// submatch slice as `[]`.
pub fn parse_error(url: &str) -> String {
    format!("could not parse {:?} into a valid Azure Key Vault MasterKey []", url.trim())
}

/// The credential types of azidentity's `DefaultAzureCredential`, in its
/// order, by the names `AZURE_TOKEN_CREDENTIALS` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
    AzureDeveloperCli,
    AzurePowerShell,
}

impl Credential {
    const ALL: [Credential; 6] = [
        Credential::Environment,
        Credential::WorkloadIdentity,
        Credential::ManagedIdentity,
        Credential::AzureCli,
        Credential::AzureDeveloperCli,
        Credential::AzurePowerShell,
    ];

    /// The type name Go prints in the chain's report.
    pub fn name(self) -> &'static str {
        match self {
            Credential::Environment => "EnvironmentCredential",
            Credential::WorkloadIdentity => "WorkloadIdentityCredential",
            Credential::ManagedIdentity => "ManagedIdentityCredential",
            Credential::AzureCli => "AzureCLICredential",
            Credential::AzureDeveloperCli => "AzureDeveloperCLICredential",
            Credential::AzurePowerShell => "AzurePowerShellCredential",
        }
    }

    /// The program a developer-tool credential runs.
    pub fn program(self) -> Option<&'static str> {
        match self {
            Credential::AzureCli => Some("az"),
            Credential::AzureDeveloperCli => Some("azd"),
            Credential::AzurePowerShell => Some("pwsh"),
            _ => None,
        }
    }
}

/// The credentials to try, by `AZURE_TOKEN_CREDENTIALS` (azidentity, seen
/// through sops): unset or empty → all six in order; `dev` → the three
/// developer tools; `prod` → environment, workload identity, managed
/// identity; a credential type name (any case) → that one alone; anything
/// else is refused with azidentity's text when the credential is made.
pub fn plan_credentials(selector: Option<&str>) -> Result<Vec<Credential>, String> {
    let all = Credential::ALL;
    match selector.unwrap_or("") {
        "" => Ok(all.to_vec()),
        "dev" => Ok(all[3..].to_vec()),
        "prod" => Ok(all[..3].to_vec()),
        other => all.iter().find(|c| c.name().eq_ignore_ascii_case(other)).map(|c| vec![*c]).ok_or_else(|| {
            format!(
                "invalid AZURE_TOKEN_CREDENTIALS value {other:?}. Valid values are \"dev\", \"prod\", or the name of any credential type in the default chain. See https://aka.ms/azsdk/go/identity/docs#DefaultAzureCredential for more information"
            )
        }),
    }
}

/// The variables sops's `DefaultAzureCredential` reads that rsops reads
/// itself, captured once from `ctx.env`, App Service's managed identity
/// included. `azure_identity` reads the rest from the process environment:
/// `AZURE_AUTHORITY_HOST` for its own credentials (the certificate
/// credential takes it from here), and the VM metadata endpoint's settings
/// when no App Service identity is configured.
#[derive(Clone, Default)]
pub struct AzureEnv {
    pub token_credentials: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_certificate_path: Option<String>,
    /// `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN` is `1` or `true` (any case):
    /// the assertion carries the certificate chain (`x5c`), as azidentity.
    pub send_certificate_chain: bool,
    /// `AZURE_AUTHORITY_HOST`, for the certificate credential's token URL.
    pub authority_host: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub federated_token_file: Option<PathBuf>,
    pub identity_endpoint: Option<String>,
    pub identity_header: Option<String>,
    pub identity_server_thumbprint: Option<String>,
    /// `PATH`, to find `az`, `azd` and `pwsh` as Go's `exec.LookPath` does.
    pub path: Option<String>,
}

impl fmt::Debug for AzureEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret, the password or the identity header.
        f.debug_struct("AzureEnv")
            .field("token_credentials", &self.token_credentials)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<set>"))
            .field("identity_endpoint", &self.identity_endpoint)
            .finish_non_exhaustive()
    }
}

impl AzureEnv {
    /// Captures the variables through `lookup`; empty counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> AzureEnv {
        let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
        AzureEnv {
            token_credentials: set("AZURE_TOKEN_CREDENTIALS"),
            tenant_id: set("AZURE_TENANT_ID"),
            client_id: set("AZURE_CLIENT_ID"),
            client_secret: set("AZURE_CLIENT_SECRET"),
            client_certificate_path: set("AZURE_CLIENT_CERTIFICATE_PATH"),
            send_certificate_chain: set("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
            authority_host: set("AZURE_AUTHORITY_HOST"),
            username: set("AZURE_USERNAME"),
            password: set("AZURE_PASSWORD"),
            federated_token_file: set("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from),
            identity_endpoint: set("IDENTITY_ENDPOINT"),
            identity_header: set("IDENTITY_HEADER"),
            identity_server_thumbprint: set("IDENTITY_SERVER_THUMBPRINT"),
            path: lookup("PATH"),
        }
    }

    /// Whether `program` is an executable file in a `PATH` directory.
    pub fn find_program(&self, program: &str) -> bool {
        let Some(path) = &self.path else { return false };
        std::env::split_paths(path).filter(|d| !d.as_os_str().is_empty()).any(|dir| is_executable(&dir.join(program)))
    }
}

fn is_executable(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// What went wrong getting a token from one credential: `Unavailable`
/// lets the chain go on to the next one, `Failed` stops it (azidentity's
/// `credentialUnavailableError` versus `AuthenticationFailedError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    Unavailable(String),
    Failed(String),
}

/// The chain's report: `DefaultAzureCredential: failed to acquire a
/// token.` and one tab-indented line per credential tried, with the
/// continuation lines of each message indented by two tabs, as Go prints it.
pub fn chain_report(attempts: &[(Credential, CredentialError)]) -> String {
    let mut out = String::from("DefaultAzureCredential: failed to acquire a token.\nAttempted credentials:");
    for (cred, err) in attempts {
        let line = match err {
            CredentialError::Unavailable(msg) => format!("{}: {msg}", cred.name()),
            CredentialError::Failed(msg) => format!("{} authentication failed. {msg}", cred.name()),
        };
        out.push_str("\n\t");
        out.push_str(&line.replace('\n', "\n\t\t"));
    }
    out
}

/// Go azcore's `ResponseError` text for a failed request: the method and
/// URL (without query), the status, the service's error code and the body
/// re-indented as `json.Indent(…, "", "  ")` does, between separator lines.
pub fn response_error(method: &str, url: &str, status: u16, code: Option<&str>, body: &[u8]) -> String {
    const SEPARATOR: &str = "--------------------------------------------------------------------------------";
    let url = url.split('?').next().unwrap_or(url);
    let mut msg = format!("{method} {url}\n{SEPARATOR}\nRESPONSE {status}: {status} {}\n", reason(status));
    match code {
        Some(c) if !c.is_empty() => {
            let _ = writeln!(msg, "ERROR CODE: {c}");
        }
        _ => msg.push_str("ERROR CODE UNAVAILABLE\n"),
    }
    msg.push_str(SEPARATOR);
    msg.push('\n');
    if body.is_empty() {
        msg.push_str("Response contained no body\n");
    } else {
        match json_indent(body) {
            Some(text) => msg.push_str(&text),
            None => msg.push_str(&String::from_utf8_lossy(body)),
        }
        msg.push('\n');
    }
    msg.push_str(SEPARATOR);
    msg.push('\n');
    msg
}

/// Go's `http.StatusText` for the statuses Key Vault and token endpoints send.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `json.Indent(dst, src, "", "  ")`: the tokens as they are, each element
/// on its own line, `": "` after keys, empty `{}`/`[]` kept; `None` when
/// the body is not JSON-shaped (then Go prints it verbatim).
fn json_indent(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = trimmed.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(char::is_ascii_whitespace) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next()?);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            other => out.push(other),
        }
    }
    (depth == 0 && !in_string).then_some(out)
}

/// The Azure Key Vault key source of one run. Creating it costs nothing;
/// the runtime, credentials and HTTPS client start on first use.
pub struct AzureKvSource {
    env: AzureEnv,
    client: client::Client,
}

impl fmt::Debug for AzureKvSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureKvSource").field("built_in", &BUILT_IN).finish_non_exhaustive()
    }
}

/// What a token is wanted for, naming sops's texts for that step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Encrypt,
    Decrypt,
    Version,
}

impl Purpose {
    /// sops's wrapper when the credential cannot even be made.
    fn credential_error(self, err: &str) -> String {
        let what = match self {
            Purpose::Encrypt => "encrypt data",
            Purpose::Decrypt => "decrypt",
            Purpose::Version => "retrieve key version",
        };
        format!("failed to get Azure token credential to {what}: {err}")
    }
}

impl AzureKvSource {
    pub fn new(env: AzureEnv) -> AzureKvSource {
        AzureKvSource { env, client: client::Client::new() }
    }

    /// The credentials to try, or sops's error for a bad
    /// `AZURE_TOKEN_CREDENTIALS` (raised before any request, as sops's
    /// `NewDefaultAzureCredential` does).
    fn plan(&self, purpose: Purpose) -> Result<Vec<Credential>, String> {
        plan_credentials(self.env.token_credentials.as_deref()).map_err(|e| purpose.credential_error(&e))
    }

    /// Wraps `data` (a data key or Shamir share) with `key` and returns the
    /// `enc` text: base64url without padding of the `encrypt` result.
    pub fn wrap(&self, key: AzureKey<'_>, data: &[u8]) -> Result<String, String> {
        let plan = self.plan(Purpose::Encrypt)?;
        let out = self
            .client
            .encrypt(&self.env, &plan, key, data)
            .map_err(|e| format!("failed to encrypt sops data key with Azure Key Vault key '{}': {e}", key.id()))?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    /// Unwraps the data key from an entry's `enc`.
    pub fn unwrap(&self, key: AzureKey<'_>, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let plan = self.plan(Purpose::Decrypt)?;
        let blob = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(enc).map_err(|e| {
            format!("failed to base64 decode Azure Key Vault encrypted key: {}", gotext::base64_error(&e))
        })?;
        self.client
            .decrypt(&self.env, &plan, key, &blob)
            .map_err(|e| format!("failed to decrypt sops data key with Azure Key Vault key '{}': {e}", key.id()))
    }

    /// The latest version of a key, from `GET <vault>/keys/<name>/`, as
    /// sops looks it up for a key URL without a version (cli.md §10.5).
    pub fn latest_version(&self, vault_url: &str, name: &str) -> Result<String, String> {
        let plan = self.plan(Purpose::Version)?;
        self.client
            .latest_version(&self.env, &plan, vault_url, name)
            .map_err(|e| format!("failed to fetch Azure Key to retrieve key version: {e}"))
    }

    /// Fills in the version of every Azure key that has none, in place,
    /// the way sops's key parsing does before anything else runs.
    pub fn resolve_versions<'a>(&self, keys: impl IntoIterator<Item = &'a mut KeyRef>) -> Result<(), String> {
        for key in keys {
            if let KeyRef::AzureKv { vault_url, name, version } = key {
                if version.is_empty() {
                    *version = self.latest_version(vault_url, name)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_like_sops() {
        assert_eq!(
            parse_url(" https://v.vault.azure.net/keys/k/abc "),
            Some(("https://v.vault.azure.net".into(), "k".into(), "abc".into()))
        );
        assert_eq!(parse_url("https://v.vault.azure.net/keys/k"), Some(("https://v.vault.azure.net".into(), "k".into(), String::new())));
        assert_eq!(parse_url("https://v.vault.azure.net/keys/k/"), Some(("https://v.vault.azure.net".into(), "k".into(), String::new())));
        assert_eq!(parse_url("http://v.vault.azure.net/keys/k/abc"), None);
        assert_eq!(parse_url("https://v.vault.azure.net/keys/k/a/b"), None);
        assert_eq!(parse_url("https://v.vault.azure.net/secrets/k"), None);
        assert_eq!(
            parse_error("http://x/keys/k/v"),
            "could not parse \"http://x/keys/k/v\" into a valid Azure Key Vault MasterKey []"
        );
        let key = KeyRef::AzureKv { vault_url: "https://v".into(), name: "n".into(), version: "1".into() };
        assert_eq!(AzureKey::from_ref(&key).unwrap().id(), key.id());
    }

    #[test]
    fn token_credentials_select_like_azidentity() {
        assert_eq!(plan_credentials(None).unwrap().len(), 6);
        assert_eq!(plan_credentials(Some("")).unwrap()[0], Credential::Environment);
        assert_eq!(
            plan_credentials(Some("dev")).unwrap(),
            vec![Credential::AzureCli, Credential::AzureDeveloperCli, Credential::AzurePowerShell]
        );
        assert_eq!(
            plan_credentials(Some("prod")).unwrap(),
            vec![Credential::Environment, Credential::WorkloadIdentity, Credential::ManagedIdentity]
        );
        assert_eq!(plan_credentials(Some("azureclicredential")).unwrap(), vec![Credential::AzureCli]);
        assert_eq!(plan_credentials(Some("ManagedIdentityCredential")).unwrap(), vec![Credential::ManagedIdentity]);
        let err = plan_credentials(Some("DEV")).unwrap_err();
        assert!(err.starts_with("invalid AZURE_TOKEN_CREDENTIALS value \"DEV\". Valid values are \"dev\", \"prod\""), "{err}");
    }

    #[test]
    fn chain_report_matches_go_layout() {
        let report = chain_report(&[
            (Credential::Environment, CredentialError::Unavailable("missing environment variable AZURE_TENANT_ID".into())),
            (Credential::ManagedIdentity, CredentialError::Failed("\nGET x\nline".into())),
        ]);
        assert_eq!(
            report,
            "DefaultAzureCredential: failed to acquire a token.\nAttempted credentials:\n\tEnvironmentCredential: missing environment variable AZURE_TENANT_ID\n\tManagedIdentityCredential authentication failed. \n\t\tGET x\n\t\tline"
        );
    }

    #[test]
    fn response_errors_read_like_azcore() {
        let body = br#"{"error": {"code": "KeyNotFound", "message": "A key, [x]", "e": {}}}"#;
        let text = response_error("GET", "https://v.vault.azure.net/keys/k/?api-version=7.6", 404, Some("KeyNotFound"), body);
        let sep = "-".repeat(80);
        assert_eq!(
            text,
            format!("GET https://v.vault.azure.net/keys/k/\n{sep}\nRESPONSE 404: 404 Not Found\nERROR CODE: KeyNotFound\n{sep}\n{{\n  \"error\": {{\n    \"code\": \"KeyNotFound\",\n    \"message\": \"A key, [x]\",\n    \"e\": {{}}\n  }}\n}}\n{sep}\n")
        );
        let empty = response_error("POST", "https://v/x", 500, None, b"");
        assert!(empty.contains("ERROR CODE UNAVAILABLE\n") && empty.contains("Response contained no body\n"), "{empty}");
        assert!(response_error("POST", "https://v/x", 400, None, b"oops").contains("\noops\n"));
    }

    #[test]
    fn bad_enc_and_bad_selector_fail_before_any_call() {
        let src = AzureKvSource::new(AzureEnv::default());
        let key = AzureKey { vault_url: "https://v.vault.azure.net", name: "k", version: "1" };
        assert_eq!(
            src.unwrap(key, "not base64!").unwrap_err(),
            "failed to base64 decode Azure Key Vault encrypted key: illegal base64 data at input byte 3"
        );
        let env = AzureEnv { token_credentials: Some("bogus".into()), ..AzureEnv::default() };
        let src = AzureKvSource::new(env);
        let err = src.wrap(key, &[0; 32]).unwrap_err();
        assert!(err.starts_with("failed to get Azure token credential to encrypt data: invalid AZURE_TOKEN_CREDENTIALS value \"bogus\""), "{err}");
        let err = src.latest_version("https://v", "k").unwrap_err();
        assert!(err.starts_with("failed to get Azure token credential to retrieve key version: "), "{err}");
    }

    #[test]
    fn programs_are_found_on_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let env = AzureEnv { path: Some(dir.path().display().to_string()), ..AzureEnv::default() };
        assert!(!env.find_program("az"));
        let prog = dir.path().join("az");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert!(!env.find_program("az"), "not executable yet");
            std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert!(env.find_program("az"));
        assert!(!AzureEnv::default().find_program("az"));
    }
}
