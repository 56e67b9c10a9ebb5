//! Base64 decoding with Go's `encoding/base64` strict-mode rules and error
//! offsets, as age's armour (`StdEncoding.Strict()`) and header
//! (`RawStdEncoding.Strict()`) use it.
//!
//! sops reports a bad line as `illegal base64 data at input byte N`, so the
//! offset must be Go's (format.md §6.2; verified against sops 3.11). Go skips
//! `\r` and `\n` inside the input; callers that must reject them check first.
//! Encoding needs no such care and uses the `base64` crate.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

/// Go's `CorruptInputError`: the offset of the first offending input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CorruptInput(pub(super) usize);

impl std::fmt::Display for CorruptInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.0)
    }
}

/// Standard alphabet with `=` padding (the armour lines).
pub(super) fn decode_padded(src: &[u8]) -> Result<Vec<u8>, CorruptInput> {
    decode(src, true)
}

/// Standard alphabet without padding (header arguments, bodies and MAC).
pub(super) fn decode_raw(src: &[u8]) -> Result<Vec<u8>, CorruptInput> {
    decode(src, false)
}

pub(super) fn encode_padded(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub(super) fn encode_raw(data: &[u8]) -> String {
    STANDARD_NO_PAD.encode(data)
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Decodes quantum by quantum as Go's `decodeQuantum` does, so that the
/// reported offset is the one Go reports.
fn decode(src: &[u8], padded: bool) -> Result<Vec<u8>, CorruptInput> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    while si < src.len() {
        let mut quantum = [0u8; 4];
        let mut len = 4;
        let mut trailing = None;
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                if j == 1 || padded {
                    return Err(CorruptInput(si - j));
                }
                len = j;
                break;
            }
            let c = src[si];
            si += 1;
            if let Some(v) = value(c) {
                quantum[j] = v;
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if !padded || c != b'=' || j < 2 {
                return Err(CorruptInput(si - 1));
            }
            // Padding: "==" after two characters, "=" after three.
            if j == 2 {
                while si < src.len() && is_newline(src[si]) {
                    si += 1;
                }
                if si == src.len() {
                    return Err(CorruptInput(src.len()));
                }
                if src[si] != b'=' {
                    return Err(CorruptInput(si - 1));
                }
                si += 1;
            }
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(CorruptInput(si));
            }
            len = j;
            break;
        }
        let val = u32::from(quantum[0]) << 18
            | u32::from(quantum[1]) << 12
            | u32::from(quantum[2]) << 6
            | u32::from(quantum[3]);
        let [_, b0, b1, b2] = val.to_be_bytes();
        // Strict mode: the bits below the last full byte must be zero.
        match len {
            4 => out.extend_from_slice(&[b0, b1, b2]),
            3 => {
                if b2 != 0 {
                    return Err(CorruptInput(si - 1));
                }
                out.extend_from_slice(&[b0, b1]);
            }
            _ => {
                if b1 != 0 || b2 != 0 {
                    return Err(CorruptInput(si - 2));
                }
                out.push(b0);
            }
        }
        if let Some(err) = trailing {
            return Err(err);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for n in 0u8..70 {
            let data: Vec<u8> = (0..n)
                .map(|i| i.wrapping_mul(37).wrapping_add(11))
                .collect();
            assert_eq!(
                decode_padded(encode_padded(&data).as_bytes()).unwrap(),
                data
            );
            assert_eq!(decode_raw(encode_raw(&data).as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn offsets_match_go() {
        // Both observed from sops 3.11 on a corrupted armour line (format.md §6.2).
        assert_eq!(decode_padded(b"YWdlLWV!"), Err(CorruptInput(7)));
        let line = b"oq4FtH6jwTN/2L8yt0XhblfmPLGwHKCls8dvBXhVyL7uyEqwWEQYFQ";
        assert_eq!(decode_padded(line), Err(CorruptInput(52)));
        // Padding rules of Go's decodeQuantum.
        assert_eq!(decode_padded(b"QQ="), Err(CorruptInput(3)));
        assert_eq!(decode_padded(b"QQ=x"), Err(CorruptInput(2)));
        assert_eq!(decode_padded(b"Q==="), Err(CorruptInput(1)));
        assert_eq!(decode_padded(b"QQ==QQ=="), Err(CorruptInput(4)));
        // Non-zero padding bits are rejected in strict mode.
        assert_eq!(decode_padded(b"QR=="), Err(CorruptInput(2)));
        assert_eq!(decode_padded(b"QUJ="), Err(CorruptInput(3)));
        assert_eq!(decode_raw(b"QR"), Err(CorruptInput(0)));
        // Raw: no padding allowed, a lone last character is an error.
        assert_eq!(decode_raw(b"QQ=="), Err(CorruptInput(2)));
        assert_eq!(decode_raw(b"QUJDR"), Err(CorruptInput(4)));
        assert_eq!(decode_raw(b"QQ").unwrap(), b"A");
    }

    #[test]
    fn newlines_are_skipped_like_go() {
        assert_eq!(decode_padded(b"QU\nJD").unwrap(), b"ABC");
    }
}
