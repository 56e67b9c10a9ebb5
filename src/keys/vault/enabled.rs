//! The Vault transport of the default build: one blocking HTTP(S) request
//! per wrap or unwrap on `ureq` + rustls, made the way the Go Vault client
//! (`hashicorp/vault/api` 1.21, which sops 3.11 uses) makes it (cli.md
//! §10.6): `PUT`, `X-Vault-Request: true`, the token and namespace headers,
//! `VAULT_CLIENT_TIMEOUT`, and `VAULT_MAX_RETRIES` retries after a 412, a
//! 429, a 5xx (not 501) or a failed connection (not a refused certificate)
//! with the client's linear back-off (~1.25 s × attempt; backends.md §3
//! measured ~3.4 s for two).
//!
//! Redirects as the Go client follows them: one 301, 302 or 307 (what a
//! standby answers) is followed with the same method, headers and body,
//! never from `https` to `http`; `VAULT_DISABLE_REDIRECTS` turns that off.
//! ureq's own redirect handling is off: it would turn a `PUT` into a `GET`.
//!
//! TLS as the Go client's `DefaultConfig` sets it up, checked before any
//! request even for `http` addresses: `VAULT_CLIENT_CERT` + `VAULT_CLIENT_KEY`
//! (PEM) presented when the server asks; trusted roots from `VAULT_CACERT`,
//! else `VAULT_CACERT_BYTES`, else `VAULT_CAPATH` (walked recursively), else
//! the system's (honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`);
//! `VAULT_TLS_SERVER_NAME` replaces the URL's host for SNI and
//! verification; `VAULT_SKIP_VERIFY` turns verification off. Failures use
//! go-rootcerts' and crypto/tls's wording. Proxies as Go's
//! `ProxyFromEnvironment` picks them (`VaultEnv::proxy_for`). An agent is
//! made on first use, so nothing is loaded before a Vault key is used. The
//! "waiting for <address> …" line (`keys::blocking::Waiting`, the notice
//! every backend prints) is this backend's only direct print: the request
//! blocks, so no caller could print it.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use zeroize::Zeroizing;

use super::{response_error, Call, VaultEnv};
use crate::config::io_text;
use crate::keys::blocking::Waiting;

/// What an agent is made for: HTTPS (it needs the roots), and the proxy.
type AgentKey = (bool, Option<String>);

/// The HTTP agents, made on first use, one per [`AgentKey`].
pub(super) struct Transport {
    agents: RefCell<Vec<(AgentKey, ureq::Agent)>>,
}

/// One answer before redirects are looked at: the status and the response
/// (a 2xx or 3xx; errors have become texts already).
type Answer = (u16, ureq::Response);

impl Transport {
    pub(super) fn new() -> Transport {
        Transport { agents: RefCell::new(Vec::new()) }
    }

    /// Makes the agent for `url` now, so that configuration failures come
    /// before the token is read and before any request, as in sops.
    pub(super) fn prepare(&self, env: &VaultEnv, url: &str) -> Result<(), String> {
        self.agent(env, url).map(|_| ())
    }

    fn agent(&self, env: &VaultEnv, url: &str) -> Result<ureq::Agent, String> {
        let https = url.starts_with("https:");
        let key = (https, env.proxy_for(url).map(str::to_owned));
        if let Some((_, agent)) = self.agents.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(agent.clone());
        }
        let agent = make_agent(env, https, key.1.as_deref())?;
        self.agents.borrow_mut().push((key, agent.clone()));
        Ok(agent)
    }

    /// Sends `call` and returns the string field `field` of the answer's
    /// `data` object (the ciphertext or the base64 plaintext).
    pub(super) fn put(&self, call: &Call<'_>, field: &str, env: &VaultEnv) -> Result<Zeroizing<String>, String> {
        // The space before the ellipsis is this backend's text since it
        // first printed one; the tests and users' log filters know it.
        let _waiting = Waiting::start(format!("{} ", call.address));
        let mut url = call.url.clone();
        let mut redirected = false;
        loop {
            let (status, resp) = self.send(&url, call, env)?;
            if let Some(next) = standby_redirect(&url, status, resp.header("Location"), redirected, env)? {
                url = next;
                redirected = true;
                continue;
            }
            return data_field(resp, field);
        }
    }

    /// One request to `url` with the Go client's retries.
    fn send(&self, url: &str, call: &Call<'_>, env: &VaultEnv) -> Result<Answer, String> {
        let agent = self.agent(env, url)?;
        let mut attempt = 0;
        loop {
            let mut req = agent.put(url).set("X-Vault-Request", "true").set("Content-Type", "application/json");
            if let Some(token) = &call.token {
                req = req.set("X-Vault-Token", token);
            }
            if let Some(ns) = call.namespace {
                req = req.set("X-Vault-Namespace", ns);
            }
            let retry = match req.send_string(&call.body) {
                Ok(resp) => return Ok((resp.status(), resp)),
                Err(ureq::Error::Status(status, resp)) => {
                    let body = Zeroizing::new(resp.into_string().unwrap_or_default());
                    let err = response_error("PUT", url, status, &body);
                    // The Go client's policy: retryablehttp's (429, 5xx
                    // except 501) plus 412.
                    if (status < 500 && status != 429 && status != 412) || status == 501 {
                        return Err(err);
                    }
                    err
                }
                Err(ureq::Error::Transport(t)) => {
                    let (err, retryable) = transport_error(url, &t);
                    if !retryable {
                        return Err(err);
                    }
                    err
                }
            };
            attempt += 1;
            if attempt > env.max_retries {
                return Err(retry);
            }
            std::thread::sleep(Duration::from_millis(1250) * attempt);
        }
    }
}

/// The Go Vault client's redirect rule (also used by `publish`'s KV
/// client): one 301/302/307 is followed with the same method and body
/// unless `VAULT_DISABLE_REDIRECTS`, never from `https` to `http`.
/// `Ok(Some(url))` names the next request; `Ok(None)` means the answer is final.
pub(crate) fn standby_redirect(
    url: &str,
    status: u16,
    location: Option<&str>,
    redirected: bool,
    env: &VaultEnv,
) -> Result<Option<String>, String> {
    if !matches!(status, 301 | 302 | 307) || redirected || env.disable_redirects {
        return Ok(None);
    }
    let next = resolve(url, location.ok_or("http: no Location header in response")?);
    if url.starts_with("https:") && !next.starts_with("https:") {
        return Err("redirect would cause protocol downgrade".to_owned());
    }
    Ok(Some(next))
}

/// A `Location` value resolved against the request URL (absolute, or
/// absolute-path, or relative to the request's folder).
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(path) = location.strip_prefix('/') {
        if location.starts_with("//") {
            return format!("{scheme}:{location}");
        }
        return format!("{scheme}://{authority}/{path}");
    }
    let dir = rest.rsplit_once('/').map_or(authority, |(d, _)| d);
    format!("{scheme}://{dir}/{location}")
}

/// Extracts `data.<field>` from a 2xx answer, with sops's texts for an
/// empty or partial answer (`encryptedKeyFromSecret`/`dataKeyFromSecret`).
fn data_field(resp: ureq::Response, field: &str) -> Result<Zeroizing<String>, String> {
    let text = Zeroizing::new(resp.into_string().map_err(|e| format!("error reading the response from Vault: {e}"))?);
    if text.trim().is_empty() {
        return Err("transit backend is empty".to_owned());
    }
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("error parsing the response from Vault: {e}"))?;
    let Some(data) = json.get_mut("data").filter(|d| d.is_object()) else {
        return Err("transit backend is empty".to_owned());
    };
    let (missing, not_string) = if field == "ciphertext" {
        ("no encrypted data", "encrypted ciphertext cannot be cast to string")
    } else {
        ("no decrypted data", "decrypted plaintext data cannot be cast to string")
    };
    match data.get_mut(field).map(serde_json::Value::take) {
        Some(serde_json::Value::String(s)) => Ok(Zeroizing::new(s)),
        Some(_) => Err(not_string.to_owned()),
        None => Err(missing.to_owned()),
    }
}

/// A transport failure in Go's wording where it is common
/// (`Put "<url>": dial tcp <host:port>: connect: connection refused`), and
/// whether retryablehttp would retry it (not a refused certificate).
fn transport_error(url: &str, t: &ureq::Transport) -> (String, bool) {
    use std::error::Error as _;
    let mut source = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url);
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return (format!("Put {url:?}: dial tcp {host}: connect: connection refused"), true);
                }
                // E.g. a server that refused our (missing) client
                // certificate closed the connection while we wrote.
                std::io::ErrorKind::BrokenPipe => return (format!("Put {url:?}: write tcp {host}: write: broken pipe"), true),
                std::io::ErrorKind::ConnectionReset => {
                    return (format!("Put {url:?}: read tcp {host}: read: connection reset by peer"), true);
                }
                _ => {}
            }
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return (format!("Put {url:?}: {}", go_tls_error(tls)), !matches!(tls, rustls::Error::InvalidCertificate(_)));
            }
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (format!("Put {url:?}: {}", go_tls_error(tls)), !matches!(tls, rustls::Error::InvalidCertificate(_)));
        }
        source = e.source();
    }
    let detail = t.message().map_or_else(|| t.kind().to_string(), |m| format!("{}: {m}", t.kind()));
    (format!("Put {url:?}: {detail}"), true)
}

/// A TLS failure in crypto/tls's and crypto/x509's words for the common
/// cases (refused or unknown certificates, the peer's alerts); rustls's
/// own text otherwise.
fn go_tls_error(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C};
    let verify = "tls: failed to verify certificate: x509:";
    match e {
        rustls::Error::AlertReceived(alert) => {
            let text = match alert {
                A::CertificateRequired => "certificate required".to_owned(),
                A::BadCertificate => "bad certificate".to_owned(),
                A::UnknownCA => "unknown certificate authority".to_owned(),
                A::CertificateUnknown => "certificate unknown".to_owned(),
                A::CertificateExpired => "expired certificate".to_owned(),
                A::HandshakeFailure => "handshake failure".to_owned(),
                A::ProtocolVersion => "protocol version not supported".to_owned(),
                A::AccessDenied => "access denied".to_owned(),
                A::DecryptError => "error decrypting message".to_owned(),
                other => format!("{other:?}").to_lowercase(),
            };
            format!("remote error: tls: {text}")
        }
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => format!("{verify} certificate signed by unknown authority"),
        rustls::Error::InvalidCertificate(C::Expired | C::NotValidYet | C::ExpiredContext { .. } | C::NotValidYetContext { .. }) => {
            format!("{verify} certificate has expired or is not yet valid")
        }
        rustls::Error::InvalidCertificate(C::NotValidForNameContext { expected, presented }) => {
            // Go lists the certificate's names of the kind asked for.
            let (want, kind) = match expected {
                ServerName::IpAddress(ip) => (std::net::IpAddr::from(*ip).to_string(), "IpAddress("),
                other => (other.to_str().into_owned(), "DnsName(\""),
            };
            let names: Vec<&str> = presented
                .iter()
                .filter_map(|p| p.strip_prefix(kind))
                .map(|p| p.trim_end_matches(')').trim_end_matches('"'))
                .collect();
            if names.is_empty() {
                format!("{verify} certificate is not valid for any names, but wanted to match {want}")
            } else {
                format!("{verify} certificate is valid for {}, not {want}", names.join(", "))
            }
        }
        other => format!("tls: {other}"),
    }
}

/// Whether the environment names any TLS file or setting; the Go client
/// loads them even for an `http` address, so their errors show there too.
fn tls_configured(env: &VaultEnv) -> bool {
    env.ca_cert.is_some() || env.ca_cert_bytes.is_some() || env.ca_path.is_some() || env.client_cert.is_some()
}

/// The agent for one kind of URL; `publish` to Vault KV uses it too. Its
/// errors are the Go client's configuration failures, without sops's
/// `cannot create Vault client: …` frame.
pub(crate) fn make_agent(env: &VaultEnv, https: bool, proxy: Option<&str>) -> Result<ureq::Agent, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    // The Go client's order: the client certificate, then the roots.
    let identity = client_identity(env)?;
    // Plain HTTP with no TLS settings needs no roots: skip the system's.
    let roots = if https || tls_configured(env) { roots(env)? } else { RootCertStore::empty() };
    let builder = if env.skip_verify {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        builder.with_root_certificates(roots)
    };
    let tls = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|_| "tls: private key does not match public key".to_owned())?,
        None => builder.with_no_client_auth(),
    };
    let tls = Arc::new(tls);
    let mut builder = ureq::AgentBuilder::new().timeout(env.timeout).redirects(0);
    builder = match &env.tls_server_name {
        Some(name) => builder.tls_connector(Arc::new(NamedTls { config: tls, name: name.clone() })),
        None => builder.tls_config(tls),
    };
    if let Some(p) = proxy {
        let p = ureq::Proxy::new(p).map_err(|e| format!("invalid proxy {p:?}: {e}"))?;
        builder = builder.proxy(p);
    }
    Ok(builder.build())
}

/// `VAULT_TLS_SERVER_NAME`: TLS to the URL's host, but under this name (SNI
/// and certificate verification), as Go's `tls.Config.ServerName`.
struct NamedTls {
    config: Arc<rustls::ClientConfig>,
    name: String,
}

impl ureq::TlsConnector for NamedTls {
    fn connect(&self, _dns_name: &str, io: Box<dyn ureq::ReadWrite>) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        ureq::TlsConnector::connect(&self.config, &self.name, io)
    }
}

/// `crypto/tls.LoadX509KeyPair` of `VAULT_CLIENT_CERT` and
/// `VAULT_CLIENT_KEY` (both set, or neither: `VaultEnv` checked that).
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_identity(env: &VaultEnv) -> Result<Option<Identity>, String> {
    let (Some(cert), Some(key)) = (&env.client_cert, &env.client_key) else { return Ok(None) };
    let read = |p: &Path| std::fs::read(p).map(Zeroizing::new).map_err(|e| format!("open {}: {}", p.display(), io_text(&e)));
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err("tls: failed to find any PEM data in certificate input".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| "tls: failed to find any PEM data in key input".to_owned())?;
    Ok(Some((chain, key)))
}

/// go-rootcerts' `LoadCACerts`: `VAULT_CACERT`, else `VAULT_CACERT_BYTES`,
/// else `VAULT_CAPATH`, else the system roots. A source that yields no
/// certificate is an error, as `AppendCertsFromPEM` returning false is.
fn roots(env: &VaultEnv) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if let Some(f) = &env.ca_cert {
        let pem = std::fs::read(f).map_err(|e| format!("Error loading CA File: open {}: {}", f.display(), io_text(&e)))?;
        if add_pem(&mut store, &pem) == 0 {
            return Err(format!("Error loading CA File: Couldn't parse PEM in: {}", f.display()));
        }
    } else if let Some(bytes) = &env.ca_cert_bytes {
        if add_pem(&mut store, bytes.as_bytes()) == 0 {
            return Err("Error appending CA: Couldn't parse PEM".to_owned());
        }
    } else if let Some(dir) = &env.ca_path {
        add_dir(&mut store, dir)?;
    } else {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(cert);
        }
    }
    Ok(store)
}

/// Adds the PEM certificates of `pem` that parse; returns how many.
fn add_pem(store: &mut RootCertStore, pem: &[u8]) -> usize {
    CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).filter(|c| store.add(c.clone()).is_ok()).count()
}

/// `filepath.Walk` over `VAULT_CAPATH`: every file must hold a certificate.
fn add_dir(store: &mut RootCertStore, dir: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("lstat {}: {}", dir.display(), io_text(&e)))?;
    if !meta.is_dir() {
        let pem = std::fs::read(dir).map_err(|e| format!("Error loading file from CAPath: open {}: {}", dir.display(), io_text(&e)))?;
        if add_pem(store, &pem) == 0 {
            return Err(format!("Error loading CA Path: Couldn't parse PEM in: {}", dir.display()));
        }
        return Ok(());
    }
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("open {}: {}", dir.display(), io_text(&e)))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    // Walk visits names in lexical order.
    entries.sort();
    for path in entries {
        add_dir(store, &path)?;
    }
    Ok(())
}

/// `VAULT_SKIP_VERIFY`: accept any server certificate (handshake
/// signatures are still checked, so the session is at least consistent).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The strings of a `{"errors":[…]}` body, if it is one.
pub(super) fn json_errors(body: &str) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let errors = json.get("errors")?.as_array()?;
    Some(errors.iter().map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_error_is_the_go_clients_text() {
        let got = response_error("PUT", "http://h:1/v1/sops/encrypt/k", 403, r#"{"errors":["permission denied"]}"#);
        assert_eq!(got, "Error making API request.\n\nURL: PUT http://h:1/v1/sops/encrypt/k\nCode: 403. Errors:\n\n* permission denied");
        let got = response_error("PUT", "u", 502, "bad gateway\n");
        assert!(got.ends_with("Code: 502. Raw Message:\n\nbad gateway"), "{got}");
    }

    #[test]
    fn connection_refused_reads_like_go() {
        // Port 9 (discard) is closed on test machines; bind-and-drop makes sure.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/v1/sops/encrypt/k");
        let env = VaultEnv { max_retries: 0, timeout: Duration::from_secs(5), ..VaultEnv::default() };
        let call = Call { address: "x", url: url.clone(), token: None, namespace: None, body: Zeroizing::default() };
        let err = Transport::new().put(&call, "ciphertext", &env).unwrap_err();
        assert_eq!(err, format!("Put {url:?}: dial tcp 127.0.0.1:{port}: connect: connection refused"));
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let base = "https://v1.example:8200/v1/sops/encrypt/k";
        assert_eq!(resolve(base, "https://v2.example:8200/v1/sops/encrypt/k"), "https://v2.example:8200/v1/sops/encrypt/k");
        assert_eq!(resolve(base, "/v1/other/encrypt/k"), "https://v1.example:8200/v1/other/encrypt/k");
        assert_eq!(resolve(base, "k2"), "https://v1.example:8200/v1/sops/encrypt/k2");
        assert_eq!(resolve(base, "//v3.example/x"), "https://v3.example/x");
    }

    #[test]
    fn tls_files_fail_with_go_texts() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let env = VaultEnv { ca_cert: Some(missing.clone()), ..VaultEnv::default() };
        let err = Transport::new().prepare(&env, "http://127.0.0.1:1/v1/t/encrypt/k").unwrap_err();
        assert_eq!(err, format!("Error loading CA File: open {}: no such file or directory", missing.display()));
        let env = VaultEnv { ca_cert: Some(junk.clone()), ..VaultEnv::default() };
        let err = Transport::new().prepare(&env, "https://v/x").unwrap_err();
        assert_eq!(err, format!("Error loading CA File: Couldn't parse PEM in: {}", junk.display()));
        let env = VaultEnv { ca_cert_bytes: Some("junk".to_owned()), ..VaultEnv::default() };
        assert_eq!(Transport::new().prepare(&env, "https://v/x").unwrap_err(), "Error appending CA: Couldn't parse PEM");
        let env = VaultEnv { ca_path: Some(dir.path().to_owned()), ..VaultEnv::default() };
        let err = Transport::new().prepare(&env, "https://v/x").unwrap_err();
        assert_eq!(err, format!("Error loading CA Path: Couldn't parse PEM in: {}", junk.display()));
        let env = VaultEnv { client_cert: Some(junk.clone()), client_key: Some(missing.clone()), ..VaultEnv::default() };
        let err = Transport::new().prepare(&env, "https://v/x").unwrap_err();
        assert_eq!(err, format!("open {}: no such file or directory", missing.display()));
        let env = VaultEnv { client_cert: Some(junk.clone()), client_key: Some(junk.clone()), ..VaultEnv::default() };
        let err = Transport::new().prepare(&env, "https://v/x").unwrap_err();
        assert_eq!(err, "tls: failed to find any PEM data in certificate input");
    }
}
