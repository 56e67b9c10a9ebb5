//! The ASCII armour around the age file in an `enc` field, written and read
//! with the rules of Go age's `armor` package (format.md §6.2).
//!
//! Writing: begin marker, standard base64 in 64-column lines, end marker, each
//! line ending in `\n`. Reading follows Go's reader rather than the `age`
//! crate's, because sops accepts what Go accepts (leading blank lines, CRLF,
//! trailing whitespace) and rejects what Go rejects (binary age files), and
//! its error texts appear in sops's failure report. Go's reader is lazy: an
//! armour error surfaces only when a consumer needs bytes past the last good
//! line, so [`decode`] returns the good bytes together with how the input
//! ended, and `file.rs` raises the error at the point Go would.

use super::b64;
use crate::gotext::quote;

const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const END: &str = "-----END AGE ENCRYPTED FILE-----";
const COLUMNS_PER_LINE: usize = 64;
const BYTES_PER_LINE: usize = COLUMNS_PER_LINE / 4 * 3;
/// Go's `maxWhitespace`, for both leading and trailing whitespace.
const MAX_WHITESPACE: usize = 1024;

/// Armours a binary age file exactly as Go's `armor.NewWriter` does.
pub(super) fn encode(data: &[u8]) -> String {
    let encoded = b64::encode_padded(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / COLUMNS_PER_LINE + 80);
    out.push_str(BEGIN);
    out.push('\n');
    for line in encoded.as_bytes().chunks(COLUMNS_PER_LINE) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// What [`decode`] found after the last good line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum End {
    /// The end marker and nothing but whitespace after it: Go's `io.EOF`.
    Clean,
    /// An armour error, already in Go's wording (`invalid armor: …`).
    Error(String),
}

/// The data of every line Go's reader would hand out before it stops.
#[derive(Debug)]
pub(super) struct Decoded {
    pub(super) data: Vec<u8>,
    pub(super) end: End,
}

/// Reads armoured text the way Go's `armor.NewReader` does, eagerly.
pub(super) fn decode(text: &[u8]) -> Decoded {
    let mut data = Vec::with_capacity(text.len() / 4 * 3);
    let end = match decode_into(text, &mut data) {
        Ok(()) => End::Clean,
        Err(message) => End::Error(format!("invalid armor: {message}")),
    };
    Decoded { data, end }
}

/// Go's `getLine`: up to `\n`, without the `\n` and one trailing `\r`.
fn next_line<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], String> {
    if rest.is_empty() {
        return Err("unexpected EOF".to_owned());
    }
    let (line, tail) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (*rest, &rest[rest.len()..]),
    };
    *rest = tail;
    Ok(line.strip_suffix(b"\r").unwrap_or(line))
}

/// Go's `bytes.TrimSpace(b)` is empty (Unicode white space, invalid UTF-8 is not).
fn is_blank(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .all(char::is_whitespace)
}

fn decode_into(text: &[u8], data: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = text;
    let mut removed = 0;
    loop {
        let line = next_line(&mut rest)?;
        if is_blank(line) {
            removed += line.len() + 1;
            if removed > MAX_WHITESPACE {
                return Err("too much leading whitespace".to_owned());
            }
            continue;
        }
        if line != BEGIN.as_bytes() {
            return Err(format!("invalid first line: {}", quote(line)));
        }
        break;
    }
    loop {
        let line = next_line(&mut rest)?;
        if line == END.as_bytes() {
            return drain_trailing(rest);
        }
        if line.is_empty() {
            return Err("empty line in armored data".to_owned());
        }
        if line.len() > COLUMNS_PER_LINE {
            return Err("column limit exceeded".to_owned());
        }
        let bytes = b64::decode_padded(line).map_err(|e| e.to_string())?;
        data.extend_from_slice(&bytes);
        if bytes.len() < BYTES_PER_LINE {
            let line = next_line(&mut rest)?;
            if line != END.as_bytes() {
                return Err(format!("invalid closing line: {}", quote(line)));
            }
            return drain_trailing(rest);
        }
    }
}

fn drain_trailing(rest: &[u8]) -> Result<(), String> {
    let buf = &rest[..rest.len().min(MAX_WHITESPACE)];
    if !is_blank(buf) {
        return Err("trailing data after armored file".to_owned());
    }
    if buf.len() == MAX_WHITESPACE {
        return Err("too much trailing whitespace".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `enc` of an age entry written by sops 3.11 (format.md §6.2).
    const SOPS_ENC: &str = include_str!("../../../testdata/keys/age/sops-enc-test1.age");

    #[test]
    fn encode_wraps_at_64_columns_with_final_newline() {
        for n in [0, 1, 47, 48, 49, 96, 200] {
            let data = vec![7u8; n];
            let text = encode(&data);
            assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
            assert!(text.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
            let lines: Vec<&str> = text.lines().collect();
            let body = &lines[1..lines.len() - 1];
            assert!(body.iter().all(|l| !l.is_empty() && l.len() <= 64));
            assert!(body.iter().rev().skip(1).all(|l| l.len() == 64));
            let decoded = decode(text.as_bytes());
            assert_eq!(decoded.end, End::Clean);
            assert_eq!(decoded.data, data);
        }
    }

    #[test]
    fn reencoding_a_sops_enc_gives_the_same_text() {
        let decoded = decode(SOPS_ENC.as_bytes());
        assert_eq!(decoded.end, End::Clean);
        assert_eq!(encode(&decoded.data), SOPS_ENC);
    }

    #[test]
    fn accepts_what_go_accepts() {
        let crlf = SOPS_ENC.replace('\n', "\r\n");
        let variants = [
            format!("\n\n{SOPS_ENC}"),
            format!("  \n{SOPS_ENC}"),
            format!("{SOPS_ENC}\n\n  \n"),
            SOPS_ENC.trim_end().to_owned(),
            crlf,
        ];
        let good = decode(SOPS_ENC.as_bytes()).data;
        for text in variants {
            let decoded = decode(text.as_bytes());
            assert_eq!(decoded.end, End::Clean, "{text:?}");
            assert_eq!(decoded.data, good);
        }
    }

    fn error_of(text: &str) -> (usize, String) {
        let decoded = decode(text.as_bytes());
        match decoded.end {
            End::Error(e) => (decoded.data.len(), e),
            End::Clean => panic!("accepted {text:?}"),
        }
    }

    #[test]
    fn errors_are_go_texts_with_the_good_prefix() {
        assert_eq!(error_of(""), (0, "invalid armor: unexpected EOF".into()));
        assert_eq!(
            error_of(&SOPS_ENC.replace("-----BEGIN", "-----BEGIn")),
            (
                0,
                "invalid armor: invalid first line: \"-----BEGIn AGE ENCRYPTED FILE-----\"".into()
            )
        );
        assert_eq!(
            error_of(&SOPS_ENC.replace("YWdlLWVu", "YWdlLWV!")),
            (
                0,
                "invalid armor: illegal base64 data at input byte 7".into()
            )
        );
        assert_eq!(
            error_of(&format!("{SOPS_ENC}garbage\n")),
            (
                decode(SOPS_ENC.as_bytes()).data.len(),
                "invalid armor: trailing data after armored file".into()
            )
        );
        let no_footer = SOPS_ENC.replace("-----END AGE ENCRYPTED FILE-----\n", "");
        assert_eq!(error_of(&no_footer).1, "invalid armor: unexpected EOF");
        let (good, err) = error_of(&SOPS_ENC.replace("aC9yaEhs", "aC9yaEh!"));
        assert_eq!(
            (good, err.as_str()),
            (96, "invalid armor: illegal base64 data at input byte 7")
        );
        let mut lines: Vec<&str> = SOPS_ENC.lines().collect();
        lines.insert(2, "");
        let (good, err) = error_of(&lines.join("\n"));
        assert_eq!(
            (good, err.as_str()),
            (48, "invalid armor: empty line in armored data")
        );
        let long = SOPS_ENC.replacen("\nKzYy", "\nAAAAKzYy", 1);
        assert_eq!(
            error_of(&long),
            (48, "invalid armor: column limit exceeded".into())
        );
        let ws = format!("{}{SOPS_ENC}", "\n".repeat(1025));
        assert_eq!(
            error_of(&ws),
            (0, "invalid armor: too much leading whitespace".into())
        );
        let ws = format!("{SOPS_ENC}{}", " ".repeat(1024));
        assert_eq!(
            error_of(&ws).1,
            "invalid armor: too much trailing whitespace"
        );
    }
}
