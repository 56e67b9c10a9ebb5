//! The Vault transport of the default build: one blocking HTTP(S) request
//! per wrap or unwrap on `ureq` + rustls, made the way the Go Vault client
//! makes it (cli.md §10.6): `PUT`, `X-Vault-Request: true`, the token and
//! namespace headers, `VAULT_CLIENT_TIMEOUT`, and `VAULT_MAX_RETRIES`
//! retries after a 429, a 5xx or a failed connection with the client's linear
//! back-off (~1.25 s × attempt; backends.md §3 measured ~3.4 s for two).
//!
//! TLS as the Go client sets it up: the system roots (honouring
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`), replaced by `VAULT_CACERT`/`VAULT_CAPATH`
//! when set; `VAULT_SKIP_VERIFY` turns verification off. Proxies as Go's
//! `ProxyFromEnvironment` picks them (`VaultEnv::proxy_for`). An agent is
//! made on the first request, so nothing is loaded before a Vault key is
//! used. The "waiting for …" line is this backend's only direct print:
//! the request blocks, so no caller could print it.

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use zeroize::Zeroizing;

use super::{response_error, Call, VaultEnv};

/// After this long without an answer, say on stderr whom we wait for.
const WAITING_AFTER: Duration = Duration::from_secs(3);

/// What an agent is made for: HTTPS (it needs the roots), and the proxy.
type AgentKey = (bool, Option<String>);

/// The HTTP agents, made on first use, one per [`AgentKey`].
pub(super) struct Transport {
    agents: RefCell<Vec<(AgentKey, ureq::Agent)>>,
}

impl Transport {
    pub(super) fn new() -> Transport {
        Transport { agents: RefCell::new(Vec::new()) }
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
        let agent = self.agent(env, &call.url)?;
        let _waiting = Waiting::start(call.address);
        let mut attempt = 0;
        loop {
            let mut req = agent
                .put(&call.url)
                .set("X-Vault-Request", "true")
                .set("Content-Type", "application/json");
            if let Some(token) = &call.token {
                req = req.set("X-Vault-Token", token);
            }
            if let Some(ns) = call.namespace {
                req = req.set("X-Vault-Namespace", ns);
            }
            let retry = match req.send_string(&call.body) {
                Ok(resp) => return data_field(resp, field),
                Err(ureq::Error::Status(status, resp)) => {
                    let body = Zeroizing::new(resp.into_string().unwrap_or_default());
                    let err = response_error("PUT", &call.url, status, &body);
                    // retryablehttp's policy: 429 and 5xx except 501.
                    if (status < 500 && status != 429) || status == 501 {
                        return Err(err);
                    }
                    err
                }
                Err(ureq::Error::Transport(t)) => transport_error(&call.url, &t),
            };
            attempt += 1;
            if attempt > env.max_retries {
                return Err(retry);
            }
            thread::sleep(Duration::from_millis(1250) * attempt);
        }
    }
}

/// Extracts `data.<field>` from a 2xx answer.
fn data_field(resp: ureq::Response, field: &str) -> Result<Zeroizing<String>, String> {
    let text = Zeroizing::new(resp.into_string().map_err(|e| format!("error reading the response from Vault: {e}"))?);
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("error parsing the response from Vault: {e}"))?;
    let value = json.get_mut("data").and_then(|d| d.get_mut(field)).map(serde_json::Value::take);
    match value {
        Some(serde_json::Value::String(s)) => Ok(Zeroizing::new(s)),
        // sops: "no response" / "no … in the response" (the Go client
        // returns a nil secret for an empty body).
        _ => Err(format!("no {field} in the response from Vault transit backend")),
    }
}

/// A transport failure in Go's wording where it is common
/// (`Put "<url>": dial tcp <host:port>: connect: connection refused`).
fn transport_error(url: &str, t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let mut source = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url);
                return format!("Put {url:?}: dial tcp {host}: connect: connection refused");
            }
        }
        source = e.source();
    }
    let detail = t.message().map_or_else(|| t.kind().to_string(), |m| format!("{}: {m}", t.kind()));
    format!("Put {url:?}: {detail}")
}

/// Prints "waiting for <address> …" once if the request takes long; the
/// watcher thread ends when the request does (the guard is dropped).
struct Waiting {
    done: Option<mpsc::Sender<()>>,
}

impl Waiting {
    fn start(address: &str) -> Waiting {
        let (tx, rx) = mpsc::channel::<()>();
        let address = address.to_owned();
        thread::spawn(move || {
            if rx.recv_timeout(WAITING_AFTER) == Err(mpsc::RecvTimeoutError::Timeout) {
                eprintln!("waiting for {address} …");
            }
        });
        Waiting { done: Some(tx) }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

fn make_agent(env: &VaultEnv, https: bool, proxy: Option<&str>) -> Result<ureq::Agent, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot create Vault client: {e}"))?;
    let tls = if env.skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        // Plain HTTP needs no roots: skip reading the system's.
        let roots = if https { roots(env)? } else { RootCertStore::empty() };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    let mut builder = ureq::AgentBuilder::new().timeout(env.timeout).tls_config(Arc::new(tls));
    if let Some(p) = proxy {
        let p = ureq::Proxy::new(p).map_err(|e| format!("cannot create Vault client: invalid proxy {p:?}: {e}"))?;
        builder = builder.proxy(p);
    }
    Ok(builder.build())
}

/// `VAULT_CACERT` and `VAULT_CAPATH` if set (they replace the system
/// roots, as in the Go client), else the system roots.
fn roots(env: &VaultEnv) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let mut files = Vec::new();
    if let Some(f) = &env.ca_cert {
        files.push(f.clone());
    }
    if let Some(dir) = &env.ca_path {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot create Vault client: {}: {e}", dir.display()))?;
        files.extend(entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()));
    }
    if files.is_empty() {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            let _ = store.add(cert);
        }
        return Ok(store);
    }
    for f in files {
        let certs = CertificateDer::pem_file_iter(&f).map_err(|e| format!("cannot create Vault client: {}: {e}", f.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("cannot create Vault client: {}: {e}", f.display()))?;
            store.add(cert).map_err(|e| format!("cannot create Vault client: {}: {e}", f.display()))?;
        }
    }
    Ok(store)
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
}
