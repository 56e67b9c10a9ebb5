//! The secret-key files of gpg-agent (`private-keys-v1.d/<keygrip>.key`):
//! S-expressions in libgcrypt's canonical form (GnuPG 2.1/2.2 default) or
//! in the extended `Name: value` form whose `Key:` holds the advanced form
//! (GnuPG ≥ 2.2.20 writes it for imported keys, 2.3+ for all).
//!
//! What a file can hold, and what rsops does with it:
//!
//! - `(private-key (rsa (n …)(e …)(d …)(p …)(q …)(u …)))` and the
//!   `ecc`/`elg` forms: an unprotected key, used directly;
//! - `(protected-private-key (… (protected openpgp-native
//!   (openpgp-private-key … (skey _ #…# …) … (protection none)))))`: a key
//!   imported without passphrase and not yet converted by the agent — the
//!   OpenPGP secret values are there in clear, used directly;
//! - any other `protected-private-key` (passphrase) or
//!   `shadowed-private-key` (smartcard): only the public values are read,
//!   so the key can be found; the secret needs gpg-agent.
//!
//! No secret value is ever put into an error or `Debug` output.

use base64::Engine as _;
use zeroize::Zeroizing;

/// A parsed S-expression: atoms are raw bytes.
#[derive(PartialEq, Eq)]
pub(super) enum Sexp {
    Atom(Zeroizing<Vec<u8>>),
    List(Vec<Sexp>),
}

impl Sexp {
    fn atom(&self) -> Option<&[u8]> {
        match self {
            Sexp::Atom(a) => Some(a),
            Sexp::List(_) => None,
        }
    }

    fn items(&self) -> &[Sexp] {
        match self {
            Sexp::List(items) => items,
            Sexp::Atom(_) => &[],
        }
    }

    /// The list's first atom (its name).
    fn name(&self) -> Option<&[u8]> {
        self.items().first().and_then(Sexp::atom)
    }

    /// The first sub-list named `name`, searched at this level only.
    fn child(&self, name: &str) -> Option<&Sexp> {
        self.items().iter().find(|s| s.name() == Some(name.as_bytes()))
    }

    /// The value of `(name value)` at this level.
    fn value(&self, name: &str) -> Option<&[u8]> {
        self.child(name)?.items().get(1)?.atom()
    }
}

/// Parses one S-expression in canonical (`3:abc`) or advanced form
/// (tokens, `#hex#`, `"string"`, `|base64|`, display hints ignored).
pub(super) fn parse(input: &[u8]) -> Result<Sexp, String> {
    let mut p = Parser { s: input, pos: 0 };
    p.skip_space();
    let v = p.value()?;
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("invalid S-expression at byte {}: {what}", self.pos)
    }

    fn value(&mut self) -> Result<Sexp, String> {
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b')') => {
                            self.pos += 1;
                            return Ok(Sexp::List(items));
                        }
                        Some(b'[') => {
                            // A display hint: `[hint]` before an atom.
                            let end = self.s[self.pos..]
                                .iter()
                                .position(|&c| c == b']')
                                .ok_or_else(|| self.err("unterminated display hint"))?;
                            self.pos += end + 1;
                        }
                        Some(_) => items.push(self.value()?),
                        None => return Err(self.err("unterminated list")),
                    }
                }
            }
            Some(_) => self.atom().map(|a| Sexp::Atom(Zeroizing::new(a))),
            None => Err(self.err("unexpected end")),
        }
    }

    fn atom(&mut self) -> Result<Vec<u8>, String> {
        let c = self.peek().ok_or_else(|| self.err("unexpected end"))?;
        if c.is_ascii_digit() {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.peek() == Some(b':') {
                let len: usize = std::str::from_utf8(&self.s[start..self.pos])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| self.err("bad length"))?;
                self.pos += 1;
                let end = self.pos.checked_add(len).filter(|&e| e <= self.s.len());
                let end = end.ok_or_else(|| self.err("atom runs past the end"))?;
                let out = self.s[self.pos..end].to_vec();
                self.pos = end;
                return Ok(out);
            }
            // Not a length prefix: a token that starts with a digit.
            self.pos = start;
        }
        match c {
            b'#' => self.hex(),
            b'"' => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match self.peek() {
                        Some(b'"') => {
                            self.pos += 1;
                            return Ok(out);
                        }
                        Some(b'\\') => {
                            self.pos += 1;
                            let e = self.peek().ok_or_else(|| self.err("bad escape"))?;
                            self.pos += 1;
                            out.push(match e {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                other => other,
                            });
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        None => return Err(self.err("unterminated string")),
                    }
                }
            }
            b'|' => {
                self.pos += 1;
                let end = self.s[self.pos..]
                    .iter()
                    .position(|&c| c == b'|')
                    .ok_or_else(|| self.err("unterminated base64"))?;
                let text: Vec<u8> = self.s[self.pos..self.pos + end]
                    .iter()
                    .copied()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                self.pos += end + 1;
                base64::engine::general_purpose::STANDARD
                    .decode(&text)
                    .map_err(|_| self.err("bad base64"))
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_alphanumeric() || b"-./_:*+=".contains(&c)
                }) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err(self.err("unexpected character"));
                }
                Ok(self.s[start..self.pos].to_vec())
            }
        }
    }
}

impl Parser<'_> {
    /// `#…#`: hex digits, whitespace allowed between them.
    fn hex(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut hex = Vec::new();
        loop {
            match self.peek() {
                Some(b'#') => {
                    self.pos += 1;
                    break;
                }
                Some(c) if c.is_ascii_whitespace() => self.pos += 1,
                Some(c) if c.is_ascii_hexdigit() => {
                    hex.push(c);
                    self.pos += 1;
                }
                _ => return Err(self.err("bad hex string")),
            }
        }
        if hex.len() % 2 != 0 {
            return Err(self.err("odd hex string"));
        }
        Ok(hex
            .chunks(2)
            .map(|p| (hex_val(p[0]) << 4) | hex_val(p[1]))
            .collect())
    }
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// The S-expression inside a key file: the whole file in canonical form,
/// or the `Key:` item of the extended form (continuation lines start with
/// a space or tab).
pub(super) fn key_file_sexp(file: &[u8]) -> Result<Sexp, String> {
    if file.first() == Some(&b'(') {
        return parse(file);
    }
    let mut value: Option<Zeroizing<Vec<u8>>> = None;
    for line in file.split(|&c| c == b'\n') {
        let continued = line.first().is_some_and(|&c| c == b' ' || c == b'\t');
        match (&mut value, continued) {
            (Some(v), true) => {
                v.push(b'\n');
                v.extend_from_slice(line);
            }
            (Some(_), false) => break,
            (None, false) => {
                if let Some(rest) = line.strip_prefix(b"Key:") {
                    value = Some(Zeroizing::new(rest.to_vec()));
                }
            }
            (None, true) => {}
        }
    }
    let value = value.ok_or_else(|| "no Key: item in the extended key file".to_owned())?;
    parse(&value)
}

/// Secret values by their OpenPGP name, in the OpenPGP order.
pub(super) type SecretValues = Vec<(&'static str, Zeroizing<Vec<u8>>)>;

/// What a key file says about its key.
pub(super) struct AgentKey {
    /// The file's name without `.key`: the key's keygrip, which the agent
    /// knows it by (set by the caller that read the file).
    pub(super) keygrip: String,
    /// The public value that identifies the key: `n` (RSA), `q` (ECC),
    /// `y` (Elgamal), leading zero bytes removed.
    pub(super) public: Vec<u8>,
    /// The secret values when they are there in clear, by OpenPGP name:
    /// RSA `d p q u`, ECDH `d`, Elgamal `x`. `None`: protected or on a card.
    pub(super) secret: Option<SecretValues>,
}

/// Strips leading zero bytes, as MPIs compare.
pub(super) fn strip(v: &[u8]) -> &[u8] {
    let first = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    &v[first..]
}

/// Reads a parsed key file.
pub(super) fn agent_key(sexp: &Sexp) -> Result<AgentKey, String> {
    let kind = sexp.name().unwrap_or_default();
    let body = sexp
        .items()
        .get(1)
        .filter(|b| matches!(b, Sexp::List(_)))
        .ok_or_else(|| "key file holds no key".to_owned())?;
    let algo = String::from_utf8_lossy(body.name().unwrap_or_default()).into_owned();
    let public_name = match algo.as_str() {
        "rsa" | "openpgp-rsa" => "n",
        "elg" | "openpgp-elg" => "y",
        _ => "q",
    };
    let public = body
        .value(public_name)
        .map(|v| strip(v).to_vec())
        .ok_or_else(|| format!("{algo} key without its public value"))?;
    let names: &[&'static str] = match public_name {
        "n" => &["d", "p", "q", "u"],
        "y" => &["x"],
        _ => &["d"],
    };
    let secret = match kind {
        b"private-key" => names
            .iter()
            .map(|n| body.value(n).map(|v| (*n, Zeroizing::new(v.to_vec()))))
            .collect::<Option<Vec<_>>>(),
        b"protected-private-key" => body
            .child("protected")
            .filter(|p| p.items().get(1).and_then(Sexp::atom) == Some(b"openpgp-native"))
            .and_then(|p| p.items().get(2))
            .and_then(|native| openpgp_native(native, names.len())),
        _ => None,
    };
    Ok(AgentKey { keygrip: String::new(), public, secret })
}

/// The clear secret values of an `openpgp-private-key` with
/// `(protection none)`: the last `count` items of `skey`, each `_ value`.
fn openpgp_native(native: &Sexp, count: usize) -> Option<SecretValues> {
    if native.name() != Some(b"openpgp-private-key") {
        return None;
    }
    let protection = native.child("protection")?;
    if protection.items().get(1).and_then(Sexp::atom) != Some(b"none") {
        return None;
    }
    let skey = native.child("skey")?.items();
    let pairs: Vec<&[Sexp]> = skey[1..].chunks(2).collect();
    if pairs.len() < count || pairs.iter().any(|p| p.len() != 2 || p[0].atom() != Some(b"_")) {
        return None;
    }
    let names: &[&'static str] = match count {
        4 => &["d", "p", "q", "u"],
        _ if native.value("algo").is_some_and(|a| a.eq_ignore_ascii_case(b"elg")) => &["x"],
        _ => &["d"],
    };
    pairs[pairs.len() - count..]
        .iter()
        .zip(names)
        .map(|(p, n)| p[1].atom().map(|v| (*n, Zeroizing::new(v.to_vec()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_and_advanced_forms_agree() {
        let canonical = b"(11:private-key(3:rsa(1:n3:\x00\x01\x02)(1:e1:\x03)(1:d1:\x04)(1:p1:\x05)(1:q1:\x06)(1:u1:\x07)))";
        let advanced = b"(private-key (rsa (n #000102#)(e #03#)(d #04#)(p #05#)(q #06#)(u #07#)))";
        assert!(parse(canonical).unwrap() == parse(advanced).unwrap());
        let key = agent_key(&parse(canonical).unwrap()).unwrap();
        assert_eq!(key.public, vec![1, 2]);
        let secret = key.secret.unwrap();
        assert_eq!(secret.iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["d", "p", "q", "u"]);
        assert_eq!(&*secret[3].1, &[7]);
    }

    #[test]
    fn extended_file_with_openpgp_native_key() {
        let file = b"Created: 20190829T211925\nKey: (protected-private-key (rsa (n #00B6\n E9#)(e\n  #010001#)(protected openpgp-native (openpgp-private-key (version\n  \"4\")(algo RSA)(skey _ #B6E9# _ #010001# _\n  #0D# _ #11# _ #13# _ #17#)(csum \"1\")(protection none)))))\nOther: x\n";
        let key = agent_key(&key_file_sexp(file).unwrap()).unwrap();
        assert_eq!(key.public, vec![0xB6, 0xE9]);
        let secret = key.secret.unwrap();
        let values: Vec<u8> = secret.iter().map(|(_, v)| v[0]).collect();
        assert_eq!(values, [0x0D, 0x11, 0x13, 0x17]);
    }

    #[test]
    fn protected_and_shadowed_keys_have_no_clear_secret() {
        let protected = b"(protected-private-key (rsa (n #01#)(e #03#)(protected openpgp-s2k3-ocb-aes ((sha1 #00# \"1\") #00#) #00#)))";
        let key = agent_key(&parse(protected).unwrap()).unwrap();
        assert!(key.secret.is_none());
        let native_with_pass = b"(protected-private-key (rsa (n #01#)(e #03#)(protected openpgp-native (openpgp-private-key (version \"4\")(algo rsa)(skey _ #01# _ #03# e #00#)(csum \"1\")(protection sha1 aes #00# 3 sha1 #00# \"1\")))))";
        assert!(agent_key(&parse(native_with_pass).unwrap()).unwrap().secret.is_none());
        let shadowed = b"(shadowed-private-key (ecc (curve Curve25519)(q #40AA#)(shadowed t1-v1 (#D2#))))";
        let key = agent_key(&parse(shadowed).unwrap()).unwrap();
        assert_eq!(key.public, [0x40, 0xAA]);
        assert!(key.secret.is_none());
    }

    #[test]
    fn malformed_input_is_an_error_without_content() {
        for bad in [&b"(1:a"[..], b"(5:ab)", b"(#0#)", b"(\"x)", b"", b"(a ["] {
            let e = parse(bad).err().unwrap();
            assert!(e.starts_with("invalid S-expression"), "{e}");
        }
        assert!(key_file_sexp(b"Created: x\n").is_err());
    }
}
