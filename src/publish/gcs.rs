//! `publish` to Google Cloud Storage: one JSON-API multipart upload of the
//! file to `<bucket>/<prefix><name>`, the request sops's Go storage client
//! sends for a small object (`POST /upload/storage/v1/b/<bucket>/o?…&uploadType=multipart`,
//! observed against tests/servers/gcs.py).
//!
//! Why not the official `google-cloud-storage` crate: one upload does not
//! justify its gRPC/REST stack on top of the KMS client (build time on two
//! cores), so this is a plain HTTPS request on the blocking client the
//! Vault backend already uses, with a bearer token from the GCP KMS
//! backend's credentials (`keys::gcp_kms::credentials`).
//!
//! As the Go client: `STORAGE_EMULATOR_HOST` (`host:port` or an URL) sends
//! the request there over plain HTTP without credentials; otherwise
//! `https://storage.googleapis.com` with credentials. Difference, on
//! purpose: the Go client takes Application Default Credentials only, rsops
//! the KMS backend's chain (`GOOGLE_CREDENTIALS` and
//! `GOOGLE_OAUTH_ACCESS_TOKEN` first, then ADC). Difference, on purpose:
//! sops drops the upload's error (it closes the writer in a `defer` and
//! ignores the result, so a failed upload exits 0, verified); rsops reports
//! it and exits 1.

use std::fmt::Write as _;

use crate::context::Context;
use crate::error::Error;

#[cfg(feature = "gcp")]
pub(super) fn put(bucket: &str, object: &str, bytes: &[u8], ctx: &Context) -> Result<(), Error> {
    let (base, token) = match ctx.env.non_empty("STORAGE_EMULATOR_HOST") {
        Some(host) if host.contains("://") => (host.trim_end_matches('/').to_owned(), None),
        Some(host) => (format!("http://{host}"), None),
        None => ("https://storage.googleapis.com".to_owned(), Some(bearer(ctx)?)),
    };
    let url = format!(
        "{base}/upload/storage/v1/b/{}/o?alt=json&name={}&prettyPrint=false&projection=full&uploadType=multipart",
        escape(bucket),
        escape(object)
    );
    let boundary = format!("{:032x}", rand::random::<u128>());
    let metadata = format!("{{\"bucket\":{},\"name\":{}}}", json_string(bucket), json_string(object));
    let mut body = Vec::with_capacity(bytes.len() + 512);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    // Proxies as Go's `ProxyFromEnvironment` picks them (loopback and
    // `NO_PROXY` hosts direct), the rule the Vault backend implements.
    let mut proxies = crate::keys::vault::VaultEnv::from_lookup(|k| ctx.env.get(k).map(Into::into));
    proxies.vault_proxy = None;
    let agent = agent(url.starts_with("https:"), proxies.proxy_for(&url)).map_err(Error::Generic)?;
    let mut req = agent
        .post(&url)
        .set("Content-Type", &format!("multipart/related; boundary={boundary}"))
        .set("X-Goog-Api-Client", "rsops");
    if let Some(t) = &token {
        req = req.set("Authorization", &format!("Bearer {}", t.as_str()));
    }
    let waiting = crate::keys::blocking::Waiting::start(format!("GCS: upload to {bucket}/{object}"));
    let sent = req.send_bytes(&body);
    drop(waiting);
    match sent {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(code, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            Err(Error::Generic(google_api_error(code, &text)))
        }
        Err(ureq::Error::Transport(t)) => Err(Error::Generic(transport_error(&url, &t))),
    }
}

#[cfg(not(feature = "gcp"))]
pub(super) fn put(_bucket: &str, _object: &str, _bytes: &[u8], _ctx: &Context) -> Result<(), Error> {
    Err(Error::Unsupported("this build of rsops lacks GCS support for publish (cargo feature `gcp`)".to_owned()))
}

/// An access token from the GCP credentials, fetched on the process's
/// runtime (some credential types refresh over the network).
#[cfg(feature = "gcp")]
fn bearer(ctx: &Context) -> Result<zeroize::Zeroizing<String>, Error> {
    use google_cloud_auth::credentials::CacheableResource;
    let fail = |e: String| Error::Generic(format!("dialing: {e}"));
    crate::keys::blocking::block_on("GCS: credentials", async {
        let creds = crate::keys::gcp_kms::credentials(&ctx.env).map_err(fail)?;
        let headers = creds.headers(http::Extensions::new()).await.map_err(|e| fail(e.to_string()))?;
        let CacheableResource::New { data, .. } = headers else {
            return Err(fail("the credentials returned no token".to_owned()));
        };
        let value = data
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| fail("the credentials returned no token".to_owned()))?;
        Ok(zeroize::Zeroizing::new(value.trim_start_matches("Bearer ").to_owned()))
    })
    .map_err(fail)?
}

/// A blocking HTTP(S) client: rustls with the system roots (which honour
/// `SSL_CERT_FILE`), as Go's client trusts them, through `proxy` if any.
#[cfg(feature = "gcp")]
fn agent(https: bool, proxy: Option<&str>) -> Result<ureq::Agent, String> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if https {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("dialing: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = ureq::AgentBuilder::new().tls_config(Arc::new(tls));
    if let Some(p) = proxy {
        builder = builder.proxy(ureq::Proxy::new(p).map_err(|e| format!("dialing: invalid proxy {p:?}: {e}"))?);
    }
    Ok(builder.build())
}

/// Go's wording for a failed request (`Post "<url>": dial tcp …`).
#[cfg(feature = "gcp")]
fn transport_error(url: &str, t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let mut source = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                let host = url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(url);
                return format!("Post {url:?}: dial tcp {host}: connect: connection refused");
            }
        }
        source = e.source();
    }
    let detail = t.message().map_or_else(|| t.kind().to_string(), |m| format!("{}: {m}", t.kind()));
    format!("Post {url:?}: {detail}")
}

/// `googleapi: Error <code>: <message>[, <reason>]`, the Go client's text.
#[cfg(feature = "gcp")]
fn google_api_error(code: u16, body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let err = json.as_ref().and_then(|j| j.get("error"));
    let message = err.and_then(|e| e.get("message")).and_then(serde_json::Value::as_str);
    let reason = err
        .and_then(|e| e.get("errors"))
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("reason"))
        .and_then(serde_json::Value::as_str);
    match (message, reason) {
        (Some(m), Some(r)) => format!("googleapi: Error {code}: {m}, {r}"),
        (Some(m), None) => format!("googleapi: Error {code}: {m}"),
        _ => format!("googleapi: got HTTP response code {code} with body: {body}"),
    }
}

/// Percent-encoding of a query or path value (RFC 3986 unreserved kept).
#[cfg_attr(not(feature = "gcp"), allow(dead_code))]
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg_attr(not(feature = "gcp"), allow(dead_code))]
fn json_string(s: &str) -> String {
    let mut out = String::new();
    super::json_string(s, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_the_query() {
        assert_eq!(escape("gp/a b.yaml"), "gp%2Fa%20b.yaml");
        assert_eq!(json_string("a\"b"), "\"a\\\"b\"");
    }
}
