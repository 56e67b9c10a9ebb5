//! `publish` to Vault KV v1/v2: the decrypted data, written as sops's
//! `VaultDestination.UploadUnencrypted` writes it (cli.md §11 step 8).
//!
//! Like the Go Vault client sops uses here (not its transit key source):
//! the address is the rule's `vault_address`, else `VAULT_AGENT_ADDR` /
//! `VAULT_ADDR` / `https://127.0.0.1:8200` (`unix://<socket>` too: plain
//! HTTP over the socket); a standby's 301/302/307 is followed once with the
//! same method and body (the transit client's rule); the token is `VAULT_TOKEN`
//! only — `~/.vault-token` is not read (verified: sops gets a 403 with only
//! the file); `VAULT_NAMESPACE`, TLS and proxy variables as for transit.
//! First `GET /v1/<path>`: if the stored data equals what would be written
//! (Go's `cmp.Equal` of sops's map and the decoded answer) nothing is
//! written; a failed read only warns. Then `PUT`, the data wrapped in
//! `{"data": …}` for KV v2.
//!
//! Uses the blocking HTTP client of the Vault transit backend (feature
//! `vault`); without it, an error naming the feature.

use std::fmt::Write as _;

use crate::config::destination::Destination;
use crate::context::Context;
use crate::error::Error;
use crate::tree::Branch;

#[cfg(feature = "vault")]
pub(super) fn write(
    dest: &Destination,
    name: &str,
    docs: &[Branch],
    ctx: &Context,
    warn: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    use crate::keys::vault::VaultEnv;

    let Destination::Vault { address, kv_version, .. } = dest else {
        return Err(Error::Generic("not a Vault destination".to_owned()));
    };
    let secret_path = dest.vault_secret_path(name).unwrap_or_default();
    let address = if address.is_empty() { super::vault_default_address(ctx) } else { address.clone() };
    let env = VaultEnv::from_lookup(|k| ctx.env.get(k).map(Into::into));
    // The Go client's `ParseAddress`: a `unix://<socket>` address dials the
    // socket and speaks plain HTTP to `http://localhost` (sops 3.11 accepts
    // it in `vault_address` and in `VAULT_ADDR`, verified).
    let (url, socket) = match address.strip_prefix("unix://") {
        Some(socket) => (request_url("http://localhost", &secret_path), Some(socket.to_owned())),
        None => (request_url(&address, &secret_path), None),
    };
    let client = Client::new(&env, &url, socket).map_err(Error::Generic)?;

    let existing = match client.send("GET", &url, None) {
        // A missing secret is a 404, whose body may still hold data (a
        // deleted KV v2 version); the Go client reads it as a secret too.
        Ok((_, body)) | Err(Failure::Status(404, body, _)) => Some(body),
        Err(_) => {
            warn(&format!(
                "Cannot check if destination secret already exists in {secret_path}. New version will be created even if the data has not been changed."
            ));
            None
        }
    };
    let data = super::emit_as_map(docs);
    if let Some(body) = existing {
        // sops compares with `Data["data"]` for both KV versions: for v1
        // that is a key named `data` inside the secret, so v1 never matches.
        let stored = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|mut j| j.get_mut("data").and_then(|d| d.get_mut("data")).map(serde_json::Value::take));
        if stored.as_ref().is_some_and(|s| equal::map(&data, s)) {
            // sops logs this at info level, which its PUBLISH logger never
            // shows; nothing is printed.
            return Ok(());
        }
    }
    let json = zeroize::Zeroizing::new(super::vault_json(docs)?);
    let body = if *kv_version == 1 { json } else { zeroize::Zeroizing::new(format!("{{\"data\":{}}}", json.as_str())) };
    match client.send("PUT", &url, Some(&body)) {
        Ok(_) => Ok(()),
        Err(Failure::Status(status, text, at)) => {
            Err(Error::Generic(crate::keys::vault::response_error("PUT", &at, status, &text)))
        }
        Err(Failure::Transport(t)) => Err(Error::Generic(t)),
    }
}

#[cfg(not(feature = "vault"))]
pub(super) fn write(
    _dest: &Destination,
    _name: &str,
    _docs: &[Branch],
    _ctx: &Context,
    _warn: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    Err(Error::Unsupported("this build of rsops lacks Vault support for publish (cargo feature `vault`)".to_owned()))
}

/// `<address>/v1/<path>`, the path cleaned as the Go client's `path.Join`
/// does and escaped where an URL needs it.
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
fn request_url(address: &str, secret_path: &str) -> String {
    let (base, base_path) = match address.split_once("://") {
        Some((scheme, rest)) => match rest.find('/') {
            Some(i) => (format!("{scheme}://{}", &rest[..i]), rest[i..].to_owned()),
            None => (address.to_owned(), String::new()),
        },
        None => (address.to_owned(), String::new()),
    };
    let joined = super::go_clean(&format!("{base_path}/v1/{secret_path}"));
    let mut escaped = String::with_capacity(joined.len());
    for b in joined.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            escaped.push(char::from(b));
        } else {
            let _ = write!(escaped, "%{b:02X}");
        }
    }
    format!("{base}{escaped}")
}

#[cfg(feature = "vault")]
enum Failure {
    /// The status, the body and the URL that answered (after a redirect,
    /// the standby's target, as the Go client's error names it).
    Status(u16, String, String),
    Transport(String),
}

#[cfg(feature = "vault")]
struct Client<'a> {
    agent: ureq::Agent,
    env: &'a crate::keys::vault::VaultEnv,
    /// Every connection goes to this Unix socket (a `unix://` address).
    socket: Option<String>,
    /// The URL `agent` was made for.
    first_url: String,
}

#[cfg(feature = "vault")]
impl<'a> Client<'a> {
    fn new(env: &'a crate::keys::vault::VaultEnv, url: &str, socket: Option<String>) -> Result<Client<'a>, String> {
        // The Go client's `DefaultConfig` fails on bad settings before any
        // request, with the same wording as the transit key source.
        if let Some(e) = &env.config_error {
            return Err(crate::keys::vault::client_error(e));
        }
        let agent = crate::keys::vault::transport::make_agent(env, url.starts_with("https:"), env.proxy_for(url))
            .map_err(|e| crate::keys::vault::client_error(&e))?;
        Ok(Client { agent, env, socket, first_url: url.to_owned() })
    }

    /// One request as the Go client sends it: a standby's redirect is
    /// followed once with the same method and body, by the transit key
    /// source's rule ([`standby_redirect`]).
    ///
    /// [`standby_redirect`]: crate::keys::vault::transport::standby_redirect
    fn send(&self, method: &str, url: &str, body: Option<&str>) -> Result<(u16, String), Failure> {
        let mut url = url.to_owned();
        let mut redirected = false;
        loop {
            let (status, location, text) = self.send_once(method, &url, body)?;
            match crate::keys::vault::transport::standby_redirect(&url, status, location.as_deref(), redirected, self.env)
            {
                Ok(Some(next)) => {
                    url = next;
                    redirected = true;
                }
                Ok(None) => return Ok((status, text)),
                // The Go client returns these texts bare, not as a `url.Error`.
                Err(e) => return Err(Failure::Transport(e)),
            }
        }
    }

    /// One request with the Go client's headers and retry policy (429 and
    /// 5xx but 501, and failed connections, `VAULT_MAX_RETRIES` times).
    /// Returns the status, the `Location` header and the body.
    fn send_once(&self, method: &str, url: &str, body: Option<&str>) -> Result<(u16, Option<String>, String), Failure> {
        let mut attempt = 0;
        loop {
            let mut headers = vec![("X-Vault-Request", "true")];
            if let Some(token) = &self.env.token {
                headers.push(("X-Vault-Token", token));
            }
            if let Some(ns) = &self.env.namespace {
                headers.push(("X-Vault-Namespace", ns));
            }
            if body.is_some() {
                headers.push(("Content-Type", "application/json"));
            }
            let answer = match &self.socket {
                Some(socket) => unix::request(socket, method, url, &headers, body, self.env.timeout)
                    .map_err(|e| Failure::Transport(format!("{}: {e}", go_verb_url(method, url)))),
                None => self.over_tcp(method, url, &headers, body),
            };
            let failure = match answer {
                Ok((status, location, text)) if status < 400 => return Ok((status, location, text)),
                Ok((status, _, text)) => {
                    if (status < 500 && status != 429) || status == 501 {
                        return Err(Failure::Status(status, text, url.to_owned()));
                    }
                    Failure::Status(status, text, url.to_owned())
                }
                Err(f) => f,
            };
            attempt += 1;
            if attempt > self.env.max_retries {
                return Err(failure);
            }
            std::thread::sleep(std::time::Duration::from_millis(1250) * attempt);
        }
    }
}

#[cfg(feature = "vault")]
impl Client<'_> {
    /// One attempt over ureq: the status, `Location` and body of any HTTP
    /// answer, or the transport failure in Go's words.
    fn over_tcp(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<(u16, Option<String>, String), Failure> {
        // The agent was made for the first URL; a redirect to the other
        // scheme or behind another proxy setting needs its own (the HTTPS
        // one carries the roots).
        let first_kind = (self.first_url.starts_with("https:"), self.env.proxy_for(&self.first_url));
        let agent = if first_kind == (url.starts_with("https:"), self.env.proxy_for(url)) {
            self.agent.clone()
        } else {
            crate::keys::vault::transport::make_agent(self.env, url.starts_with("https:"), self.env.proxy_for(url))
                .map_err(|e| Failure::Transport(crate::keys::vault::client_error(&e)))?
        };
        let mut req = agent.request(method, url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_string(b),
            None => req.call(),
        };
        match result {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => {
                let status = resp.status();
                let location = resp.header("Location").map(str::to_owned);
                Ok((status, location, resp.into_string().unwrap_or_default()))
            }
            Err(ureq::Error::Transport(t)) => Err(Failure::Transport(transport_error(method, url, &t))),
        }
    }
}

/// HTTP/1.1 over a Unix socket, for `unix://` Vault addresses: ureq 2 dials
/// TCP only, and the two KV calls need no more than one request per
/// connection (`Connection: close`, the answer read to the end).
#[cfg(feature = "vault")]
mod unix {
    use std::fmt::Write as _;
    use std::io::{Read as _, Write as _};
    use std::time::Duration;

    /// Sends one request and returns the status, `Location` and body.
    /// Errors are the text after Go's `Put "<url>": `.
    pub(super) fn request(
        socket: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
        timeout: Duration,
    ) -> Result<(u16, Option<String>, String), String> {
        let mut conn = connect(socket, timeout)?;
        let target = url.strip_prefix("http://").and_then(|r| r.find('/').map(|i| &r[i..])).unwrap_or("/");
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (k, v) in headers {
            let _ = write!(req, "{k}: {v}\r\n");
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() || method != "GET" {
            let _ = write!(req, "Content-Length: {}\r\n", body.len());
        }
        req.push_str("\r\n");
        let mut wire = zeroize::Zeroizing::new(req.into_bytes());
        wire.extend_from_slice(body.as_bytes());
        conn.write_all(&wire).map_err(|e| format!("write unix {socket}: {e}"))?;
        let mut raw = zeroize::Zeroizing::new(Vec::new());
        conn.read_to_end(&mut raw).map_err(|e| format!("read unix {socket}: {e}"))?;
        parse(&raw)
    }

    #[cfg(unix)]
    fn connect(socket: &str, timeout: Duration) -> Result<std::os::unix::net::UnixStream, String> {
        let conn = std::os::unix::net::UnixStream::connect(socket)
            .map_err(|e| format!("dial unix {socket}: connect: {}", crate::config::io_text(&e)))?;
        // Zero means no timeout, as for the Go client.
        let timeout = Some(timeout).filter(|t| !t.is_zero());
        conn.set_read_timeout(timeout).and_then(|()| conn.set_write_timeout(timeout)).map_err(|e| e.to_string())?;
        Ok(conn)
    }

    #[cfg(not(unix))]
    fn connect(socket: &str, _timeout: Duration) -> Result<std::net::TcpStream, String> {
        Err(format!("dial unix {socket}: Unix sockets are not supported on this system"))
    }

    /// Splits an HTTP/1.1 answer (`Content-Length`, chunked, or to EOF).
    pub(super) fn parse(raw: &[u8]) -> Result<(u16, Option<String>, String), String> {
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("malformed HTTP response")?;
        let head = String::from_utf8_lossy(&raw[..head_end]);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or("malformed HTTP status code")?;
        let mut location = None;
        let mut chunked = false;
        let mut length = None;
        for line in lines {
            let Some((k, v)) = line.split_once(':') else { continue };
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "location" => location = Some(v.to_owned()),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "content-length" => length = v.parse::<usize>().ok(),
                _ => {}
            }
        }
        let rest = &raw[head_end + 4..];
        let body = if chunked {
            let mut out = Vec::new();
            let mut at = 0;
            loop {
                let eol = rest[at..].windows(2).position(|w| w == b"\r\n").ok_or("malformed chunked encoding")? + at;
                let size_text = String::from_utf8_lossy(&rest[at..eol]);
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| "malformed chunked encoding")?;
                at = eol + 2;
                if size == 0 {
                    break;
                }
                out.extend_from_slice(rest.get(at..at + size).ok_or("unexpected EOF")?);
                at += size + 2;
            }
            out
        } else {
            rest[..length.unwrap_or(rest.len()).min(rest.len())].to_vec()
        };
        Ok((status, location, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// Go's wording for a failed connection (`Put "<url>": dial tcp …`).
#[cfg(feature = "vault")]
fn transport_error(method: &str, url: &str, t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let mut source = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url);
                return format!("{}: dial tcp {host}: connect: connection refused", go_verb_url(method, url));
            }
        }
        source = e.source();
    }
    let detail = t.message().map_or_else(|| t.kind().to_string(), |m| format!("{}: {m}", t.kind()));
    format!("{}: {detail}", go_verb_url(method, url))
}

/// How Go's `url.Error` starts: `Put "<url>"`.
#[cfg(feature = "vault")]
fn go_verb_url(method: &str, url: &str) -> String {
    format!("{}{} {url:?}", &method[..1], method[1..].to_lowercase())
}

/// Go's `cmp.Equal` between sops's map (typed Go values) and the secret as
/// the Vault client decodes it (`json.Number` for numbers): values of
/// different dynamic types differ, so any number, time, byte string, or
/// mapping or comment inside a list makes the data "changed".
#[cfg(feature = "vault")]
mod equal {
    use std::collections::BTreeMap;

    use serde_json::Value as J;

    use crate::tree::{Item, Value};

    pub(super) fn map(ours: &BTreeMap<&str, &Value>, theirs: &J) -> bool {
        let J::Object(obj) = theirs else { return false };
        obj.len() == ours.len()
            && ours.iter().all(|(k, v)| {
                obj.get(*k).is_some_and(|t| match v {
                    Value::Map(items) => {
                        let mut inner = BTreeMap::new();
                        for i in items {
                            if let Item::Pair(k, v) = i {
                                inner.insert(k.as_str(), v);
                            }
                        }
                        map(&inner, t)
                    }
                    other => raw(other, t),
                })
            })
    }

    fn raw(ours: &Value, theirs: &J) -> bool {
        match (ours, theirs) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Str(a), J::String(b)) => a == b,
            (Value::Seq(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| raw(x, y)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_cleaned_and_escaped() {
        assert_eq!(request_url("http://h:1", "secret/data/team/a.yaml"), "http://h:1/v1/secret/data/team/a.yaml");
        assert_eq!(request_url("http://h:1/", "secret/data/t/./a b"), "http://h:1/v1/secret/data/t/a%20b");
        assert_eq!(request_url("https://h/vault", "kv/p/."), "https://h/vault/v1/kv/p");
    }

    #[cfg(feature = "vault")]
    #[test]
    fn unix_answers_are_split_like_http() {
        let (status, location, body) =
            unix::parse(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /v1/x\r\nContent-Length: 2\r\n\r\n{}junk").unwrap();
        assert_eq!((status, location.as_deref(), body.as_str()), (307, Some("/v1/x"), "{}"));
        let (status, _, body) =
            unix::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!((status, body.as_str()), (200, "abcde"));
        assert!(unix::parse(b"HTTP/1.1 200 OK\r\n").is_err());
    }

    #[cfg(feature = "vault")]
    #[test]
    fn up_to_date_compares_like_go_cmp() {
        use crate::tree::{Item, Value};
        let strings = vec![vec![
            Item::pair("a", Value::Str("x".into())),
            Item::pair("b", Value::Map(vec![Item::Comment(" c".into()), Item::pair("c", Value::Null)])),
            Item::pair("l", Value::Seq(vec![Value::Bool(true)])),
        ]];
        let stored: serde_json::Value = serde_json::from_str(r#"{"a":"x","b":{"c":null},"l":[true]}"#).unwrap();
        assert!(equal::map(&crate::publish::emit_as_map(&strings), &stored));
        let changed: serde_json::Value = serde_json::from_str(r#"{"a":"y","b":{"c":null},"l":[true]}"#).unwrap();
        assert!(!equal::map(&crate::publish::emit_as_map(&strings), &changed));
        // A number is never "equal": Go's int against json.Number.
        let num = vec![vec![Item::pair("n", Value::Int(1))]];
        let stored: serde_json::Value = serde_json::from_str(r#"{"n":1}"#).unwrap();
        assert!(!equal::map(&crate::publish::emit_as_map(&num), &stored));
    }
}
