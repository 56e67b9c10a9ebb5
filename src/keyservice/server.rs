//! `rsops keyservice`: sops's `KeyService` gRPC server (cli.md §4.13, §8).
//!
//! Each request builds a master key from the request's `Key` and runs the
//! same local dispatch as the command line (`ops::encrypt::wrap_one`,
//! `keys::recover::unwrap_one`) with the server's own environment, in a
//! fresh [`Context`] per request as sops builds a fresh master key. The key
//! sources block (gpg, HTTP, their own runtimes), so each request runs on
//! its own thread; the gRPC side is one current-thread runtime.
//!
//! Answers as sops's `keyservice/server.go` gives them: a key source error
//! becomes gRPC `Unknown` with the error text (grpc-go's treatment of a
//! plain error), a request without a key `NotFound` `Must provide a key`,
//! and a refusal at the `--prompt` question `PermissionDenied` `Request
//! rejected by user`. sops runs the operation first and asks afterwards;
//! so does rsops.
//!
//! Shutdown: on SIGINT/SIGTERM the listener is closed, a Unix socket file
//! removed (Go's listener does so on close) and the command exits 0. sops
//! races its serve loop there and may exit 1 (cli.md §4.13); rsops does not.

use std::convert::Infallible;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::body::Body;
use tonic::codegen::{http, BoxFuture, Service};
use tonic::server::NamedService;
use tonic::transport::server::Connected;
use tonic::Status;
use tonic_prost::ProstCodec;

use super::proto::{DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse};
use super::{go_errno_text, Log, ServeOptions};
use crate::context::{Context, Env};
use crate::keys::{KeyRef, MasterKey};

/// What every request needs: the server's environment and options.
struct State {
    env: Env,
    cwd: PathBuf,
    prompt: bool,
    verbose: bool,
    log: Arc<dyn Log>,
    /// One question on the terminal at a time.
    asking: Mutex<()>,
}

pub(super) fn serve(opts: &ServeOptions, env: Env, cwd: PathBuf, log: Arc<dyn Log>) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the key service: {e}"))?;
    let state = Arc::new(State {
        env,
        cwd,
        prompt: opts.prompt,
        verbose: opts.verbose,
        log,
        asking: Mutex::new(()),
    });
    rt.block_on(listen_and_serve(opts, state))
}

async fn listen_and_serve(opts: &ServeOptions, state: Arc<State>) -> Result<(), String> {
    let (network, address) = (opts.network.as_str(), opts.address.as_str());
    let svc = KeyService(state.clone());
    let listening = format!("Listening on {network}://{address}");
    match network {
        "unix" => {
            let listener = UnixListener::bind(address)
                .map_err(|e| format!("listen unix {address}: bind: {}", go_errno_text(&e)))?;
            state.info("KEYSERVICE", &listening, &[]);
            let outcome = run(svc, UnixListenerStream::new(listener), &state).await;
            let _ = std::fs::remove_file(address);
            outcome
        }
        "tcp" | "tcp4" | "tcp6" => {
            let addr = tcp_addr(network, address)?;
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("listen {network} {address}: bind: {}", go_errno_text(&e)))?;
            state.info("KEYSERVICE", &listening, &[]);
            run(svc, TcpListenerStream::new(listener), &state).await
        }
        other => Err(format!("listen {other}: unknown network {other}")),
    }
}

/// Serves until the listener fails or SIGINT/SIGTERM arrives.
async fn run<I, IO, IE>(svc: KeyService, incoming: I, state: &State) -> Result<(), String>
where
    I: tokio_stream::Stream<Item = Result<IO, IE>>,
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let server = tonic::transport::Server::builder().serve_with_incoming(svc, incoming);
    // Go's names for the two signals (`os.Signal.String()`).
    let name = tokio::select! {
        r = server => return r.map_err(|e| e.to_string()),
        _ = interrupt.recv() => "interrupt",
        _ = terminate.recv() => "terminated",
    };
    state.info("KEYSERVICE", &format!("Caught signal {name}: shutting down."), &[]);
    Ok(())
}

/// Go's `net.Listen` address for `tcp`, `tcp4`, `tcp6`: `host:port`, an
/// empty host meaning every address.
fn tcp_addr(network: &str, address: &str) -> Result<SocketAddr, String> {
    let (host, port) = split_host_port(address)
        .ok_or_else(|| format!("listen {network}: address {address}: missing port in address"))?;
    let port = lookup_port(port, SERVICES_PATH).map_err(|e| format!("listen {network}: {e}"))?;
    let wanted = |a: &SocketAddr| match network {
        "tcp4" => a.is_ipv4(),
        "tcp6" => a.is_ipv6(),
        _ => true,
    };
    if host.is_empty() {
        let ip = if network == "tcp4" { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V6(Ipv6Addr::UNSPECIFIED) };
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(wanted))
        .ok_or_else(|| format!("listen {network}: lookup {host}: no such host"))
}

/// Where Go's resolver reads service names.
const SERVICES_PATH: &str = "/etc/services";

/// Go's `LookupPort` for TCP with its pure-Go resolver (sops is built
/// without cgo): decimal digits (an empty port is 0, a sign is allowed),
/// else a service name, case-insensitively, from Go's built-in table and
/// the `tcp` entries of `services_path`. Errors are Go's texts.
fn lookup_port(service: &str, services_path: &str) -> Result<u16, String> {
    let digits = service.strip_prefix(['+', '-']).unwrap_or(service);
    let port: i64 = if digits.bytes().all(|b| b.is_ascii_digit()) {
        // Go saturates long numbers instead of failing to parse them.
        let n = digits.bytes().try_fold(0_i64, |n, b| n.checked_mul(10)?.checked_add(i64::from(b - b'0')));
        let n = n.unwrap_or(i64::MAX).min(1 << 30);
        if service.starts_with('-') { -n } else { n }
    } else {
        // Go copies the name into a 25-byte buffer before lowercasing it:
        // longer names are never found.
        let wanted = service.to_ascii_lowercase();
        let table = tcp_services(&std::fs::read_to_string(services_path).unwrap_or_default());
        match table.get(&wanted) {
            Some(&p) if service.len() <= 25 => i64::from(p),
            _ => return Err(format!("lookup tcp/{service}: unknown port")),
        }
    };
    u16::try_from(port).map_err(|_| format!("address {service}: invalid port"))
}

/// Go's `services["tcp"]`: its built-in names, then every `tcp` line of
/// the services file (name and aliases, later lines winning), as Go's
/// `readServices` fills it.
fn tcp_services(file: &str) -> std::collections::HashMap<String, u16> {
    let builtin = [
        ("ftp", 21), ("ftps", 990), ("gopher", 70), ("http", 80), ("https", 443), ("imap2", 143), ("imap3", 220),
        ("imaps", 993), ("pop3", 110), ("pop3s", 995), ("smtp", 25), ("submissions", 465), ("ssh", 22), ("telnet", 23),
    ];
    let mut map: std::collections::HashMap<String, u16> = builtin.iter().map(|&(n, p)| (n.to_owned(), p)).collect();
    for line in file.lines() {
        let line = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some((port, proto)) = fields.get(1).and_then(|f| f.split_once('/')) else { continue };
        let Ok(port) = port.parse::<u16>() else { continue };
        if port == 0 || proto != "tcp" {
            continue;
        }
        for (i, name) in fields.iter().enumerate() {
            if i != 1 {
                map.insert((*name).to_owned(), port);
            }
        }
    }
    map
}

fn split_host_port(address: &str) -> Option<(&str, &str)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return Some((host, after.strip_prefix(':')?));
    }
    address.rsplit_once(':')
}

/// The one gRPC service, routed by path as the generated code of
/// `keyservice.proto` routes it (no package: `/KeyService/<Method>`).
#[derive(Clone)]
struct KeyService(Arc<State>);

impl NamedService for KeyService {
    const NAME: &'static str = "KeyService";
}

impl Service<http::Request<Body>> for KeyService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let state = self.0.clone();
        match req.uri().path() {
            "/KeyService/Encrypt" => Box::pin(async move {
                let method = tower::service_fn(move |r: tonic::Request<EncryptRequest>| {
                    let state = state.clone();
                    async move { on_thread(move || state.encrypt(r.into_inner())).await.map(tonic::Response::new) }
                });
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<EncryptResponse, EncryptRequest>::default());
                Ok(grpc.unary(method, req).await)
            }),
            "/KeyService/Decrypt" => Box::pin(async move {
                let method = tower::service_fn(move |r: tonic::Request<DecryptRequest>| {
                    let state = state.clone();
                    async move { on_thread(move || state.decrypt(r.into_inner())).await.map(tonic::Response::new) }
                });
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<DecryptResponse, DecryptRequest>::default());
                Ok(grpc.unary(method, req).await)
            }),
            other => {
                let status = Status::unimplemented(unknown_method(other));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

/// grpc-go's answer to a path it does not serve (code `Unimplemented`).
fn unknown_method(path: &str) -> String {
    match path.strip_prefix('/').and_then(|p| p.rsplit_once('/')) {
        Some((KeyService::NAME, method)) => format!("unknown method {method} for service {}", KeyService::NAME),
        Some((service, _)) => format!("unknown service {service}"),
        None => format!("malformed method name: {}", super::go_quote(path)),
    }
}

/// Runs a blocking key operation on its own thread.
async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> Result<T, Status> + Send + 'static) -> Result<T, Status> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.unwrap_or_else(|_| Err(Status::internal("the key operation stopped unexpectedly")))
}

impl State {
    fn context(&self) -> Context {
        Context::new(self.env.clone(), self.cwd.clone())
    }

    fn encrypt(&self, mut req: EncryptRequest) -> Result<EncryptResponse, Status> {
        let key = request_key(req.key.take())?;
        let result = crate::ops::encrypt::wrap_one(&key, &req.plaintext, &self.context());
        self.outcome(&key, true, result.is_ok());
        let enc = result.map_err(Status::unknown)?;
        if self.prompt {
            self.ask(&key, "encrypt")?;
        }
        Ok(EncryptResponse { ciphertext: enc.into_bytes() })
    }

    fn decrypt(&self, mut req: DecryptRequest) -> Result<DecryptResponse, Status> {
        let key = request_key(req.key.take())?;
        let master = MasterKey { key, enc: String::from_utf8_lossy(&req.ciphertext).into_owned(), created_at: None };
        let result = crate::keys::recover::unwrap_one(&master, &self.context());
        self.outcome(&master.key, false, result.is_ok());
        let plain = result.map_err(Status::unknown)?;
        if self.prompt {
            self.ask(&master.key, "decrypt")?;
        }
        Ok(DecryptResponse { plaintext: plain.to_vec() })
    }

    fn info(&self, logger: &str, msg: &str, fields: &[(&str, &str)]) {
        if self.verbose {
            self.log.log(logger, "info", msg, fields);
        }
    }

    /// The info line sops's master key logs after each operation.
    fn outcome(&self, key: &KeyRef, encrypt: bool, ok: bool) {
        let (op, done) = if encrypt { ("Encryption", "succeeded") } else { ("Decryption", "succeeded") };
        let status = if ok { done } else { "failed" };
        let msg = format!("{op} {status}");
        match key {
            // sops logs the recipient on encryption only.
            KeyRef::Age { recipient } if encrypt => self.info("AGE", &msg, &[("recipient", recipient)]),
            KeyRef::Age { .. } => self.info("AGE", &msg, &[]),
            KeyRef::Pgp { fingerprint } => self.info("PGP", &msg, &[("fingerprint", fingerprint)]),
            KeyRef::AwsKms { arn, .. } => self.info("AWSKMS", &msg, &[("arn", arn)]),
            KeyRef::GcpKms { resource_id } => self.info("GCPKMS", &msg, &[("resourceID", resource_id)]),
            KeyRef::AzureKv { name, version, .. } => self.info("AZKV", &msg, &[("key", name), ("version", version)]),
            KeyRef::Vault { engine_path, key_name, .. } => {
                let msg = format!("{op} {}", if ok { "successful" } else { "failed" });
                self.info("VAULT_TRANSIT", &msg, &[("Path", &vault_log_path(engine_path, key_name, encrypt))]);
            }
            KeyRef::Hckms { key_id } => self.info("HCKMS", &msg, &[("keyID", key_id)]),
        }
    }

    /// sops's `--prompt` question on the server's terminal, asked until `y`
    /// or `n`; read errors are returned to the client as sops's are
    /// (`unexpected newline` for an empty line, `EOF`).
    fn ask(&self, key: &KeyRef, request: &str) -> Result<(), Status> {
        let _one_at_a_time = self.asking.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let question = format!("\nReceived {request} request using {}. Respond to request? (y/n): ", describe(key));
        let stdin = std::io::stdin();
        loop {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(question.as_bytes());
            let _ = out.flush();
            drop(out);
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) => return Err(Status::unknown("EOF")),
                Ok(_) => {}
                Err(e) => return Err(Status::unknown(e.to_string())),
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => return Err(Status::unknown("unexpected newline")),
                ["y"] => return Ok(()),
                ["n"] => return Err(Status::permission_denied("Request rejected by user")),
                [_] => {}
                _ => return Err(Status::unknown("expected newline")),
            }
        }
    }
}

/// The `Path` field of sops's Vault log lines: the transit call's path,
/// `path.Join(enginePath, "encrypt"|"decrypt", keyName)` (observed:
/// `Path=sops/encrypt/aes`).
fn vault_log_path(engine_path: &str, key_name: &str, encrypt: bool) -> String {
    let op = if encrypt { "encrypt" } else { "decrypt" };
    // path.Join skips empty elements (a request may carry an empty one).
    let parts: Vec<&str> = [engine_path, op, key_name].into_iter().filter(|p| !p.is_empty()).collect();
    crate::gotext::clean(&parts.join("/"))
}

/// The request's key, or sops's `NotFound` answer.
fn request_key(key: Option<super::proto::Key>) -> Result<KeyRef, Status> {
    key.and_then(|k| k.key_type).map(KeyRef::from).ok_or_else(|| Status::not_found("Must provide a key"))
}

/// sops 3.11's `keyToString` (age and `HuaweiCloud` fall to the default).
fn describe(key: &KeyRef) -> String {
    match key {
        KeyRef::Pgp { fingerprint } => format!("PGP key with fingerprint {fingerprint}"),
        KeyRef::AwsKms { arn, .. } => format!("AWS KMS key with ARN {arn}"),
        KeyRef::GcpKms { resource_id } => format!("GCP KMS key with resource ID {resource_id}"),
        KeyRef::AzureKv { .. } => format!("Azure Key Vault key with URL {}", key.id()),
        KeyRef::Vault { .. } => format!("Hashicorp Vault key with URI {}", key.id()),
        KeyRef::Age { .. } | KeyRef::Hckms { .. } => "Unknown key type".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_as_go_reads_them() {
        assert_eq!(tcp_addr("tcp", "127.0.0.1:5000").unwrap(), "127.0.0.1:5000".parse().unwrap());
        assert_eq!(tcp_addr("tcp6", "[::1]:7").unwrap(), "[::1]:7".parse().unwrap());
        assert_eq!(tcp_addr("tcp4", ":7").unwrap(), "0.0.0.0:7".parse().unwrap());
        assert_eq!(tcp_addr("tcp", "127.0.0.1:99999").unwrap_err(), "listen tcp: address 99999: invalid port");
        assert_eq!(tcp_addr("tcp", "nowhere").unwrap_err(), "listen tcp: address nowhere: missing port in address");
        assert_eq!(tcp_addr("tcp4", "127.0.0.1:").unwrap().port(), 0);
        assert_eq!(tcp_addr("tcp", "127.0.0.1:+81").unwrap().port(), 81);
        assert_eq!(tcp_addr("tcp", "127.0.0.1:-1").unwrap_err(), "listen tcp: address -1: invalid port");
        assert_eq!(tcp_addr("tcp4", "127.0.0.1:GOPHER").unwrap().port(), 70);
    }

    #[test]
    fn vault_paths_are_the_transit_calls() {
        assert_eq!(vault_log_path("sops", "aes", true), "sops/encrypt/aes");
        assert_eq!(vault_log_path("a/b/", "k", false), "a/b/decrypt/k");
        assert_eq!(vault_log_path("", "k", true), "encrypt/k");
    }

    #[test]
    fn service_names_resolve_as_go_resolves_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("services");
        let file = "# comment\nhttp-alt\t8080/tcp\twebcache # WWW caching\nsyslog 514/udp\nMixed 9/tcp\nhttp 8000/tcp\nbad x/tcp\n";
        std::fs::write(&path, file).unwrap();
        let path = path.to_str().unwrap();
        assert_eq!(lookup_port("HTTP-ALT", path), Ok(8080));
        assert_eq!(lookup_port("webcache", path), Ok(8080));
        // A later line overrides Go's built-in table.
        assert_eq!(lookup_port("http", path), Ok(8000));
        assert_eq!(lookup_port("ssh", path), Ok(22));
        assert_eq!(lookup_port("syslog", path).unwrap_err(), "lookup tcp/syslog: unknown port");
        // Names are stored as written but looked up lowercased.
        assert_eq!(lookup_port("Mixed", path).unwrap_err(), "lookup tcp/Mixed: unknown port");
        assert_eq!(lookup_port("ssh", "/nonexistent/services"), Ok(22));
        assert_eq!(lookup_port("99999999999999999999", path).unwrap_err(), "address 99999999999999999999: invalid port");
    }

    #[test]
    fn requests_without_a_key_are_not_found() {
        let s = request_key(None).unwrap_err();
        assert_eq!((s.code(), s.message()), (tonic::Code::NotFound, "Must provide a key"));
        let s = request_key(Some(super::super::proto::Key { key_type: None })).unwrap_err();
        assert_eq!(s.code(), tonic::Code::NotFound);
    }

    #[test]
    fn unknown_paths_as_grpc_go() {
        assert_eq!(unknown_method("/KeyService/Rotate"), "unknown method Rotate for service KeyService");
        assert_eq!(unknown_method("/Other/Encrypt"), "unknown service Other");
        assert_eq!(unknown_method("bad"), "malformed method name: \"bad\"");
    }

    #[test]
    fn prompt_descriptions() {
        assert_eq!(describe(&KeyRef::Pgp { fingerprint: "AB".to_owned() }), "PGP key with fingerprint AB");
        assert_eq!(describe(&KeyRef::Age { recipient: "age1".to_owned() }), "Unknown key type");
        let v = KeyRef::Vault { address: "http://v".to_owned(), engine_path: "t".to_owned(), key_name: "k".to_owned() };
        assert_eq!(describe(&v), "Hashicorp Vault key with URI http://v/v1/t/keys/k");
    }
}
