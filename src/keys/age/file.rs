//! The binary age v1 file inside the armour: header, header MAC and payload,
//! written and read as Go age 1.3 (the library in the sops 3.11 build we
//! match) does.
//!
//! Why not `age::Encryptor`/`Decryptor`: the `age` crate adds a random
//! "grease" stanza to every file it writes, while sops writes exactly one
//! stanza per `enc` (format.md §6.2), and the crate's read errors are not the
//! texts sops prints. So this module owns the container and leaves the
//! per-recipient cryptography to the crate's [`age::Recipient`] and
//! [`age::Identity`] traits: wrapping and unwrapping the file key in a stanza.
//! Primitives come from `age-core`, `chacha20poly1305` and `hmac`.

use age_core::format::{FileKey, Stanza};
use age_core::primitives::hkdf;
use age_core::secrecy::ExposeSecret;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::armor::{Decoded, End};
use super::b64;
use crate::gotext::quote;

const INTRO: &[u8] = b"age-encryption.org/v1\n";
const FOOTER_PREFIX: &[u8] = b"---";
const STANZA_PREFIX: &[u8] = b"->";
const COLUMNS_PER_LINE: usize = 64;
const BYTES_PER_LINE: usize = COLUMNS_PER_LINE / 4 * 3;
const NONCE_BYTES: usize = 16;
const CHUNK_BYTES: usize = 64 * 1024;
const TAG_BYTES: usize = 16;
const SEALED_CHUNK_BYTES: usize = CHUNK_BYTES + TAG_BYTES;

/// A parsed header: the stanzas and the MAC stored after `---`.
pub(super) struct Header {
    pub(super) stanzas: Vec<Stanza>,
    mac: Vec<u8>,
}

/// Encrypts `plaintext` to one recipient: a complete binary age file with a
/// single stanza (per recipient stanza returned) and no grease.
pub(super) fn encrypt(recipient: &dyn age::Recipient, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let file_key = FileKey::init_with_mut(|k| OsRng.fill_bytes(k));
    let (stanzas, _labels) = recipient.wrap_file_key(&file_key).map_err(|e| {
        format!(
            "failed to create writer for encrypting sops data key with age: \
                 failed to wrap key for recipient #0: {e}"
        )
    })?;
    let mut out = marshal_without_mac(&stanzas);
    let mac = header_mac(&file_key, &out);
    out.push(b' ');
    out.extend_from_slice(b64::encode_raw(&mac).as_bytes());
    out.push(b'\n');

    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    out.extend_from_slice(&nonce);
    let key = payload_key(&file_key, &nonce);
    let aead = ChaCha20Poly1305::new((&*key).into());
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(CHUNK_BYTES).collect()
    };
    let last = chunks.len() - 1;
    for (counter, chunk) in chunks.into_iter().enumerate() {
        let nonce = chunk_nonce(counter as u64, counter == last);
        let sealed = aead
            .encrypt(&nonce, chunk)
            .map_err(|_| "failed to encrypt sops data key with age: chunk too large".to_owned())?;
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// The header up to and including `---`, as Go's `MarshalWithoutMAC`
/// re-encodes it. Go computes the MAC over this re-encoding, not over the
/// bytes as read, so the same function serves writing and checking.
fn marshal_without_mac(stanzas: &[Stanza]) -> Vec<u8> {
    let mut out = INTRO.to_vec();
    for stanza in stanzas {
        out.extend_from_slice(STANZA_PREFIX);
        for arg in std::iter::once(&stanza.tag).chain(&stanza.args) {
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.push(b'\n');
        let body = b64::encode_raw(&stanza.body);
        for line in body.as_bytes().chunks(COLUMNS_PER_LINE) {
            out.extend_from_slice(line);
            if line.len() == COLUMNS_PER_LINE {
                out.push(b'\n');
            }
        }
        // The body always ends with a short (possibly empty) line.
        out.push(b'\n');
    }
    out.extend_from_slice(FOOTER_PREFIX);
    out
}

/// HMAC-SHA256 keyed with HKDF(file key, "header"), fed the header text.
fn header_hmac(file_key: &FileKey, header: &[u8]) -> Hmac<Sha256> {
    let key = Zeroizing::new(hkdf(&[], b"header", file_key.expose_secret()));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&*key).expect("HMAC takes any key length");
    mac.update(header);
    mac
}

fn header_mac(file_key: &FileKey, header: &[u8]) -> [u8; 32] {
    header_hmac(file_key, header).finalize().into_bytes().into()
}

fn payload_key(file_key: &FileKey, nonce: &[u8; NONCE_BYTES]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(hkdf(nonce, b"payload", file_key.expose_secret()))
}

/// STREAM nonce: 88-bit big-endian chunk counter, then the last-chunk flag.
fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce.into()
}

/// A reader over the bytes the armour yielded, reproducing when Go's
/// buffered readers would hit the end of the input or its armour error.
pub(super) struct Input<'a> {
    data: &'a [u8],
    pos: usize,
    end: &'a End,
}

impl<'a> Input<'a> {
    pub(super) fn new(decoded: &'a Decoded) -> Self {
        Input {
            data: &decoded.data,
            pos: 0,
            end: &decoded.end,
        }
    }

    fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// The error a read past the good bytes returns: `EOF` or the armour's.
    fn end_error(&self) -> String {
        match self.end {
            End::Clean => "EOF".to_owned(),
            End::Error(e) => e.clone(),
        }
    }

    /// `bufio.Reader.ReadBytes('\n')`: the line with its `\n`, or the error
    /// (Go also consumes the partial line).
    fn read_line(&mut self) -> Result<&'a [u8], String> {
        let rest = self.remaining();
        if let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.pos += i + 1;
            Ok(&rest[..=i])
        } else {
            self.pos = self.data.len();
            Err(self.end_error())
        }
    }

    /// `bufio.Reader.Peek(n)`.
    fn peek(&self, n: usize) -> Result<&'a [u8], String> {
        let rest = self.remaining();
        if rest.len() >= n {
            Ok(&rest[..n])
        } else {
            Err(self.end_error())
        }
    }

    /// `io.ReadFull`: `EOF` if nothing was there, `unexpected EOF` if part
    /// was, or the underlying (armour) error.
    fn read_full(&mut self, n: usize) -> Result<&'a [u8], String> {
        let rest = self.remaining();
        if rest.len() >= n {
            self.pos += n;
            return Ok(&rest[..n]);
        }
        self.pos = self.data.len();
        match self.end {
            End::Error(e) => Err(e.clone()),
            End::Clean if rest.is_empty() => Err("EOF".to_owned()),
            End::Clean => Err("unexpected EOF".to_owned()),
        }
    }
}

/// Go's `format.ParseError`: the errors it wraps gain this prefix.
fn parse_error(message: impl std::fmt::Display) -> String {
    format!("parsing age header: {message}")
}

/// Go's `splitArgs`: the line without `\n`, split on single spaces.
fn split_args(line: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let prefix = parts.next().unwrap_or_default();
    (prefix, parts.collect())
}

/// Go's `isValidString`: non-empty, printable ASCII only.
fn is_valid_arg(arg: &[u8]) -> bool {
    !arg.is_empty() && arg.iter().all(|&c| (33..=126).contains(&c))
}

/// Go's `format.DecodeString`.
fn decode_header_b64(text: &[u8]) -> Result<Vec<u8>, String> {
    if text.contains(&b'\n') || text.contains(&b'\r') {
        return Err("unexpected newline character".to_owned());
    }
    b64::decode_raw(text).map_err(|e| e.to_string())
}

/// Reads the header as Go's `format.Parse` does. The error is the text
/// `age.Decrypt` returns, `failed to read header: …` included.
pub(super) fn parse_header(input: &mut Input<'_>) -> Result<Header, String> {
    parse_header_inner(input).map_err(|e| format!("failed to read header: {e}"))
}

fn parse_header_inner(input: &mut Input<'_>) -> Result<Header, String> {
    let intro = match input.read_line() {
        Ok(line) => line,
        // Go's ReadString gives io.EOF when no newline precedes a clean end.
        Err(_) if *input.end == End::Clean => return Err(parse_error("file is empty")),
        Err(e) => return Err(parse_error(format_args!("failed to read intro: {e}"))),
    };
    if intro != INTRO {
        return Err(parse_error(format_args!(
            "unexpected intro: {}",
            quote(intro)
        )));
    }
    let mut stanzas = Vec::new();
    loop {
        let peek = input
            .peek(FOOTER_PREFIX.len())
            .map_err(|e| parse_error(format_args!("failed to read header: {e}")))?;
        if peek == FOOTER_PREFIX {
            let line = input
                .read_line()
                .map_err(|e| format!("failed to read header: {e}"))?;
            let (prefix, args) = split_args(line);
            if prefix != FOOTER_PREFIX || args.len() != 1 {
                return Err(parse_error(format_args!(
                    "malformed closing line: {}",
                    quote(line)
                )));
            }
            let mac = match decode_header_b64(args[0]) {
                Ok(mac) if mac.len() == 32 => mac,
                Ok(_) => {
                    return Err(parse_error(format_args!(
                        "malformed closing line {}: <nil>",
                        quote(line)
                    )));
                }
                Err(e) => {
                    return Err(parse_error(format_args!(
                        "malformed closing line {}: {e}",
                        quote(line)
                    )));
                }
            };
            return Ok(Header { stanzas, mac });
        }
        let stanza = read_stanza(input).map_err(|e| format!("failed to parse header: {e}"))?;
        stanzas.push(stanza);
    }
}

/// Go's `StanzaReader.ReadStanza`.
fn read_stanza(input: &mut Input<'_>) -> Result<Stanza, String> {
    let line = input
        .read_line()
        .map_err(|e| format!("failed to read line: {e}"))?;
    if !line.starts_with(STANZA_PREFIX) {
        return Err(format!("malformed stanza opening line: {}", quote(line)));
    }
    let (prefix, args) = split_args(line);
    if prefix != STANZA_PREFIX || args.is_empty() || !args.iter().all(|a| is_valid_arg(a)) {
        return Err(format!("malformed stanza: {}", quote(line)));
    }
    // Valid arguments are printable ASCII, so this never replaces anything.
    let mut args = args
        .into_iter()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    let tag = args.next().expect("checked non-empty");
    let args = args.collect();
    let mut body = Vec::new();
    loop {
        let line = input
            .read_line()
            .map_err(|e| format!("failed to read line: {e}"))?;
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let bytes = match decode_header_b64(text) {
            Ok(bytes) => bytes,
            Err(_) if line.starts_with(FOOTER_PREFIX) || line.starts_with(STANZA_PREFIX) => {
                return Err(format!(
                    "malformed body line {}: stanza ended without a short line\nnote: this might be a \
                     file encrypted with an old beta version of age or rage; use age v1.0.0-beta6 or \
                     rage to decrypt it",
                    quote(line)
                ));
            }
            Err(e) => {
                return Err(parse_error(format_args!(
                    "malformed body line {}: {e}",
                    quote(line)
                )))
            }
        };
        if bytes.len() > BYTES_PER_LINE {
            return Err(parse_error(format_args!(
                "malformed body line {}: too long",
                quote(line)
            )));
        }
        body.extend_from_slice(&bytes);
        if bytes.len() < BYTES_PER_LINE {
            return Ok(Stanza { tag, args, body });
        }
    }
}

/// Go's header MAC check in `decryptHdr`.
pub(super) fn verify_mac(header: &Header, file_key: &FileKey) -> Result<(), String> {
    // verify_slice compares in constant time.
    header_hmac(file_key, &marshal_without_mac(&header.stanzas))
        .verify_slice(&header.mac)
        .map_err(|_| "bad header MAC".to_owned())
}

/// Reads the payload nonce after the header (`age.Decrypt`); its error is
/// part of the "create reader" failure in sops.
pub(super) fn read_nonce(input: &mut Input<'_>) -> Result<[u8; NONCE_BYTES], String> {
    let bytes = input
        .read_full(NONCE_BYTES)
        .map_err(|e| format!("failed to read nonce: {e}"))?;
    Ok(bytes.try_into().expect("read_full returned NONCE_BYTES"))
}

/// Decrypts the STREAM payload as Go's `stream.DecryptReader` does; errors
/// are what sops's `io.Copy` reports.
pub(super) fn decrypt_payload(
    input: &mut Input<'_>,
    file_key: &FileKey,
    nonce: &[u8; NONCE_BYTES],
) -> Result<Zeroizing<Vec<u8>>, String> {
    const AUTH_FAILED: &str =
        "failed to decrypt and authenticate payload chunk, file may be corrupted or tampered with";
    let key = payload_key(file_key, nonce);
    let aead = ChaCha20Poly1305::new((&*key).into());
    let mut plaintext = Zeroizing::new(Vec::new());
    let mut counter: u64 = 0;
    loop {
        let rest = input.remaining();
        let (sealed, mut last) = if rest.len() >= SEALED_CHUNK_BYTES {
            (input.read_full(SEALED_CHUNK_BYTES)?, false)
        } else {
            match input.end {
                End::Error(e) => return Err(e.clone()),
                End::Clean if rest.is_empty() => return Err("unexpected EOF".to_owned()),
                End::Clean => {}
            }
            if counter != 0 && rest.len() == TAG_BYTES {
                return Err(
                    "last chunk is empty, try age v1.0.0, and please consider reporting this"
                        .to_owned(),
                );
            }
            (input.read_full(rest.len())?, true)
        };
        let mut opened = aead.decrypt(&chunk_nonce(counter, last), sealed);
        if opened.is_err() && !last {
            // A full-length chunk may be the last one.
            last = true;
            opened = aead.decrypt(&chunk_nonce(counter, true), sealed);
        }
        let chunk = Zeroizing::new(opened.map_err(|_| AUTH_FAILED.to_owned())?);
        plaintext.extend_from_slice(&chunk);
        counter += 1;
        if last {
            if !input.remaining().is_empty() {
                return Err("trailing data after end of encrypted file".to_owned());
            }
            if let End::Error(e) = input.end {
                return Err(format!(
                    "non-EOF error reading after end of encrypted file: {e}"
                ));
            }
            return Ok(plaintext);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::age::armor;
    use std::str::FromStr;

    const SECRET: &str = include_str!("../../../testdata/keys/age/test1.txt");

    fn identity() -> age::x25519::Identity {
        let line = SECRET
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .unwrap();
        age::x25519::Identity::from_str(line).unwrap()
    }

    fn open(binary: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let decoded = armor::decode(armor::encode(binary).as_bytes());
        let mut input = Input::new(&decoded);
        let header = parse_header(&mut input)?;
        let key = header
            .stanzas
            .iter()
            .find_map(|s| age::Identity::unwrap_stanza(&identity(), s))
            .ok_or("no match")?
            .map_err(|e| e.to_string())?;
        verify_mac(&header, &key)?;
        let nonce = read_nonce(&mut input)?;
        decrypt_payload(&mut input, &key, &nonce)
    }

    #[test]
    fn writes_a_single_stanza_without_grease() {
        let id = identity();
        let data = [42u8; 32];
        let binary = encrypt(&id.to_public(), &data).unwrap();
        let text = String::from_utf8_lossy(&binary);
        assert!(text.starts_with("age-encryption.org/v1\n-> X25519 "));
        assert_eq!(text.matches("\n-> ").count(), 1);
        // intro 22, stanza line 54, body 44, MAC line 48, nonce 16, 32 + tag 16:
        // the 232 bytes of every X25519 `enc` sops writes.
        assert_eq!(binary.len(), 232);
        assert_eq!(*open(&binary).unwrap(), data);
    }

    #[test]
    fn round_trips_multi_chunk_and_empty_payloads() {
        let id = identity();
        for len in [0, 1, 33, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES] {
            let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let binary = encrypt(&id.to_public(), &data).unwrap();
            assert_eq!(*open(&binary).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn header_and_payload_errors_are_go_texts() {
        let id = identity();
        let binary = encrypt(&id.to_public(), &[1u8; 32]).unwrap();
        let footer = binary.windows(4).position(|w| w == b"\n---").unwrap() + 1;
        let header_len = footer + binary[footer..].iter().position(|&b| b == b'\n').unwrap() + 1;

        let mut tampered = binary.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            open(&tampered).unwrap_err(),
            "failed to decrypt and authenticate payload chunk, file may be corrupted or tampered with"
        );

        let mut extra = binary.clone();
        extra.extend_from_slice(b"x");
        assert!(open(&extra).is_err());

        let mut bad_mac = binary.clone();
        // Not the last MAC character: its low bits are padding.
        bad_mac[header_len - 3] = if bad_mac[header_len - 3] == b'A' {
            b'B'
        } else {
            b'A'
        };
        assert_eq!(open(&bad_mac).unwrap_err(), "bad header MAC");

        assert_eq!(
            open(&binary[..header_len + 5]).unwrap_err(),
            "failed to read nonce: unexpected EOF"
        );
        assert_eq!(
            open(&binary[..header_len + 16]).unwrap_err(),
            "unexpected EOF"
        );
        assert_eq!(
            open(b"hello\n").unwrap_err(),
            "failed to read header: parsing age header: unexpected intro: \"hello\\n\""
        );
        assert_eq!(
            open(b"no newline").unwrap_err(),
            "failed to read header: parsing age header: file is empty"
        );
        assert_eq!(
            open(b"age-encryption.org/v1\n").unwrap_err(),
            "failed to read header: parsing age header: failed to read header: EOF"
        );
        assert_eq!(
            open(b"age-encryption.org/v1\nxx\n").unwrap_err(),
            "failed to read header: failed to parse header: malformed stanza opening line: \"xx\\n\""
        );
        assert_eq!(
            open(b"age-encryption.org/v1\n--- abc\n").unwrap_err(),
            "failed to read header: parsing age header: malformed closing line \"--- abc\\n\": <nil>"
        );
    }
}
