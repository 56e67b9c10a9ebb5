//! Small helpers that render values the way Go does in the error texts sops
//! prints: `%q` quoting, `os` error wording and `filepath.Join` cleaning.
//!
//! Only what the age backend's messages need; not a general Go emulation.

use std::fmt::Write as _;
use std::io;

/// Go's `strconv.Quote` (the `%q` verb) for a byte string.
///
/// Printable characters stay, `"` and `\` are escaped, the usual control
/// escapes are used and invalid UTF-8 bytes become `\xNN`.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() => {
                    if (c as u32) < 0x10000 {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    } else {
                        let _ = write!(out, "\\U{:08x}", c as u32);
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

/// The text Go's `syscall.Errno` gives for an OS error: the C library's
/// message with a lower-case first letter and no `(os error N)` suffix.
pub(super) fn errno_text(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match err.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Go's `filepath.Join` on Unix: join with `/`, then `Clean`.
pub(super) fn join_clean(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if joined.is_empty() {
        return String::new();
    }
    clean(&joined)
}

/// Go's `path.Clean`: lexical normalisation of a slash-separated path.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote(b"abc"), r#""abc""#);
        assert_eq!(quote(b"a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote(b"\x01\x7f\xff"), r#""\x01\x7f\xff""#);
        assert_eq!(quote("é\u{85}".as_bytes()), "\"é\\u0085\"");
    }

    #[test]
    fn errno_text_is_lower_case_without_suffix() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(errno_text(&err), "no such file or directory");
        let custom = io::Error::other("Custom");
        assert_eq!(errno_text(&custom), "custom");
    }

    #[test]
    fn join_cleans_like_go() {
        assert_eq!(
            join_clean(&["/home/u/", ".ssh", "id_rsa"]),
            "/home/u/.ssh/id_rsa"
        );
        assert_eq!(join_clean(&["/a//b/../c/.", "x"]), "/a/c/x");
        assert_eq!(join_clean(&["rel", "..", "..", "x"]), "../x");
        assert_eq!(join_clean(&["/..", "x"]), "/x");
    }
}
