//! The client-certificate half of azidentity's `EnvironmentCredential`
//! (feature `azure`): `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` +
//! `AZURE_CLIENT_CERTIFICATE_PATH`, used when no `AZURE_CLIENT_SECRET` is
//! set (azidentity's order: secret, certificate, user name and password).
//!
//! Hand-written on purpose: azure_identity's `ClientCertificateCredential`
//! needs openssl (a C library and an apt package, which rsops's build
//! avoids; Cargo.toml). What it takes is small and uses crates already in
//! the tree: the PEM file is split here, the RSA key read by `rsa`, the
//! client assertion (a JWT signed RS256) built as MSAL Go builds it —
//! header `alg`, `typ`, `x5t` = the *standard* base64 (padded) of the
//! certificate's SHA-1 thumbprint, and `x5c` = the chain, leaf first, when
//! `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN` is `1`/`true`; claims `aud` = the
//! token URL, `iss` = `sub` = the client id, `jti`, `nbf`, `exp` = now +
//! 10 min — and posted as a `client_credentials` grant to
//! `<AZURE_AUTHORITY_HOST or https://login.microsoftonline.com/><tenant>/oauth2/v2.0/token`
//! with scope `<resource>/.default`.
//!
//! Differences from sops, by design: MSAL first asks the authority for
//! instance discovery (`/common/discovery/instance`), which rsops skips, so
//! sops cannot be run against the suite's token endpoint (backends.md §4)
//! and the tests check this credential against a verifying server only.
//! PKCS#12 files are refused with a clear message (no well-kept pure-Rust
//! parser for their legacy ciphers); `openssl pkcs12 -nodes` converts them.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use azure_core::credentials::{AccessToken, Secret};
use azure_core::http::{HttpClient, Method, Request, Url};
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::Digest as _;

use super::{response_error, AzureEnv, CredentialError};

/// azidentity's default authority host.
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";

/// How long a client assertion is valid (MSAL Go: ten minutes).
const ASSERTION_LIFETIME: u64 = 600;

/// The DER `DigestInfo` prefix of a SHA-256 hash in a PKCS#1 v1.5
/// signature (RFC 8017 §9.2, note 1), given explicitly so no crate feature
/// is needed for the hash's OID.
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// The troubleshooting line azidentity appends to a certificate failure.
const TROUBLESHOOT: &str = "To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#client-cert";

/// A certificate and its private key, read from
/// `AZURE_CLIENT_CERTIFICATE_PATH`.
pub(super) struct ClientCertificate {
    key: RsaPrivateKey,
    /// DER certificates, the one matching `key` first, then the others in
    /// file order (the `x5c` chain).
    chain: Vec<Vec<u8>>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("ClientCertificate").field("certificates", &self.chain.len()).finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads `path` as azidentity's `EnvironmentCredential` does; the error
    /// is its text for an unreadable or unusable file.
    pub(super) fn load(path: &str) -> Result<ClientCertificate, String> {
        let data = std::fs::read(path).map_err(|e| format!("failed to read certificate file \"{path}\": {}", go_open_error(path, &e)))?;
        ClientCertificate::parse(&data).map_err(|e| {
            format!("failed to parse {path:?} due to error {e:?}. This may be due to a limitation of this module's certificate loader. Consider calling NewClientCertificateCredential instead")
        })
    }

    /// azidentity's `ParseCertificates` for PEM data: every `CERTIFICATE`
    /// block, and one RSA key (`PRIVATE KEY` or `RSA PRIVATE KEY`); then
    /// MSAL's check that a certificate carries the key's public half.
    pub(super) fn parse(data: &[u8]) -> Result<ClientCertificate, String> {
        let text = String::from_utf8_lossy(data);
        let blocks = pem_blocks(&text)?;
        if blocks.is_empty() {
            return Err("rsops reads PEM certificate files only; convert a PKCS#12 file with `openssl pkcs12 -nodes -in FILE -out FILE.pem`".to_owned());
        }
        let mut certs = Vec::new();
        let mut key = None;
        for (label, der) in blocks {
            match label.as_str() {
                "CERTIFICATE" => certs.push(der),
                "PRIVATE KEY" if key.is_none() => {
                    key = Some(RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| format!("x509: failed to parse private key: {e}"))?);
                }
                "RSA PRIVATE KEY" if key.is_none() => {
                    key = Some(RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| format!("x509: failed to parse private key: {e}"))?);
                }
                "ENCRYPTED PRIVATE KEY" => return Err("rsops cannot read an encrypted private key; decrypt it first".to_owned()),
                _ => {}
            }
        }
        if certs.is_empty() {
            return Err("found no certificate".to_owned());
        }
        let Some(key) = key else { return Err("found no private key".to_owned()) };
        // The certificate whose SubjectPublicKeyInfo holds this key: its
        // BIT STRING is exactly the PKCS#1 `RSAPublicKey` DER, so finding
        // those bytes in the certificate is the comparison (no X.509 parser
        // needed; a 2048-bit modulus cannot match by chance).
        let public = key.to_public_key().to_pkcs1_der().map_err(|e| format!("cannot encode the public key: {e}"))?;
        let public = public.as_bytes();
        let leaf = certs
            .iter()
            .position(|c| c.windows(public.len()).any(|w| w == public))
            .ok_or_else(|| "key doesn't match any certificate".to_owned())?;
        let leaf_der = certs.remove(leaf);
        certs.insert(0, leaf_der);
        Ok(ClientCertificate { key, chain: certs })
    }

    /// The leaf's SHA-1 thumbprint as MSAL Go puts it in `x5t`: standard
    /// base64 with padding (not base64url).
    pub(super) fn x5t(&self) -> String {
        let digest = <sha1::Sha1 as sha1::Digest>::digest(&self.chain[0]);
        base64::engine::general_purpose::STANDARD.encode(digest)
    }

    /// The signed client assertion for `client_id` at `token_url`.
    pub(super) fn assertion(&self, client_id: &str, token_url: &str, now: u64, jti: &str, send_chain: bool) -> Result<String, String> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), "RS256".into());
        header.insert("typ".into(), "JWT".into());
        header.insert("x5t".into(), self.x5t().into());
        if send_chain {
            let chain = self.chain.iter().map(|c| base64::engine::general_purpose::STANDARD.encode(c).into()).collect();
            header.insert("x5c".into(), serde_json::Value::Array(chain));
        }
        let claims = serde_json::json!({
            "aud": token_url,
            "exp": now + ASSERTION_LIFETIME,
            "iss": client_id,
            "jti": jti,
            "nbf": now,
            "sub": client_id,
        });
        let header = serde_json::to_vec(&serde_json::Value::Object(header)).map_err(|e| e.to_string())?;
        let claims = serde_json::to_vec(&claims).map_err(|e| e.to_string())?;
        let signing_input = format!("{}.{}", b64.encode(header), b64.encode(claims));
        let digest = sha2::Sha256::digest(signing_input.as_bytes());
        let padding = Pkcs1v15Sign { hash_len: Some(32), prefix: SHA256_DIGEST_INFO.to_vec().into_boxed_slice() };
        let signature = self
            .key
            .sign(padding, &digest)
            .map_err(|e| format!("unable to sign a JWT token using private key: {e}"))?;
        Ok(format!("{signing_input}.{}", b64.encode(signature)))
    }
}

/// `<authority host>/<tenant>/oauth2/v2.0/token`, the host defaulting to
/// `https://login.microsoftonline.com/` (a missing trailing slash added).
pub(super) fn token_url(authority_host: Option<&str>, tenant: &str) -> String {
    let host = authority_host.unwrap_or(DEFAULT_AUTHORITY);
    let slash = if host.ends_with('/') { "" } else { "/" };
    format!("{host}{slash}{tenant}/oauth2/v2.0/token")
}

/// Go's `*PathError` text for the common cases of reading a file.
fn go_open_error(path: &str, e: &std::io::Error) -> String {
    let reason = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    };
    format!("open {path}: {reason}")
}

/// The PEM blocks of `text` as (label, DER); text outside blocks is
/// ignored, as Go's `pem.Decode` does. Encrypted legacy PEM (with
/// `Proc-Type` headers) is refused.
fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some((label, body)) = &mut current {
            if line.strip_prefix("-----END ").and_then(|l| l.strip_suffix("-----")).is_some() {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .map_err(|_| format!("a {label} block is not valid base64"))?;
                out.push((std::mem::take(label), der));
                current = None;
            } else if line.contains(':') {
                return Err("rsops cannot read an encrypted private key; decrypt it first".to_owned());
            } else {
                body.push_str(line);
            }
        } else if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            current = Some((label.to_owned(), String::new()));
        }
    }
    Ok(out)
}

/// A random version-4 UUID for the assertion's `jti`.
fn new_jti() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = b.iter().fold(String::with_capacity(32), |mut h, x| {
        let _ = write!(h, "{x:02x}");
        h
    });
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The credential: a certificate, where to post the assertion, and the
/// HTTPS client (the SDK's, so `SSL_CERT_FILE` and `HTTPS_PROXY` apply).
pub(super) struct CertificateCredential {
    client_id: String,
    token_url: String,
    certificate: ClientCertificate,
    send_chain: bool,
    http: Arc<dyn HttpClient>,
}

impl CertificateCredential {
    /// The credential from `env` (tenant and client id already checked).
    pub(super) fn new(env: &AzureEnv, tenant: &str, client_id: &str, path: &str) -> Result<CertificateCredential, String> {
        let certificate = ClientCertificate::load(path)?;
        Ok(CertificateCredential {
            client_id: client_id.to_owned(),
            token_url: token_url(env.authority_host.as_deref(), tenant),
            certificate,
            send_chain: env.send_certificate_chain,
            http: azure_core::http::new_http_client(None),
        })
    }

    /// A token for `scopes` (the Key Vault authorizer asks for one
    /// `<resource>/.default`).
    pub(super) async fn token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let failed = |m: String| CredentialError::Failed(m);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let assertion = self.certificate.assertion(&self.client_id, &self.token_url, now, &new_jti(), self.send_chain).map_err(failed)?;
        let url = Url::parse(&self.token_url).map_err(|e| failed(format!("invalid authority host in {:?}: {e}", self.token_url)))?;
        let mut form = Url::parse("http://form/").map_err(|e| failed(e.to_string()))?;
        form.query_pairs_mut()
            .append_pair("client_assertion", &assertion)
            .append_pair("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_info", "1")
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &scopes.join(" "));
        let body = form.query().unwrap_or_default().to_owned();
        let mut request = Request::new(url, Method::Post);
        request.insert_header("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        request.set_body(body);
        let response = self.http.execute_request(&request).await.map_err(|e| failed(format!("{e}\n{TROUBLESHOOT}")))?;
        let (status, _headers, body) = response.deconstruct();
        let body = body.collect().await.map_err(|e| failed(e.to_string()))?;
        if !status.is_success() {
            // As azidentity prints MSAL's failure: the endpoint's answer
            // without an error code line, then the troubleshooting link.
            let answer = response_error("POST", &self.token_url, u16::from(status), None, &body).replace("ERROR CODE UNAVAILABLE\n", "");
            return Err(failed(format!("\n{answer}{TROUBLESHOOT}")));
        }
        parse_token(&body, now).ok_or_else(|| failed(format!("\nunexpected response from the token endpoint {}\n{TROUBLESHOOT}", self.token_url)))
    }
}

/// `{"access_token": …, "expires_in": <seconds> or "<seconds>"}`.
fn parse_token(body: &[u8], now: u64) -> Option<AccessToken> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = value.get("access_token")?.as_str()?.to_owned();
    let lifetime = match value.get("expires_in")? {
        serde_json::Value::String(s) => s.parse::<u64>().ok()?,
        serde_json::Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    let at = i64::try_from(now.checked_add(lifetime)?).ok()?;
    let expires_on = azure_core::time::OffsetDateTime::from_unix_timestamp(at).ok()?;
    Some(AccessToken::new(Secret::new(token), expires_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key and a stand-in "certificate" that embeds its public key the
    /// way an X.509 `SubjectPublicKeyInfo` does (the loader only looks for
    /// those bytes and hashes the DER).
    fn pem_pair(bits: usize) -> (RsaPrivateKey, String, Vec<u8>) {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits).unwrap();
        let mut cert = b"\x30\x82fake-tbs".to_vec();
        cert.extend_from_slice(key.to_public_key().to_pkcs1_der().unwrap().as_bytes());
        let key_pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap().to_string();
        let cert_pem = pem("CERTIFICATE", &cert);
        (key, format!("{key_pem}{cert_pem}"), cert)
    }

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[test]
    fn assertion_is_a_verifiable_rs256_jwt_with_msal_header() {
        let (key, text, cert) = pem_pair(1024);
        let other = pem("CERTIFICATE", b"\x30\x82another-cert");
        // The matching certificate comes after an unrelated one in the file.
        let parsed = ClientCertificate::parse(format!("{other}{text}").as_bytes()).unwrap();
        assert_eq!(parsed.chain[0], cert, "the leaf is the certificate of the key");
        let jwt = parsed.assertion("client-1", "https://login.example/t/oauth2/v2.0/token", 1000, "jti-1", true).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        let thumb = <sha1::Sha1 as sha1::Digest>::digest(&cert);
        assert_eq!(header["x5t"], base64::engine::general_purpose::STANDARD.encode(thumb));
        assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
        assert_eq!(header["x5c"][0], base64::engine::general_purpose::STANDARD.encode(&cert));
        assert_eq!(claims["aud"], "https://login.example/t/oauth2/v2.0/token");
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("client-1"), Some("client-1")));
        assert_eq!((claims["nbf"].as_u64(), claims["exp"].as_u64()), (Some(1000), Some(1600)));
        let digest = sha2::Sha256::digest(format!("{}.{}", parts[0], parts[1]).as_bytes());
        let padding = Pkcs1v15Sign { hash_len: Some(32), prefix: SHA256_DIGEST_INFO.to_vec().into_boxed_slice() };
        key.to_public_key().verify(padding, &digest, &b64.decode(parts[2]).unwrap()).expect("the signature verifies");
        // Without the chain flag there is no x5c.
        let jwt = parsed.assertion("c", "u", 1, "j", false).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&b64.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
        assert!(header.get("x5c").is_none(), "{header}");
    }

    #[test]
    fn unusable_files_read_like_azidentity() {
        let (_, text, _) = pem_pair(1024);
        let key_only: String = text.split("-----BEGIN CERTIFICATE").next().unwrap().to_owned();
        assert_eq!(ClientCertificate::parse(key_only.as_bytes()).unwrap_err(), "found no certificate");
        let cert_only = &text[text.find("-----BEGIN CERTIFICATE").unwrap()..];
        assert_eq!(ClientCertificate::parse(cert_only.as_bytes()).unwrap_err(), "found no private key");
        let (_, other, _) = pem_pair(1024);
        let mismatched = format!("{key_only}{}", &other[other.find("-----BEGIN CERTIFICATE").unwrap()..]);
        assert_eq!(ClientCertificate::parse(mismatched.as_bytes()).unwrap_err(), "key doesn't match any certificate");
        assert!(ClientCertificate::parse(b"\x30\x82binary pkcs12").unwrap_err().contains("PKCS#12"));
        let err = ClientCertificate::load("/nonexistent/cert.pem").unwrap_err();
        assert_eq!(err, "failed to read certificate file \"/nonexistent/cert.pem\": open /nonexistent/cert.pem: no such file or directory");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pem");
        std::fs::write(&path, cert_only).unwrap();
        let err = ClientCertificate::load(path.to_str().unwrap()).unwrap_err();
        assert!(err.starts_with(&format!("failed to parse {:?} due to error \"found no private key\"", path.to_str().unwrap())), "{err}");
        assert!(!format!("{:?}", ClientCertificate::parse(text.as_bytes()).unwrap()).contains("PRIVATE"));
    }

    #[test]
    fn token_urls_and_answers() {
        assert_eq!(token_url(None, "t1"), "https://login.microsoftonline.com/t1/oauth2/v2.0/token");
        assert_eq!(token_url(Some("https://127.0.0.1:99"), "t"), "https://127.0.0.1:99/t/oauth2/v2.0/token");
        assert_eq!(token_url(Some("https://h/"), "t"), "https://h/t/oauth2/v2.0/token");
        let t = parse_token(br#"{"token_type":"Bearer","expires_in":3599,"access_token":"abc"}"#, 100).unwrap();
        assert_eq!((t.token.secret(), t.expires_on.unix_timestamp()), ("abc", 3699));
        assert_eq!(parse_token(br#"{"expires_in":"60","access_token":"x"}"#, 0).unwrap().expires_on.unix_timestamp(), 60);
        assert!(parse_token(br#"{"access_token":"x"}"#, 0).is_none());
        let jti = new_jti();
        assert_eq!((jti.len(), &jti[14..15]), (36, "4"));
        assert_ne!(jti, new_jti());
    }
}
