//! The gRPC client of a remote key service (feature `keyservice`): one
//! connection per target, dialled as sops's client dials it (cli.md §3.9),
//! on the process's one runtime (`keys::blocking`, started by the first
//! remote call), which prints `waiting for key service <uri>: <method>…`
//! when a call takes long (sops's client would hang silently: it sets no
//! deadline, and neither does this one).
//!
//! Errors read as grpc-go prints them, because they end up in sops's
//! failure report and in `Could not generate data key: […]`:
//! `rpc error: code = <Code> desc = <message>`, and for a failed dial
//! `… code = Unavailable desc = connection error: desc = "transport: Error
//! while dialing: dial tcp 127.0.0.1:5999: connect: connection refused"`
//! (cli.md §2.3, verified against sops 3.11).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint, Uri};
use zeroize::Zeroizing;

use super::proto::{DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, Key};
use super::{go_errno_text, go_quote, Target};
use crate::keys::{KeyRef, MasterKey};

/// The gRPC port gRPC's DNS resolver assumes when the URI names none.
const DEFAULT_PORT: &str = "443";

pub(super) struct Client {
    channels: RefCell<HashMap<Target, Channel>>,
}

impl Client {
    /// Infallible now that the runtime is the process's; kept a `Result`
    /// for the caller's `OnceCell<Result<…>>`.
    #[allow(clippy::unnecessary_wraps)]
    pub(super) fn new() -> Result<Client, String> {
        Ok(Client { channels: RefCell::default() })
    }

    pub(super) fn encrypt(&self, target: &Target, key: &KeyRef, data: &[u8]) -> Result<String, String> {
        let req = EncryptRequest { key: Some(Key::from(key)), plaintext: data.to_vec() };
        let resp: EncryptResponse = self.call(target, "/KeyService/Encrypt", req)?;
        Ok(String::from_utf8_lossy(&resp.ciphertext).into_owned())
    }

    pub(super) fn decrypt(&self, target: &Target, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        let req = DecryptRequest { key: Some(Key::from(&key.key)), ciphertext: key.enc.as_bytes().to_vec() };
        let mut resp: DecryptResponse = self.call(target, "/KeyService/Decrypt", req)?;
        Ok(Zeroizing::new(std::mem::take(&mut resp.plaintext)))
    }

    /// One unary call, dialling `target` first if no channel is open to it.
    /// A failed dial is not remembered: the next key tries again, as gRPC
    /// reconnects. Dial and call are one wait, so one notice at the most.
    fn call<Req, Resp>(&self, target: &Target, path: &'static str, req: Req) -> Result<Resp, String>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let open = self.channels.borrow().get(target).cloned();
        let method = path.rsplit('/').next().unwrap_or(path);
        let what = format!("key service {}: {method}", uri_of(target));
        let (channel, result) = crate::keys::blocking::block_on(&what, async move {
            let channel = match open {
                Some(c) => c,
                None => connect(target.clone()).await?,
            };
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            let result = async {
                grpc.ready().await.map_err(|e| status_text(&tonic::Status::unavailable(e.to_string())))?;
                let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
                grpc.unary(tonic::Request::new(req), PathAndQuery::from_static(path), codec)
                    .await
                    .map(tonic::Response::into_inner)
                    .map_err(|s| status_text(&s))
            }
            .await;
            Ok::<_, String>((channel, result))
        })??;
        self.channels.borrow_mut().insert(target.clone(), channel);
        result
    }
}

/// The URI a target was read from, in its normal form (what the notice
/// names; the `Remote`'s own text is not passed down to the client).
fn uri_of(target: &Target) -> String {
    match target {
        Target::Unix { path, authority } if path.starts_with('/') => format!("unix://{authority}{path}"),
        Target::Unix { path, .. } => format!("unix:{path}"),
        Target::Net { network, host } => format!("{network}://{host}"),
    }
}

/// grpc-go's `status.Error` text.
fn status_text(status: &tonic::Status) -> String {
    format!("rpc error: code = {} desc = {}", code_name(status.code()), status.message())
}

/// grpc-go's `codes.Code.String()`.
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// A failed dial as grpc-go reports it to the caller.
fn dial_error(err: &str) -> String {
    let inner = format!("transport: Error while dialing: {err}");
    format!("rpc error: code = Unavailable desc = connection error: desc = {}", go_quote(&inner))
}

/// Dials `target` and wraps the connection in a channel; later
/// reconnections dial again.
async fn connect(target: Target) -> Result<Channel, String> {
    let first = Arc::new(Mutex::new(Some(dial(&target).await?)));
    let connector = tower::service_fn(move |_: Uri| {
        let ready = first.lock().ok().and_then(|mut s| s.take());
        let target = target.clone();
        async move {
            match ready {
                Some(s) => Ok(TokioIo::new(s)),
                None => dial(&target).await.map(TokioIo::new).map_err(io::Error::other),
            }
        }
    });
    // The URI only names the `:authority`; the connector picks the socket.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
        .map_err(|e| dial_error(&e.to_string()))
}

/// Opens the socket of `target` (sops's dialer: `net.Dial(scheme, addr)`
/// after gRPC's DNS resolver, or gRPC's `unix` resolver).
async fn dial(target: &Target) -> Result<Stream, String> {
    match target {
        Target::Unix { authority, .. } if !authority.is_empty() => Err(format!(
            "rpc error: code = Unavailable desc = invalid (non-empty) authority: {authority}"
        )),
        Target::Unix { path, .. } => UnixStream::connect(path)
            .await
            .map(Stream::Unix)
            .map_err(|e| dial_error(&format!("dial unix {path}: connect: {}", go_errno_text(&e)))),
        Target::Net { host, .. } if host.is_empty() => {
            Err("rpc error: code = Unavailable desc = dns resolver: missing address".to_owned())
        }
        Target::Net { network, host } => {
            let with_port = if has_port(host) { host.clone() } else { format!("{host}:{DEFAULT_PORT}") };
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host(with_port.as_str())
                .await
                .map_err(|_| "rpc error: code = Unavailable desc = name resolver error: produced zero addresses".to_owned())?
                .collect();
            let wanted: fn(&std::net::SocketAddr) -> bool = match network.as_str() {
                "tcp" => |_| true,
                "tcp4" => std::net::SocketAddr::is_ipv4,
                "tcp6" => std::net::SocketAddr::is_ipv6,
                other => return Err(dial_error(&format!("dial {other}: unknown network {other}"))),
            };
            let mut last = None;
            for addr in addrs.into_iter().filter(wanted) {
                match TcpStream::connect(addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => last = Some(format!("dial {network} {addr}: connect: {}", go_errno_text(&e))),
                }
            }
            Err(dial_error(&last.unwrap_or_else(|| format!("dial {network} {host}: no suitable address found"))))
        }
    }
}

/// Whether `host` ends in a `:port` (an IPv6 literal must be bracketed).
fn has_port(host: &str) -> bool {
    match host.rfind(':') {
        Some(i) => !host.starts_with('[') || host[..i].ends_with(']'),
        None => false,
    }
}

/// A connected socket of either kind.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_dial_reads_as_grpc_go() {
        // A port nobody listens on: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = Client::new().unwrap();
        let target = Target::Net { network: "tcp".to_owned(), host: format!("127.0.0.1:{port}") };
        let err = client.encrypt(&target, &KeyRef::Age { recipient: "age1x".to_owned() }, b"k").unwrap_err();
        assert_eq!(
            err,
            format!("rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:{port}: connect: connection refused\"")
        );
    }

    #[test]
    fn missing_socket_and_bad_network() {
        let client = Client::new().unwrap();
        let key = KeyRef::Age { recipient: "age1x".to_owned() };
        let unix = Target::Unix { path: "/nonexistent/ks.sock".to_owned(), authority: String::new() };
        assert!(client
            .encrypt(&unix, &key, b"k")
            .unwrap_err()
            .ends_with("dial unix /nonexistent/ks.sock: connect: no such file or directory\""));
        let http = Target::Net { network: "http".to_owned(), host: "127.0.0.1:1".to_owned() };
        assert!(client.encrypt(&http, &key, b"k").unwrap_err().ends_with("dial http: unknown network http\""));
        let empty = Target::Net { network: "localhost".to_owned(), host: String::new() };
        assert_eq!(
            client.encrypt(&empty, &key, b"k").unwrap_err(),
            "rpc error: code = Unavailable desc = dns resolver: missing address"
        );
    }

    #[test]
    fn ports() {
        assert!(has_port("h:1"));
        assert!(has_port("[::1]:1"));
        assert!(!has_port("[::1]"));
        assert!(!has_port("h"));
    }
}
