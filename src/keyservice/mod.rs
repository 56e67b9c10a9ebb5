//! Key services: where a master key wraps or unwraps the data key (cli.md
//! §3.9, §8).
//!
//! sops sends every master-key operation through a list of key services:
//! the in-process one (unless `--enable-local-keyservice=false`), then each
//! `--keyservice` URI in order. This module owns that list, the parsing of
//! the URIs as sops parses them, and the loop over services with sops's
//! error lists. The local service is a direct call of the local dispatch
//! (`ops::encrypt::wrap_one`, `keys::recover::unwrap_one`), not an
//! in-process gRPC hop (STYLE.md §11). The gRPC client and the `rsops
//! keyservice` server live in `client.rs`/`server.rs` (feature
//! `keyservice`); `disabled.rs` stands in for both without it.
//!
//! Nothing starts early: the tokio runtime and connections of the client are
//! made on the first remote call, so a run with only the local service never
//! starts a runtime.

#[cfg(feature = "keyservice")]
mod client;
#[cfg(not(feature = "keyservice"))]
#[path = "disabled.rs"]
mod client;
#[cfg(feature = "keyservice")]
mod proto;
#[cfg(feature = "keyservice")]
mod server;
#[cfg(not(feature = "keyservice"))]
use client as server;

use std::cell::OnceCell;

use zeroize::Zeroizing;

use crate::context::{Context, Env};
use crate::error::Error;
use crate::keys::{KeyRef, MasterKey};

/// Whether this build has the gRPC key service (`--version` lists it).
pub const BUILT_IN: bool = cfg!(feature = "keyservice");

/// One key service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// The in-process key sources.
    Local,
    /// A gRPC key service at this address.
    Remote(Remote),
}

/// Where a remote key service listens, as sops derives it from the URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// The URI as given.
    pub uri: String,
    pub target: Target,
}

/// The dial target of a remote key service.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `unix:///path` or `unix:path`: gRPC's own `unix` resolver gets the
    /// whole URI; an authority (`unix://host/path`) is its error.
    Unix { path: String, authority: String },
    /// Any other scheme: the scheme is the network `net.Dial` gets (`tcp`,
    /// `tcp4`, `tcp6`; others fail at dial time) and the host part is
    /// resolved by gRPC's DNS resolver (port 443 when missing).
    Net { network: String, host: String },
}

/// The key services of one run, in the order sops tries them.
pub struct KeyServices {
    services: Vec<Service>,
    /// The gRPC client (runtime and connections), made on first remote use.
    client: OnceCell<Result<client::Client, String>>,
}

impl std::fmt::Debug for KeyServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.services).finish()
    }
}

impl Default for KeyServices {
    /// Only the local service: sops's default.
    fn default() -> Self {
        KeyServices::new(vec![Service::Local])
    }
}

impl KeyServices {
    pub fn new(services: Vec<Service>) -> Self {
        KeyServices { services, client: OnceCell::new() }
    }

    /// The services of `--enable-local-keyservice` and `--keyservice`: the
    /// local one first when enabled, then each URI that parses, in order.
    /// URIs that do not parse are returned for sops's warning
    /// (`Error parsing URI for keyservice, skipping`, field `uri`) and
    /// skipped. Fails when a remote is asked of a build without the
    /// `keyservice` feature.
    pub fn from_flags(enable_local: bool, uris: &[String]) -> Result<(KeyServices, Vec<String>), Error> {
        let mut services = Vec::new();
        if enable_local {
            services.push(Service::Local);
        }
        let mut skipped = Vec::new();
        for uri in uris {
            match target_of(uri) {
                Some(target) => services.push(Service::Remote(Remote { uri: uri.clone(), target })),
                None => skipped.push(uri.clone()),
            }
        }
        if !BUILT_IN && services.iter().any(|s| matches!(s, Service::Remote(_))) {
            return Err(Error::Unsupported(lacks_feature()));
        }
        Ok((KeyServices::new(services), skipped))
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    fn client(&self) -> Result<&client::Client, String> {
        self.client.get_or_init(client::Client::new).as_ref().map_err(Clone::clone)
    }

    /// Wraps `data` with `key` through the services in order; the first
    /// success wins. On failure, one error per service tried (sops lists
    /// them all, cli.md §3.9).
    pub fn wrap(&self, key: &KeyRef, data: &[u8], ctx: &Context) -> Result<String, Vec<String>> {
        let mut errors = Vec::new();
        for service in &self.services {
            let result = match service {
                Service::Local => crate::ops::encrypt::wrap_one(key, data, ctx),
                Service::Remote(r) => self.client().and_then(|c| c.encrypt(&r.target, key, data)),
            };
            match result {
                Ok(enc) => return Ok(enc),
                Err(e) => errors.push(e),
            }
        }
        Err(errors)
    }

    /// Unwraps `key`'s data key through the services in order until one
    /// returns it; on failure, one error per service tried (the entries of
    /// the key in sops's report, cli.md §2.3).
    pub fn unwrap(&self, key: &MasterKey, ctx: &Context) -> Result<Zeroizing<Vec<u8>>, Vec<String>> {
        let mut errors = Vec::new();
        for service in &self.services {
            let result = match service {
                Service::Local => crate::keys::recover::unwrap_one(key, ctx),
                Service::Remote(r) => self.client().and_then(|c| c.decrypt(&r.target, key)),
            };
            match result {
                Ok(plain) => return Ok(plain),
                Err(e) => errors.push(e),
            }
        }
        Err(errors)
    }
}

/// The error of a build without the feature.
fn lacks_feature() -> String {
    "this build lacks keyservice support: rsops was built without the `keyservice` feature".to_owned()
}

/// How `rsops keyservice` listens and answers (cli.md §4.13).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// `tcp`, `tcp4`, `tcp6` or `unix`.
    pub network: String,
    pub address: String,
    /// Ask on the terminal before answering each request.
    pub prompt: bool,
    /// Info lines (`Listening on …`) as sops prints them with `--verbose`.
    pub verbose: bool,
}

/// Where the server's log lines go: logger name (`KEYSERVICE`, `AGE`, …),
/// level, message and logrus fields. The binary formats them as sops does.
pub trait Log: Send + Sync {
    fn log(&self, logger: &str, level: &str, msg: &str, fields: &[(&str, &str)]);
}

/// Serves sops's `KeyService` gRPC protocol until SIGINT/SIGTERM, wrapping
/// and unwrapping with the key sources of `env` (the server's own
/// environment). `Err` carries sops's text for the listen failure, which
/// the caller logs as `Error running keyservice: <err>`.
pub fn serve(opts: &ServeOptions, env: Env, cwd: std::path::PathBuf, log: std::sync::Arc<dyn Log>) -> Result<(), String> {
    server::serve(opts, env, cwd, log)
}

/// The dial target of a `--keyservice` URI, or `None` when Go's
/// `url.Parse` rejects it (sops then skips the URI with a warning).
pub fn target_of(uri: &str) -> Option<Target> {
    let url = parse_go_url(uri)?;
    Some(if url.scheme == "unix" {
        let path = if url.path.is_empty() { url.opaque } else { url.path };
        Target::Unix { path, authority: url.host }
    } else {
        Target::Net { network: url.scheme, host: url.host }
    })
}

/// The `address` field of sops's `Connecting to key service` line:
/// `<scheme>://<host>`, or for `unix` the URL's path (`unix://` for the
/// opaque `unix:rel.sock`, observed); `None` when the URI does not parse.
pub fn log_address(uri: &str) -> Option<String> {
    let url = parse_go_url(uri)?;
    let addr = if url.scheme == "unix" { url.path } else { url.host };
    Some(format!("{}://{addr}", url.scheme))
}

/// The parts of a URL that sops uses, as Go's `net/url` splits them.
#[derive(Debug, Default, PartialEq, Eq)]
struct GoUrl {
    scheme: String,
    opaque: String,
    host: String,
    path: String,
}

/// Go's `url.Parse`, reduced to what decides success and the scheme, host,
/// path and opaque parts: control characters, the scheme rules, "first
/// path segment in URL cannot contain colon", the port check and invalid
/// host characters or escapes.
fn parse_go_url(raw: &str) -> Option<GoUrl> {
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if let Some(f) = fragment {
        unescape(f, false)?;
    }
    if rest.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let mut url = GoUrl::default();
    if rest.is_empty() {
        return Some(url);
    }
    let (scheme, mut rest) = split_scheme(rest)?;
    url.scheme = scheme.to_ascii_lowercase();
    if let Some((r, _query)) = rest.split_once('?') {
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            rest.clone_into(&mut url.opaque);
            return Some(url);
        }
        let first = rest.split('/').next().unwrap_or("");
        if first.contains(':') {
            return None;
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        rest = &after[end..];
        let host = match authority.rfind('@') {
            Some(i) => &authority[i + 1..],
            None => authority,
        };
        url.host = parse_host(host)?;
    }
    url.path = unescape(rest, false)?;
    Some(url)
}

/// Go's `getScheme`: a letter, then letters, digits, `+`, `-`, `.` up to
/// the first `:`; anything else before a `:` means "no scheme".
fn split_scheme(raw: &str) -> Option<(&str, &str)> {
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' => {
                if i == 0 {
                    return Some(("", raw));
                }
            }
            ':' => {
                if i == 0 {
                    return None; // "missing protocol scheme"
                }
                return Some((&raw[..i], &raw[i + 1..]));
            }
            _ => return Some(("", raw)),
        }
    }
    Some(("", raw))
}

/// Go's `parseHost`: an optional `:port` of digits only, and no character
/// a host may not hold.
fn parse_host(host: &str) -> Option<String> {
    let port_from = if host.starts_with('[') {
        let close = host.rfind(']')?;
        close + 1
    } else {
        host.rfind(':').unwrap_or(host.len())
    };
    let port = &host[port_from..];
    if !port.is_empty() && (!port.starts_with(':') || !port[1..].bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    unescape(host, true)
}

/// Go's `unescape` for paths and hosts: `%XX` escapes must be valid, and a
/// host may hold only the characters Go allows there.
fn unescape(s: &str, host: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
            continue;
        }
        if host && b < 0x80 && !b.is_ascii_alphanumeric() && !b"-_.~!$&'()*+,;=:[]<>\"".contains(&b) {
            return None;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The Go renderings `client.rs` and `server.rs` use, under their names there.
#[cfg_attr(not(feature = "keyservice"), allow(unused_imports))]
pub(crate) use crate::gotext::{errno_text as go_errno_text, quote as go_quote};

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // compared with target_of's answer
    fn net(network: &str, host: &str) -> Option<Target> {
        Some(Target::Net { network: network.to_owned(), host: host.to_owned() })
    }

    #[test]
    fn uris_parse_as_sops_parses_them() {
        assert_eq!(target_of("tcp://127.0.0.1:5000"), net("tcp", "127.0.0.1:5000"));
        assert_eq!(target_of("TCP6://[::1]:5000/ignored"), net("tcp6", "[::1]:5000"));
        assert_eq!(target_of("http://h:1"), net("http", "h:1"));
        // `localhost:5000` is scheme `localhost` with no host: sops keeps it
        // and gRPC's resolver fails ("missing address").
        assert_eq!(target_of("localhost:5000"), net("localhost", ""));
        assert_eq!(target_of(""), net("", ""));
        assert_eq!(
            target_of("unix:///tmp/ks.sock"),
            Some(Target::Unix { path: "/tmp/ks.sock".to_owned(), authority: String::new() })
        );
        assert_eq!(
            target_of("unix:rel.sock"),
            Some(Target::Unix { path: "rel.sock".to_owned(), authority: String::new() })
        );
    }

    #[test]
    fn connect_log_addresses() {
        assert_eq!(log_address("tcp://127.0.0.1:5000/x").as_deref(), Some("tcp://127.0.0.1:5000"));
        assert_eq!(log_address("unix:///tmp/ks.sock").as_deref(), Some("unix:///tmp/ks.sock"));
        assert_eq!(log_address("unix:rel.sock").as_deref(), Some("unix://"));
        assert_eq!(log_address("bad uri:1"), None);
    }

    #[test]
    fn unparsable_uris_are_refused() {
        for bad in ["127.0.0.1:5000", ":5000", "tcp://h:port", "tcp://a b:1", "tcp://h:1/%zz", "tcp://h\n:1"] {
            assert_eq!(target_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_first_then_remotes_in_order() {
        let uris = ["tcp://a:1".to_owned(), "127.0.0.1:2".to_owned(), "unix:///s".to_owned()];
        match KeyServices::from_flags(true, &uris) {
            Ok((ks, skipped)) if BUILT_IN => {
                assert_eq!(skipped, ["127.0.0.1:2"]);
                assert_eq!(ks.services().len(), 3);
                assert_eq!(ks.services()[0], Service::Local);
                assert!(matches!(&ks.services()[2], Service::Remote(r) if r.uri == "unix:///s"));
            }
            Err(Error::Unsupported(m)) if !BUILT_IN => assert!(m.contains("lacks keyservice")),
            other => panic!("unexpected: {other:?}"),
        }
        let (ks, _) = KeyServices::from_flags(false, &[]).unwrap();
        assert!(ks.is_empty());
    }

    #[test]
    fn no_services_means_no_attempt() {
        let ks = KeyServices::new(Vec::new());
        let ctx = Context::new(Env::default(), std::path::PathBuf::from("/"));
        let key = KeyRef::Age { recipient: "age1x".to_owned() };
        assert_eq!(ks.wrap(&key, b"k", &ctx), Err(Vec::new()));
    }

    #[test]
    fn go_texts() {
        let refused = std::io::Error::from_raw_os_error(111);
        assert_eq!(go_errno_text(&refused), "connection refused");
        assert_eq!(go_errno_text(&std::io::Error::from_raw_os_error(2)), "no such file or directory");
        assert_eq!(go_quote("a \"b\""), "\"a \\\"b\\\"\"");
    }
}
