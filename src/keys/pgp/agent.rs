//! Decrypting with a key that only gpg-agent can use (passphrase-protected
//! or on a smartcard), by talking the Assuan protocol to an agent that is
//! already running. rsops never starts an agent: with no socket answering,
//! this path fails and the `gpg` binary fallback takes over, as in sops.
//!
//! The exchange is gpg's own (`PKDECRYPT`, GnuPG's `g10/pubkey-enc.c`):
//! `SETKEY <keygrip>`, `SETKEYDESC`, `PKDECRYPT`, the ciphertext sent as an
//! `enc-val` S-expression in answer to `INQUIRE CIPHERTEXT`, the result
//! read back as `(value …)`. For RSA the agent returns the raw PKCS#1 v1.5
//! block, unpadded here; for ECDH the shared point, from which sequoia
//! derives the key-encryption key and unwraps the session key. The agent
//! asks for a passphrase through its own pinentry if it needs one.
//!
//! Where the socket is: `GPG_AGENT_INFO` (text before the first `:`), then
//! GnuPG's socket directory (`/run/user/<uid>/gnupg`, with a `d.<hash>`
//! subdirectory for a non-default home), then the home itself, where the
//! socket file may hold an `%Assuan%` redirect.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sequoia_openpgp as openpgp;

use openpgp::crypto::{mpi, Decryptor, SessionKey};
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::{Key, PKESK};
use openpgp::types::{Curve, SymmetricAlgorithm};
use zeroize::Zeroizing;

use super::PgpEnv;

/// Where the agent's socket may be, in the order tried.
pub(super) struct Location {
    candidates: Vec<PathBuf>,
    display: Option<String>,
}

/// GnuPG's z-base-32 alphabet (`common/zb32.c`).
const ZB32: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

fn zb32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ZB32[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ZB32[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

fn sha1(data: &[u8]) -> Option<Vec<u8>> {
    let mut ctx = openpgp::types::HashAlgorithm::SHA1.context().ok()?.for_digest();
    ctx.update(data);
    ctx.into_digest().ok()
}

impl Location {
    pub(super) fn new(env: &PgpEnv, home: &Path) -> Location {
        let mut candidates = Vec::new();
        if let Some(info) = env.agent_info.as_ref().filter(|v| !v.is_empty()) {
            let info = info.to_string_lossy();
            let socket = info.split(':').next().unwrap_or_default();
            if !socket.is_empty() {
                candidates.push(PathBuf::from(socket));
            }
        }
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            let default_home = env
                .home
                .as_ref()
                .map(|h| PathBuf::from(h).join(".gnupg"))
                .is_some_and(|d| d == home);
            for base in ["/run/user", "/var/run/user"] {
                let dir = Path::new(base).join(meta.uid().to_string()).join("gnupg");
                if default_home {
                    candidates.push(dir.join("S.gpg-agent"));
                } else if let Some(hash) = sha1(home.as_os_str().as_encoded_bytes()) {
                    candidates.push(dir.join(format!("d.{}", zb32(&hash[..15]))).join("S.gpg-agent"));
                }
            }
        }
        candidates.push(home.join("S.gpg-agent"));
        Location { candidates, display: None }
    }

    fn connect(&self) -> Result<UnixStream, String> {
        for path in &self.candidates {
            let target = redirect(path).unwrap_or_else(|| path.clone());
            if let Ok(stream) = UnixStream::connect(&target) {
                return Ok(stream);
            }
        }
        Err("no gpg-agent is running".to_owned())
    }
}

/// An `%Assuan%` socket file's `socket=` target.
fn redirect(path: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    (lines.next()? == "%Assuan%").then_some(())?;
    lines.find_map(|l| l.strip_prefix("socket=")).map(PathBuf::from)
}

/// One Assuan connection.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

/// Percent-escapes what Assuan lines cannot carry raw.
fn escape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &b in data {
        if matches!(b, b'%' | b'\r' | b'\n' | b'\\') {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() + 1 {
            if let Some(v) = data.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

impl Conn {
    fn open(location: &Location) -> Result<Conn, String> {
        let stream = location.connect()?;
        // A pinentry may take a person's time; a dead agent should not hang us forever.
        let _ = stream.set_read_timeout(Some(Duration::from_mins(5)));
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        let mut conn = Conn { reader: BufReader::new(stream), writer };
        conn.response(|_| Ok(Vec::new()))?;
        Ok(conn)
    }

    fn send(&mut self, line: &[u8]) -> Result<(), String> {
        let mut buf = line.to_vec();
        buf.push(b'\n');
        self.writer.write_all(&buf).map_err(|e| format!("writing to gpg-agent: {e}"))
    }

    /// Reads until `OK` or `ERR`, collecting `D` data; `inquire` answers
    /// `INQUIRE` requests.
    fn response(
        &mut self,
        mut inquire: impl FnMut(&[u8]) -> Result<Vec<Vec<u8>>, String>,
    ) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut data = Zeroizing::new(Vec::new());
        loop {
            let mut line = Zeroizing::new(Vec::new());
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading from gpg-agent: {e}"))?;
            if n == 0 {
                return Err("gpg-agent closed the connection".to_owned());
            }
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            if line == b"OK" || line.starts_with(b"OK ") {
                return Ok(data);
            } else if let Some(err) = line.strip_prefix(b"ERR ") {
                let text = String::from_utf8_lossy(err);
                // `ERR <code> <description>`: keep the description.
                let desc = text.split_once(' ').map_or(&*text, |(_, d)| d);
                return Err(desc.trim().to_owned());
            } else if let Some(d) = line.strip_prefix(b"D ") {
                data.extend_from_slice(&unescape(d));
            } else if let Some(keyword) = line.strip_prefix(b"INQUIRE ") {
                let lines = inquire(keyword)?;
                for l in lines {
                    self.send(&l)?;
                }
                self.send(b"END")?;
            }
            // `S` status and `#` comment lines carry nothing we need.
        }
    }

    fn command(&mut self, line: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        self.send(line.as_bytes())?;
        self.response(|_| Err("unexpected INQUIRE from gpg-agent".to_owned()))
    }
}

/// A canonical S-expression atom.
fn atom(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// Decrypts one PKESK with the agent's key `keygrip`.
pub(super) fn decrypt(
    location: &Location,
    keygrip: &str,
    key: &Key<PublicParts, UnspecifiedRole>,
    pkesk: &PKESK,
    sym_algo: Option<SymmetricAlgorithm>,
) -> Result<(Option<SymmetricAlgorithm>, SessionKey), String> {
    let mut agent = AgentDecryptor { location, keygrip, key, error: None };
    match pkesk.decrypt(&mut agent, sym_algo) {
        Some(out) => Ok(out),
        None => Err(agent.error.unwrap_or_else(|| "the session key did not decrypt".to_owned())),
    }
}

struct AgentDecryptor<'a> {
    location: &'a Location,
    keygrip: &'a str,
    key: &'a Key<PublicParts, UnspecifiedRole>,
    error: Option<String>,
}

impl AgentDecryptor<'_> {
    fn ask(&self, ciphertext: &mpi::Ciphertext) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut sexp = b"(7:enc-val".to_vec();
        match ciphertext {
            mpi::Ciphertext::RSA { c } => {
                sexp.extend_from_slice(b"(3:rsa(1:a");
                atom(&mut sexp, c.value());
                sexp.extend_from_slice(b"))");
            }
            mpi::Ciphertext::ECDH { e, key } => {
                sexp.extend_from_slice(b"(4:ecdh(1:s");
                atom(&mut sexp, key);
                sexp.extend_from_slice(b")(1:e");
                atom(&mut sexp, e.value());
                sexp.extend_from_slice(b"))");
            }
            mpi::Ciphertext::ElGamal { e, c } => {
                sexp.extend_from_slice(b"(3:elg(1:a");
                atom(&mut sexp, e.value());
                sexp.extend_from_slice(b")(1:b");
                atom(&mut sexp, c.value());
                sexp.extend_from_slice(b"))");
            }
            _ => return Err("unsupported public-key algorithm".to_owned()),
        }
        sexp.push(b')');

        let mut conn = Conn::open(self.location)?;
        if let Some(display) = &self.location.display {
            let _ = conn.command(&format!("OPTION display={display}"));
        }
        conn.command(&format!("SETKEY {}", self.keygrip))?;
        let id = self.key.keyid().to_hex();
        conn.command(&format!("SETKEYDESC Unlock+key+{id}+to+decrypt+sops's+key"))?;
        conn.send(b"PKDECRYPT")?;
        let answer = conn.response(|keyword| {
            if keyword.starts_with(b"CIPHERTEXT") {
                // Assuan lines are at most 1000 bytes: send in pieces.
                let escaped = escape(&sexp);
                Ok(escaped
                    .chunks(900)
                    .map(|c| [b"D ".as_slice(), c].concat())
                    .collect())
            } else {
                Ok(Vec::new())
            }
        })?;
        value(&answer)
    }
}

/// The bytes of `(5:value<n>:…)` in the agent's answer.
fn value(answer: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let start = answer
        .windows(7)
        .position(|w| w == b"5:value")
        .ok_or_else(|| "gpg-agent returned no value".to_owned())?
        + 7;
    let rest = &answer[start..];
    let colon = rest.iter().position(|&c| c == b':').ok_or_else(|| "malformed agent answer".to_owned())?;
    let len: usize = std::str::from_utf8(&rest[..colon])
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| "malformed agent answer".to_owned())?;
    rest.get(colon + 1..colon + 1 + len)
        .map(|v| Zeroizing::new(v.to_vec()))
        .ok_or_else(|| "malformed agent answer".to_owned())
}

/// Removes PKCS#1 v1.5 type 2 padding (`00 02 PS 00 M`); the agent's raw
/// result may lack the leading zero.
fn unpad_pkcs1(block: &[u8]) -> Option<&[u8]> {
    let block = block.strip_prefix(&[0]).unwrap_or(block);
    let rest = block.strip_prefix(&[2])?;
    let sep = rest.iter().position(|&b| b == 0)?;
    (sep >= 8).then(|| &rest[sep + 1..])
}

impl Decryptor for AgentDecryptor<'_> {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        self.key
    }

    fn decrypt(
        &mut self,
        ciphertext: &mpi::Ciphertext,
        plaintext_len: Option<usize>,
    ) -> openpgp::Result<SessionKey> {
        let fail = |this: &mut Self, e: String| -> openpgp::Result<SessionKey> {
            this.error = Some(e.clone());
            Err(openpgp::Error::InvalidOperation(e).into())
        };
        let answer = match self.ask(ciphertext) {
            Ok(a) => a,
            Err(e) => return fail(self, e),
        };
        match ciphertext {
            mpi::Ciphertext::RSA { .. } | mpi::Ciphertext::ElGamal { .. } => match unpad_pkcs1(&answer) {
                Some(m) => Ok(SessionKey::from(m.to_vec())),
                None => fail(self, "gpg-agent's result is not PKCS#1 padded".to_owned()),
            },
            mpi::Ciphertext::ECDH { .. } => {
                // The agent returns the shared point; X25519's carries a
                // 0x40 prefix that the KDF must not see.
                let point: &[u8] = match self.key.mpis() {
                    mpi::PublicKey::ECDH { curve: Curve::Cv25519, .. } => {
                        answer.strip_prefix(&[0x40]).unwrap_or(&answer)
                    }
                    mpi::PublicKey::ECDH { curve, .. } => {
                        // Uncompressed point 04||x||y: the secret is x.
                        let size = curve.field_size().unwrap_or(0);
                        answer.get(1..1 + size).unwrap_or(&answer)
                    }
                    _ => &answer,
                };
                let shared: openpgp::crypto::mem::Protected = point.to_vec().into();
                openpgp::crypto::ecdh::decrypt_unwrap(self.key, &shared, ciphertext, plaintext_len)
            }
            _ => fail(self, "unsupported public-key algorithm".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zbase32_as_gnupg() {
        // GnuPG's zb32 test vectors (common/t-zb32.c).
        assert_eq!(zb32(&[0xF0, 0xBF, 0xC7]), "6n9hq");
        assert_eq!(zb32(&[0xD4, 0x7A, 0x04]), "4t7ye");
        assert_eq!(zb32(&[]), "");
    }

    #[test]
    fn assuan_escaping_round_trips() {
        let raw = b"(1:a3:%\n\r)\\";
        let esc = escape(raw);
        assert!(!esc.contains(&b'\n') && !esc.contains(&b'\r'));
        assert_eq!(unescape(&esc), raw);
    }

    #[test]
    fn pkcs1_unpadding() {
        let mut block = vec![0, 2];
        block.extend([0xAA; 8]);
        block.push(0);
        block.extend(b"key");
        assert_eq!(unpad_pkcs1(&block), Some(&b"key"[..]));
        assert_eq!(unpad_pkcs1(&block[1..]), Some(&b"key"[..]));
        let short = [2, 1, 0, 9];
        assert_eq!(unpad_pkcs1(&short), None);
        assert_eq!(value(b"(5:value3:abc)").unwrap().as_slice(), b"abc");
        assert!(value(b"(4:nope)").is_err());
    }
}
