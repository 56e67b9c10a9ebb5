//! A real `moto_server` (`PyPI` `moto[server]`) on a free 127.0.0.1 port, for
//! the AWS KMS tests: started per test, killed when dropped.
//!
//! Keys and roles are made through moto's own KMS and IAM APIs with boto3
//! (a dependency of moto), in a child whose environment is built from
//! scratch: dummy keys, the local endpoint, no metadata service, a private
//! `HOME` (spec backends.md §7), so nothing can reach a real AWS account.
//!
//! A missing moto fails the test with a clear message, unless
//! `RSOPS_SKIP_AWS_TESTS=1` asks to skip (CI never sets it).

#![cfg_attr(not(feature = "aws"), allow(dead_code))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::run::which;

/// The environment every AWS test child gets on top of the sandbox's: the
/// guards of spec backends.md §7 with moto at `url`.
pub(crate) fn guards(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL", url.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ("no_proxy", "127.0.0.1,localhost".to_owned()),
    ]
}

pub(crate) struct Moto {
    child: Child,
    pub(crate) url: String,
    pub(crate) port: u16,
    home: TempDir,
}

impl Moto {
    /// Starts moto; `None` only when `RSOPS_SKIP_AWS_TESTS=1` and moto is missing.
    pub(crate) fn start() -> Option<Moto> {
        let Some(program) = which("moto_server") else {
            if std::env::var("RSOPS_SKIP_AWS_TESTS").as_deref() == Ok("1") {
                eprintln!("note: moto_server not found; AWS KMS tests skipped (RSOPS_SKIP_AWS_TESTS=1)");
                return None;
            }
            panic!(
                "the AWS KMS tests need `moto_server` on PATH: install it with \
                 `python3 -m pip install 'moto[server]'` (see .ci/run), \
                 or set RSOPS_SKIP_AWS_TESTS=1 to skip these tests"
            );
        };
        for _attempt in 0..3 {
            let home = tempfile::Builder::new().prefix("rsops-moto-").tempdir().expect("moto temp dir");
            let port = free_port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", home.path())
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {}: {e}", program.display()));
            let mut moto = Moto { child, url: format!("http://127.0.0.1:{port}"), port, home };
            if moto.wait_ready() {
                return Some(moto);
            }
            // Another process took the port first: drop (kill) and retry.
        }
        panic!("moto_server did not become ready on 127.0.0.1 (three ports tried)");
    }

    /// Polls `GET /moto-api/` until it answers 200 (20 s at most).
    fn wait_ready(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let req = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
                let mut head = [0u8; 12];
                if s.write_all(req.as_bytes()).is_ok() && s.read_exact(&mut head).is_ok() && head.ends_with(b"200") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Runs a Python snippet with boto3 against this moto and returns its
    /// stdout, trimmed. `sys.argv[1:]` are `args`.
    pub(crate) fn python(&self, script: &str, args: &[&str]) -> String {
        let mut cmd = Command::new(which("python3").unwrap_or_else(|| PathBuf::from("python3")));
        cmd.arg("-c").arg(script).args(args).env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("AWS_DEFAULT_REGION", "us-east-1");
        for (k, v) in guards(&self.url) {
            cmd.env(k, v);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("run python3 (boto3 comes with moto)");
        assert!(
            out.status.success(),
            "boto3 against moto failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    /// A new symmetric KMS key in `region`; returns its ARN.
    pub(crate) fn create_key(&self, region: &str) -> String {
        self.python(
            "import boto3,sys;print(boto3.client('kms',region_name=sys.argv[1]).create_key()['KeyMetadata']['Arn'])",
            &[region],
        )
    }

    /// A new IAM role anyone may assume; returns its ARN.
    pub(crate) fn create_role(&self, name: &str) -> String {
        self.python(
            "import boto3,json,sys\n\
             doc={'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'sts:AssumeRole'}]}\n\
             print(boto3.client('iam').create_role(RoleName=sys.argv[1],AssumeRolePolicyDocument=json.dumps(doc))['Role']['Arn'])",
            &[name],
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (the listener is closed before moto binds).
pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A TCP listener on 127.0.0.1 that accepts and never answers: the first
/// connection is held for `hold` and then closed, later ones are closed at
/// once, so a client prints its "waiting for …" line and then fails with
/// its own network error (no timing is asserted). Stopped when dropped.
pub(crate) struct SilentServer {
    pub(crate) url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    pub(crate) fn start(hold: Duration) -> SilentServer {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut first = true;
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                if first {
                    first = false;
                    let flag = flag.clone();
                    std::thread::spawn(move || {
                        let start = Instant::now();
                        while start.elapsed() < hold && !flag.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        drop(conn);
                    });
                } else {
                    drop(conn);
                }
            }
        });
        SilentServer { url: format!("http://127.0.0.1:{port}"), stop, port, thread: Some(thread) }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
