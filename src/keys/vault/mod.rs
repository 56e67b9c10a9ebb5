//! The Vault transit backend (`HashiCorp` Vault and `OpenBao`): wrapping the data key
//! with `PUT <address>/v1/<engine>/encrypt/<key>` and unwrapping it with
//! `…/decrypt/<key>`, the two JSON calls sops 3.11 makes (cli.md §10.6,
//! backends.md §3, format.md §6.2).
//!
//! This file owns what does not need the HTTP client: the environment the
//! backend reads (the Go Vault client's defaults, cli.md §10), the token
//! lookup, the request URLs and sops's error texts. The transport is in
//! `enabled.rs` (feature `vault`, a blocking HTTP client, no async runtime)
//! or `disabled.rs`, which only says the build lacks it; chosen by `#[path]`
//! so callers carry no `cfg` (STYLE.md §6). Nothing is opened before a Vault
//! key is used: `Context::vault` creates the source on first use.

#[cfg_attr(feature = "vault", path = "enabled.rs")]
#[cfg_attr(not(feature = "vault"), path = "disabled.rs")]
pub(crate) mod transport;

use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

/// The Go client's default `VAULT_CLIENT_TIMEOUT`.
const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);

/// Whether this build can reach Vault (`--version` lists `hc_vault`).
pub const BUILT_IN: bool = cfg!(feature = "vault");

/// The variables the Go Vault client (`api.DefaultConfig`) and sops read,
/// captured once. `VAULT_ADDR` is absent on purpose: sops overwrites it
/// with the key's own address (cli.md §14 item 14).
#[derive(Clone, Default)]
pub struct VaultEnv {
    /// `VAULT_TOKEN`; empty counts as unset, as in the Go client.
    pub token: Option<String>,
    /// `HOME`, for `~/.vault-token`.
    pub home: Option<PathBuf>,
    /// `VAULT_NAMESPACE`, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// `VAULT_AGENT_ADDR`: replaces the address stored in the file.
    pub agent_addr: Option<String>,
    /// `VAULT_CACERT`: a PEM file of CA certificates to trust.
    pub ca_cert: Option<PathBuf>,
    /// `VAULT_CACERT_BYTES`: PEM CA certificates given inline.
    pub ca_cert_bytes: Option<String>,
    /// `VAULT_CAPATH`: a folder of PEM CA certificates to trust.
    pub ca_path: Option<PathBuf>,
    /// `VAULT_CLIENT_CERT` and `VAULT_CLIENT_KEY`: the PEM certificate
    /// (chain) and private key presented when the server asks for one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// `VAULT_TLS_SERVER_NAME`: the name sent (SNI) and verified instead of
    /// the URL's host.
    pub tls_server_name: Option<String>,
    /// `VAULT_SKIP_VERIFY`: do not verify the server's certificate.
    pub skip_verify: bool,
    /// `VAULT_DISABLE_REDIRECTS`: do not follow a standby's redirect.
    pub disable_redirects: bool,
    /// The first variable the Go client refuses to parse: its
    /// `DefaultConfig` then fails, and so does every Vault call of sops.
    pub config_error: Option<String>,
    /// `VAULT_CLIENT_TIMEOUT` (default 60 s).
    pub timeout: Duration,
    /// `VAULT_MAX_RETRIES` (default 2): retries after a 5xx or a failed connection.
    pub max_retries: u32,
    /// `VAULT_HTTP_PROXY` (or `VAULT_PROXY_ADDR`): a proxy for every request.
    pub vault_proxy: Option<String>,
    /// `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`, `NO_PROXY`/`no_proxy`.
    pub https_proxy: Option<String>,
    pub http_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

impl VaultEnv {
    /// Captures the variables through `lookup` (e.g. `std::env::var`).
    /// Values the Go client's `ReadEnvironment` refuses are recorded, in
    /// its order, as [`VaultEnv::config_error`] with its wording.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> VaultEnv {
        let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut errors: Vec<String> = Vec::new();
        let max_retries = match set("VAULT_MAX_RETRIES") {
            None => 2,
            Some(v) => v.parse::<u32>().unwrap_or_else(|_| {
                errors.push(format!("strconv.ParseUint: parsing {v:?}: invalid syntax"));
                2
            }),
        };
        let timeout = match set("VAULT_CLIENT_TIMEOUT") {
            None => DEFAULT_TIMEOUT,
            Some(v) => parse_duration(&v).unwrap_or_else(|| {
                errors.push("could not parse \"VAULT_CLIENT_TIMEOUT\"".to_owned());
                DEFAULT_TIMEOUT
            }),
        };
        let mut flag = |name: &str| match set(name) {
            None => false,
            Some(v) => parse_go_bool(&v).unwrap_or_else(|| {
                errors.push(format!("could not parse {name}"));
                false
            }),
        };
        let skip_verify = flag("VAULT_SKIP_VERIFY");
        let _srv_lookup = flag("VAULT_SRV_LOOKUP");
        let disable_redirects = flag("VAULT_DISABLE_REDIRECTS");
        let client_cert = set("VAULT_CLIENT_CERT").map(PathBuf::from);
        let client_key = set("VAULT_CLIENT_KEY").map(PathBuf::from);
        if client_cert.is_some() != client_key.is_some() {
            errors.push("both client cert and client key must be provided".to_owned());
        }
        VaultEnv {
            token: set("VAULT_TOKEN"),
            home: set("HOME").map(PathBuf::from),
            namespace: set("VAULT_NAMESPACE"),
            agent_addr: set("VAULT_AGENT_ADDR"),
            ca_cert: set("VAULT_CACERT").map(PathBuf::from),
            ca_cert_bytes: set("VAULT_CACERT_BYTES"),
            ca_path: set("VAULT_CAPATH").map(PathBuf::from),
            client_cert,
            client_key,
            tls_server_name: set("VAULT_TLS_SERVER_NAME"),
            skip_verify,
            disable_redirects,
            config_error: errors.into_iter().next(),
            timeout,
            max_retries,
            vault_proxy: set("VAULT_PROXY_ADDR").or_else(|| set("VAULT_HTTP_PROXY")),
            https_proxy: set("HTTPS_PROXY").or_else(|| set("https_proxy")),
            http_proxy: set("HTTP_PROXY").or_else(|| set("http_proxy")),
            no_proxy: set("NO_PROXY").or_else(|| set("no_proxy")),
        }
    }

    /// The proxy for `url` as Go's `http.ProxyFromEnvironment` picks it:
    /// `HTTPS_PROXY` or `HTTP_PROXY` by scheme, never for `localhost` or a
    /// loopback IP, nor for a host `NO_PROXY` names (`*`, a host, or a
    /// domain with or without a leading dot, optionally with `:port`).
    /// `VAULT_PROXY_ADDR`/`VAULT_HTTP_PROXY` apply to every request.
    #[cfg_attr(not(feature = "vault"), allow(dead_code))]
    pub(crate) fn proxy_for(&self, url: &str) -> Option<&str> {
        if let Some(p) = &self.vault_proxy {
            return Some(p);
        }
        let (scheme, rest) = url.split_once("://")?;
        let proxy = if scheme == "https" { self.https_proxy.as_deref() } else { self.http_proxy.as_deref() }?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = split_host_port(authority, if scheme == "https" { "443" } else { "80" });
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare == "localhost" || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return None;
        }
        for entry in self.no_proxy.as_deref().unwrap_or("").split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                return None;
            }
            let (e_host, e_port) = match entry.rsplit_once(':') {
                Some((h, p)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && (!h.contains(':') || h.ends_with(']')) => {
                    (h, Some(p))
                }
                _ => (entry, None),
            };
            if e_port.is_some_and(|p| p != port) {
                continue;
            }
            let domain = e_host.trim_start_matches("*.").trim_start_matches('.').to_ascii_lowercase();
            let h = bare.to_ascii_lowercase();
            if h == domain || h.ends_with(&format!(".{domain}")) {
                return None;
            }
        }
        Some(proxy)
    }

    /// The token sops sends: `VAULT_TOKEN`, else `~/.vault-token` with
    /// whitespace trimmed (a missing file means no token), else none.
    fn token(&self) -> Result<Option<Zeroizing<String>>, String> {
        if let Some(t) = &self.token {
            return Ok(Some(Zeroizing::new(t.clone())));
        }
        let Some(home) = &self.home else { return Ok(None) };
        let path = home.join(".vault-token");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                let t = text.trim();
                Ok((!t.is_empty()).then(|| Zeroizing::new(t.to_owned())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot get Vault token: open {}: {e}", path.display())),
        }
    }
}

impl fmt::Debug for VaultEnv {
    /// Never shows the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultEnv")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("namespace", &self.namespace)
            .field("agent_addr", &self.agent_addr)
            .field("ca_cert", &self.ca_cert)
            .field("ca_path", &self.ca_path)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("tls_server_name", &self.tls_server_name)
            .field("skip_verify", &self.skip_verify)
            .field("disable_redirects", &self.disable_redirects)
            .field("config_error", &self.config_error)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// `host:port` of an URL authority, with the scheme's default port.
fn split_host_port<'a>(authority: &'a str, default: &'a str) -> (&'a str, &'a str) {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') && (!h.contains(':') || h.ends_with(']')) => (h, p),
        _ => (authority, default),
    }
}

/// `strconv.ParseBool`, which the Go client uses for its flags.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `VAULT_CLIENT_TIMEOUT`: whole seconds, or a Go duration with one unit
/// (`500ms`, `30s`, `2m`, `1h`).
fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = v.split_at(split);
    let num: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => num / 1000.0,
        "s" => num,
        "m" => num * 60.0,
        "h" => num * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// One transit key: where it lives and what it is called.
#[derive(Clone, Copy, Debug)]
pub struct TransitKey<'a> {
    pub address: &'a str,
    pub engine_path: &'a str,
    pub key_name: &'a str,
}

/// A request to Vault, as the transport needs it. `Debug` omits the body.
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
pub(crate) struct Call<'a> {
    /// The server, for the "waiting for …" line.
    pub(crate) address: &'a str,
    pub(crate) url: String,
    pub(crate) token: Option<Zeroizing<String>>,
    pub(crate) namespace: Option<&'a str>,
    /// The JSON body (it holds the data key or its wrapped form).
    pub(crate) body: Zeroizing<String>,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The Vault key source of one run; the HTTP client is made on first use.
pub struct VaultSource {
    env: VaultEnv,
    transport: transport::Transport,
}

impl fmt::Debug for VaultSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSource").field("env", &self.env).finish_non_exhaustive()
    }
}

impl VaultSource {
    pub fn new(env: VaultEnv) -> VaultSource {
        VaultSource { env, transport: transport::Transport::new() }
    }

    /// The address requests go to: `VAULT_AGENT_ADDR` if set, else the key's.
    fn address<'a>(&'a self, key: &TransitKey<'a>) -> &'a str {
        self.env.agent_addr.as_deref().unwrap_or(key.address)
    }

    /// The request for `op`, after what sops's `vaultClient` does first:
    /// the Go client's configuration (its environment, TLS files), then the
    /// token. Those failures are sops's bare `cannot create Vault client: …`
    /// and `cannot get Vault token: …`, without the transit-backend frame.
    fn call<'a>(&'a self, key: &TransitKey<'a>, op: &str, body: Zeroizing<String>) -> Result<Call<'a>, String> {
        let address = self.address(key);
        let url = format!("{}/v1/{}/{op}/{}", address.trim_end_matches('/'), key.engine_path, key.key_name);
        if let Some(e) = &self.env.config_error {
            return Err(client_error(e));
        }
        self.transport.prepare(&self.env, &url).map_err(|e| client_error(&e))?;
        Ok(Call { address, url, token: self.env.token()?, namespace: self.env.namespace.as_deref(), body })
    }

    /// Wraps `data` (a data key or Shamir share) and returns the transit
    /// ciphertext (`vault:v1:…`), stored verbatim as `enc`.
    pub fn wrap(&self, key: &TransitKey<'_>, data: &[u8]) -> Result<String, String> {
        let fail = |e: String| {
            format!("failed to encrypt sops data key to Vault transit backend '{}/encrypt/{}': {e}", key.engine_path, key.key_name)
        };
        let plaintext = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(data));
        let body = Zeroizing::new(format!("{{\"plaintext\":\"{}\"}}", plaintext.as_str()));
        let call = self.call(key, "encrypt", body)?;
        let ciphertext = self.transport.put(&call, "ciphertext", &self.env).map_err(fail)?;
        Ok(ciphertext.to_string())
    }

    /// Unwraps the data key from a `hc_vault` entry's `enc`.
    pub fn unwrap(&self, key: &TransitKey<'_>, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let fail = |e: String| {
            format!("failed to decrypt sops data key from Vault transit backend '{}/decrypt/{}': {e}", key.engine_path, key.key_name)
        };
        let body = Zeroizing::new(format!("{{\"ciphertext\":{}}}", json_string(enc)));
        let call = self.call(key, "decrypt", body)?;
        let plaintext = self.transport.put(&call, "plaintext", &self.env).map_err(fail)?;
        base64::engine::general_purpose::STANDARD
            .decode(plaintext.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| fail("cannot decode base64 plaintext into data key bytes".to_owned()))
    }
}

/// sops's `cannot create Vault client: …` around a failure of the Go
/// client's `DefaultConfig` (its `NewClient` wording).
pub(crate) fn client_error(e: &str) -> String {
    format!("cannot create Vault client: error encountered setting up default configuration: {e}")
}

/// A JSON string literal (the `enc` text comes from a file, so quote it).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The error text of the Go Vault client's `ResponseError` for a non-2xx
/// answer, as sops prints it (verified: backends.md §3).
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
pub(crate) fn response_error(method: &str, url: &str, status: u16, body: &str) -> String {
    let head = format!("Error making API request.\n\nURL: {method} {url}\nCode: {status}. ");
    match transport::json_errors(body) {
        Some(errs) => {
            let items: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
            format!("{head}Errors:\n\n{}", items.join("\n"))
        }
        None => format!("{head}Raw Message:\n\n{}", body.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> VaultEnv {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        VaultEnv::from_lookup(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn token_from_env_wins_over_file() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join(".vault-token"), " file-token\n").unwrap();
        let home_s = home.path().to_str().unwrap();
        let e = env(&[("VAULT_TOKEN", "env-token"), ("HOME", home_s)]);
        assert_eq!(e.token().unwrap().as_deref().map(String::as_str), Some("env-token"));
        let e = env(&[("VAULT_TOKEN", ""), ("HOME", home_s)]);
        assert_eq!(e.token().unwrap().as_deref().map(String::as_str), Some("file-token"));
        let empty = tempfile::tempdir().unwrap();
        let e = env(&[("HOME", empty.path().to_str().unwrap())]);
        assert!(e.token().unwrap().is_none());
    }

    #[test]
    fn unreadable_token_file_is_an_error() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".vault-token")).unwrap();
        let e = env(&[("HOME", home.path().to_str().unwrap())]);
        assert!(e.token().unwrap_err().starts_with("cannot get Vault token: "));
    }

    #[test]
    fn debug_hides_the_token() {
        let e = env(&[("VAULT_TOKEN", "s3cr3t-token")]);
        assert!(!format!("{e:?}").contains("s3cr3t"));
    }

    #[test]
    fn agent_address_overrides_the_key() {
        let key = TransitKey { address: "http://a:1", engine_path: "team/sops", key_name: "k" };
        let src = VaultSource::new(env(&[]));
        assert_eq!(src.call(&key, "encrypt", Zeroizing::default()).unwrap().url, "http://a:1/v1/team/sops/encrypt/k");
        let src = VaultSource::new(env(&[("VAULT_AGENT_ADDR", "http://agent:2"), ("VAULT_ADDR", "http://ignored:3")]));
        assert_eq!(src.call(&key, "decrypt", Zeroizing::default()).unwrap().url, "http://agent:2/v1/team/sops/decrypt/k");
    }

    #[test]
    fn durations_and_bools() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_mins(2)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!((parse_go_bool("true"), parse_go_bool("1"), parse_go_bool("F")), (Some(true), Some(true), Some(false)));
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(env(&[]).timeout, Duration::from_mins(1));
        assert_eq!(env(&[("VAULT_MAX_RETRIES", "0")]).max_retries, 0);
    }

    #[test]
    fn proxy_choice_follows_go() {
        let e = env(&[("HTTPS_PROXY", "http://p:3128"), ("http_proxy", "http://q:8080"), ("NO_PROXY", "internal.example, .corp,vault.x:8200")]);
        assert_eq!(e.proxy_for("https://vault.example.com:8200/v1/t/keys/k"), Some("http://p:3128"));
        assert_eq!(e.proxy_for("http://vault.example.com/v1/t/keys/k"), Some("http://q:8080"));
        assert_eq!(e.proxy_for("https://127.0.0.1:8200/v1/t/keys/k"), None);
        assert_eq!(e.proxy_for("https://localhost:8200/v1/t/keys/k"), None);
        assert_eq!(e.proxy_for("https://a.internal.example/v1/t/keys/k"), None);
        assert_eq!(e.proxy_for("https://b.corp:8200/v1/t/keys/k"), None);
        assert_eq!(e.proxy_for("https://vault.x:8200/v1/t/keys/k"), None);
        assert_eq!(e.proxy_for("https://vault.x:443/v1/t/keys/k"), Some("http://p:3128"));
        assert_eq!(env(&[("NO_PROXY", "*"), ("HTTPS_PROXY", "p")]).proxy_for("https://v/x"), None);
        assert_eq!(env(&[("VAULT_PROXY_ADDR", "http://vp:1")]).proxy_for("https://127.0.0.1/x"), Some("http://vp:1"));
        assert_eq!(env(&[]).proxy_for("https://v/x"), None);
    }

    #[test]
    fn refused_settings_fail_like_the_go_client() {
        assert_eq!(env(&[]).config_error, None);
        let e = env(&[("VAULT_MAX_RETRIES", "x"), ("VAULT_SKIP_VERIFY", "maybe")]);
        assert_eq!(e.config_error.as_deref(), Some("strconv.ParseUint: parsing \"x\": invalid syntax"));
        let e = env(&[("VAULT_SKIP_VERIFY", "maybe"), ("VAULT_DISABLE_REDIRECTS", "1")]);
        assert_eq!(e.config_error.as_deref(), Some("could not parse VAULT_SKIP_VERIFY"));
        let e = env(&[("VAULT_CLIENT_TIMEOUT", "soon")]);
        assert_eq!(e.config_error.as_deref(), Some("could not parse \"VAULT_CLIENT_TIMEOUT\""));
        let e = env(&[("VAULT_CLIENT_CERT", "/c.pem")]);
        assert_eq!(e.config_error.as_deref(), Some("both client cert and client key must be provided"));
        assert!(env(&[("VAULT_DISABLE_REDIRECTS", "true")]).disable_redirects);
        // sops reports it before any request, without the transit frame.
        let src = VaultSource::new(env(&[("VAULT_CLIENT_KEY", "/k.pem")]));
        let key = TransitKey { address: "http://127.0.0.1:1", engine_path: "sops", key_name: "k" };
        assert_eq!(
            src.wrap(&key, &[0; 32]).unwrap_err(),
            "cannot create Vault client: error encountered setting up default configuration: both client cert and client key must be provided"
        );
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(json_string("vault:v1:a\"b\\c\n"), "\"vault:v1:a\\\"b\\\\c\\u000a\"");
    }
}
