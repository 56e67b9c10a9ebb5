//! The suite's local GCP Cloud KMS (`tests/servers/gcpkms.py`) on
//! 127.0.0.1, for the GCP KMS tests: started per test, killed when dropped.
//!
//! One process serves gRPC over TLS behind a CONNECT proxy (for the real
//! sops, via `HTTPS_PROXY` + `SSL_CERT_FILE`) and REST over plain HTTP (for
//! rsops, via `SOPS_GCP_KMS_ENDPOINT`), sharing one stateless key scheme, so
//! each tool reads the other's files (spec backends.md §5, §6). The same
//! environment drives both binaries: sops 3.11 ignores the endpoint
//! variable, and rsops's loopback requests bypass the proxy (`NO_PROXY`).
//!
//! A missing Python package (grpcio, google-cloud-kms, cryptography) fails
//! the test with a clear message, unless `RSOPS_SKIP_GCP_TESTS=1` asks to
//! skip (CI never sets it).
#![cfg_attr(not(feature = "gcp"), allow(dead_code))]

use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;

use super::pyserver::PyServer;

/// The bearer token children get by default (any non-empty one is valid;
/// the server rejects those starting with `invalid`).
pub(crate) const TOKEN: &str = "rsops-test-token";

pub(crate) struct GcpKms {
    _server: PyServer,
    /// The throwaway CA the gRPC listener's certificate chains to.
    pub(crate) ca: PathBuf,
    pub(crate) proxy_port: u16,
    pub(crate) rest_port: u16,
    /// A throwaway service-account key file (self-signed JWTs, offline).
    pub(crate) service_account: PathBuf,
    _dir: TempDir,
}

impl GcpKms {
    /// Starts the server with the `CryptoKey`s `keys`; `None` only when
    /// `RSOPS_SKIP_GCP_TESTS=1` and it cannot start.
    pub(crate) fn start(keys: &[&str]) -> Option<GcpKms> {
        let dir = tempfile::Builder::new().prefix("rsops-gcpkms-").tempdir().expect("gcpkms temp dir");
        let mut args = vec![dir.path().as_os_str().to_owned()];
        for k in keys {
            args.extend(["--key".into(), (*k).into()]);
        }
        let server = match PyServer::start("gcpkms.py", &args, dir.path(), false) {
            Ok(server) => server,
            Err(_) if std::env::var("RSOPS_SKIP_GCP_TESTS").as_deref() == Ok("1") => {
                eprintln!("note: the GCP KMS test server did not start; GCP tests skipped (RSOPS_SKIP_GCP_TESTS=1)");
                return None;
            }
            Err(err) => panic!(
                "the GCP KMS tests need tests/servers/gcpkms.py to start: install its packages with \
                 `python3 -m pip install grpcio google-cloud-kms cryptography` (see .ci/run), \
                 or set RSOPS_SKIP_GCP_TESTS=1 to skip these tests. Its stderr: {err}"
            ),
        };
        Some(GcpKms {
            ca: PathBuf::from(server.field("ca")),
            proxy_port: server.port("proxy_port"),
            rest_port: server.port("rest_port"),
            service_account: PathBuf::from(server.field("service_account")),
            _server: server,
            _dir: dir,
        })
    }

    /// The environment every GCP test child gets on top of the sandbox's:
    /// sops reaches the gRPC listener through the proxy, rsops the REST one
    /// by `SOPS_GCP_KMS_ENDPOINT`; the guards of spec backends.md §7 keep
    /// both away from real Google endpoints and metadata servers. No
    /// credentials: tests add `GOOGLE_OAUTH_ACCESS_TOKEN` or others.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        let proxy = format!("http://127.0.0.1:{}", self.proxy_port);
        vec![
            ("SOPS_GCP_KMS_ENDPOINT", format!("http://127.0.0.1:{}", self.rest_port)),
            ("HTTPS_PROXY", proxy.clone()),
            ("https_proxy", proxy),
            ("HTTP_PROXY", String::new()),
            ("http_proxy", String::new()),
            ("ALL_PROXY", String::new()),
            ("all_proxy", String::new()),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
            ("no_proxy", "127.0.0.1,localhost".to_owned()),
            ("SSL_CERT_FILE", self.ca.to_string_lossy().into_owned()),
            ("SSL_CERT_DIR", String::new()),
            ("GCE_METADATA_HOST", "127.0.0.1:9".to_owned()),
            ("NO_GCE_CHECK", "True".to_owned()),
            ("CLOUDSDK_CONFIG", String::new()),
        ]
    }

    /// The calls served so far: `(via, method, name, bearer kind)` with
    /// `via` `grpc` (sops) or `rest` (rsops), bearer `jwt` or `opaque`.
    pub(crate) fn requests(&self) -> Vec<(String, String, String, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.rest_port)).expect("connect to the REST listener");
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        s.write_all(b"GET /requests HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read /requests");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        body.split('{')
            .skip(1)
            .map(|obj| {
                let get = |k: &str| {
                    let at = obj.find(&format!("\"{k}\": \"")).map_or(obj.len(), |i| i + k.len() + 5);
                    obj[at..].split('"').next().unwrap_or_default().to_owned()
                };
                (get("via"), get("method"), get("name"), get("bearer"))
            })
            .collect()
    }
}
