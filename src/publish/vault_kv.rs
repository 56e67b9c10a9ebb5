//! `publish` to Vault KV v1/v2: the decrypted data, written as sops's
//! `VaultDestination.UploadUnencrypted` writes it (cli.md §11 step 8).
//!
//! Like the Go Vault client sops uses here (not its transit key source):
//! the address is the rule's `vault_address`, else `VAULT_AGENT_ADDR` /
//! `VAULT_ADDR` / `https://127.0.0.1:8200`; the token is `VAULT_TOKEN`
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
    let url = request_url(&address, &secret_path);
    let client = Client::new(&env, &url).map_err(Error::Generic)?;

    let existing = match client.send("GET", &url, None) {
        // A missing secret is a 404, whose body may still hold data (a
        // deleted KV v2 version); the Go client reads it as a secret too.
        Ok((_, body)) | Err(Failure::Status(404, body)) => Some(body),
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
        Err(Failure::Status(status, text)) => {
            Err(Error::Generic(crate::keys::vault::response_error("PUT", &url, status, &text)))
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
    Status(u16, String),
    Transport(String),
}

#[cfg(feature = "vault")]
struct Client<'a> {
    agent: ureq::Agent,
    env: &'a crate::keys::vault::VaultEnv,
}

#[cfg(feature = "vault")]
impl<'a> Client<'a> {
    fn new(env: &'a crate::keys::vault::VaultEnv, url: &str) -> Result<Client<'a>, String> {
        // The Go client's `DefaultConfig` fails on bad settings before any
        // request, with the same wording as the transit key source.
        if let Some(e) = &env.config_error {
            return Err(crate::keys::vault::client_error(e));
        }
        let agent = crate::keys::vault::transport::make_agent(env, url.starts_with("https:"), env.proxy_for(url))
            .map_err(|e| crate::keys::vault::client_error(&e))?;
        Ok(Client { agent, env })
    }

    /// One request with the Go client's headers and retry policy (429 and
    /// 5xx but 501, and failed connections, `VAULT_MAX_RETRIES` times).
    fn send(&self, method: &str, url: &str, body: Option<&str>) -> Result<(u16, String), Failure> {
        let mut attempt = 0;
        loop {
            let mut req = self.agent.request(method, url).set("X-Vault-Request", "true");
            if let Some(token) = &self.env.token {
                req = req.set("X-Vault-Token", token);
            }
            if let Some(ns) = &self.env.namespace {
                req = req.set("X-Vault-Namespace", ns);
            }
            let result = match body {
                Some(b) => req.set("Content-Type", "application/json").send_string(b),
                None => req.call(),
            };
            let failure = match result {
                Ok(resp) => {
                    let status = resp.status();
                    return Ok((status, resp.into_string().unwrap_or_default()));
                }
                Err(ureq::Error::Status(status, resp)) => {
                    let text = resp.into_string().unwrap_or_default();
                    if (status < 500 && status != 429) || status == 501 {
                        return Err(Failure::Status(status, text));
                    }
                    Failure::Status(status, text)
                }
                Err(ureq::Error::Transport(t)) => Failure::Transport(transport_error(method, url, &t)),
            };
            attempt += 1;
            if attempt > self.env.max_retries {
                return Err(failure);
            }
            std::thread::sleep(std::time::Duration::from_millis(1250) * attempt);
        }
    }
}

/// Go's wording for a failed connection (`Put "<url>": dial tcp …`).
#[cfg(feature = "vault")]
fn transport_error(method: &str, url: &str, t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let verb = format!("{}{}", &method[..1], method[1..].to_lowercase());
    let mut source = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url);
                return format!("{verb} {url:?}: dial tcp {host}: connect: connection refused");
            }
        }
        source = e.source();
    }
    let detail = t.message().map_or_else(|| t.kind().to_string(), |m| format!("{}: {m}", t.kind()));
    format!("{verb} {url:?}: {detail}")
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
