//! Go's renderings of text that sops's messages, paths and logs depend on,
//! in one place for every module:
//!
//! - `strconv.Quote` (`%q`, and `%#v` of a string): [`quote`];
//! - the `syscall.Errno` wording of OS errors: [`errno_text`];
//! - `path.Clean` / `filepath.Join` on `/`-separated paths: [`clean`],
//!   [`join_clean`];
//! - `encoding/base64`'s `CorruptInputError`: [`base64_error`];
//! - `ProcessState.String()` and Linux signal names: [`exit_status_text`],
//!   [`signal_name`];
//! - google/shlex's word splitting of commands: [`shlex_split`];
//! - logrus's text formatter behind sops's `[NAME]` prefix: [`logrus_line`].
//!
//! Not a general Go emulation: only what the messages need. In particular
//! `quote` escapes what Rust calls control characters (Unicode `Cc`), not the
//! wider set Go's `strconv.IsPrint` rejects.

use std::fmt::Write as _;
use std::io;
use std::process::ExitStatus;

/// Go's `strconv.Quote` (the `%q` verb, and `%#v` of a string) for text or
/// raw bytes.
///
/// Printable characters stay, `"` and `\` are escaped, the usual control
/// escapes (`\a \b \f \n \r \t \v`) are used, other ASCII controls become
/// `\xNN`, other Unicode controls `\uNNNN`, and each byte of invalid UTF-8
/// becomes `\xNN`, as Go decodes invalid input one byte at a time.
pub fn quote(text: impl AsRef<[u8]>) -> String {
    let bytes = text.as_ref();
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
pub fn errno_text(err: &io::Error) -> String {
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
pub fn join_clean(parts: &[&str]) -> String {
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

/// Go's `path.Clean` (and `filepath.Clean` on Unix): lexical normalisation
/// of a slash-separated path. Repeated and trailing slashes, `.` and
/// resolvable `..` go; `""` becomes `.`; links are not resolved.
pub fn clean(path: &str) -> String {
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

/// Go's `base64.CorruptInputError` text for a bad `enc` of a cloud KMS
/// entry: the offset is the first bad byte, or for a cut-off input its
/// length, near where Go stops.
pub fn base64_error(e: &base64::DecodeError) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => *at,
        base64::DecodeError::InvalidLength(len) => *len,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

/// Go's `syscall.Signal.String()` on Linux: the C library's name, or
/// `signal N` for one without a name (real-time signals).
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        1 => "hangup",
        2 => "interrupt",
        3 => "quit",
        4 => "illegal instruction",
        5 => "trace/breakpoint trap",
        6 => "aborted",
        7 => "bus error",
        8 => "floating point exception",
        9 => "killed",
        10 => "user defined signal 1",
        11 => "segmentation fault",
        12 => "user defined signal 2",
        13 => "broken pipe",
        14 => "alarm clock",
        15 => "terminated",
        16 => "stack fault",
        17 => "child exited",
        18 => "continued",
        19 => "stopped (signal)",
        20 => "stopped",
        21 => "stopped (tty input)",
        22 => "stopped (tty output)",
        23 => "urgent I/O condition",
        24 => "CPU time limit exceeded",
        25 => "file size limit exceeded",
        26 => "virtual timer expired",
        27 => "profiling timer expired",
        28 => "window changed",
        29 => "I/O possible",
        30 => "power failure",
        31 => "bad system call",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

/// Go's `ProcessState.String()` (what an `ExitError` prints): `exit status
/// N`, or `signal: NAME` with ` (core dumped)` where the child dumped core.
pub fn exit_status_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            let core = if status.core_dumped() { " (core dumped)" } else { "" };
            return format!("signal: {}{core}", signal_name(sig));
        }
    }
    format!("exit status {status}")
}

/// Splits a command line as google/shlex's `Split` (the version sops pins)
/// does, for editor and age plugin commands: whitespace
/// separates words, `'…'` is literal, `"…"` drops a backslash before any
/// character, `\` escapes the next character, and `#` at the start of a
/// word comments out the rest of the line. No variables, no globbing.
/// Errors are shlex's texts.
pub fn shlex_split(line: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Start,
        Word,
        Escape,
        QuotedEscape,
        DoubleQuoted,
        SingleQuoted,
        Comment,
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in line.chars() {
        state = match state {
            State::Start => match c {
                c if is_space(c) => State::Start,
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escape,
                '#' => State::Comment,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Word => match c {
                c if is_space(c) => {
                    words.push(std::mem::take(&mut word));
                    State::Start
                }
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escape,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Escape => {
                word.push(c);
                State::Word
            }
            State::QuotedEscape => {
                word.push(c);
                State::DoubleQuoted
            }
            State::DoubleQuoted => match c {
                '"' => State::Word,
                '\\' => State::QuotedEscape,
                c => {
                    word.push(c);
                    State::DoubleQuoted
                }
            },
            State::SingleQuoted => match c {
                '\'' => State::Word,
                c => {
                    word.push(c);
                    State::SingleQuoted
                }
            },
            State::Comment => {
                if c == '\n' {
                    State::Start
                } else {
                    State::Comment
                }
            }
        };
    }
    match state {
        State::Start | State::Comment => {}
        State::Word => words.push(word),
        State::Escape | State::QuotedEscape => return Err("EOF found after escape character"),
        State::DoubleQuoted | State::SingleQuoted => {
            return Err("EOF found when expecting closing quote");
        }
    }
    Ok(words)
}

/// One log record as sops prints it on stderr (cli.md §1.5): the logger's
/// `[NAME]` prefix, then logrus's `TextFormatter`. For a terminal, the
/// colored level, the message padded to 44 columns and ` key=value`
/// fields; otherwise `time=… level=… msg=…` and the fields, logfmt style.
pub fn logrus_line(logger: &str, level: &str, msg: &str, fields: &[(&str, &str)], terminal: bool, now: &str) -> String {
    let mut line = String::new();
    if terminal {
        let (color, tag) = match level {
            "warning" => (33, "WARN"),
            "error" => (31, "ERRO"),
            "fatal" => (31, "FATA"),
            "debug" => (37, "DEBU"),
            _ => (36, "INFO"),
        };
        // logrus pads the message to 44 columns, then a blank before each field.
        let _ = write!(line, "\x1b[1m[{logger}]\x1b[22m\t \x1b[{color}m{tag}\x1b[0m[0000] {msg:<44} ");
        for (k, v) in fields {
            let _ = write!(line, " \x1b[{color}m{k}\x1b[0m={}", logfmt_value(v));
        }
    } else {
        let _ = write!(line, "[{logger}]\t time={} level={level} msg={}", logfmt_value(now), logfmt_value(msg));
        for (k, v) in fields {
            let _ = write!(line, " {k}={}", logfmt_value(v));
        }
    }
    line.push('\n');
    line
}

/// logrus quotes a value (Go `%q`) unless it is made only of letters,
/// digits and `-._/@^+`; an empty one is quoted too.
fn logfmt_value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | '@' | '^' | '+'));
    if plain {
        v.to_owned()
    } else {
        quote(v)
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
    fn quote_takes_text_and_bytes_alike() {
        assert_eq!(quote("a\"b"), quote(b"a\"b"));
        assert_eq!(quote(String::from("x")), r#""x""#);
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn quote_uses_go_short_escapes() {
        assert_eq!(quote("\u{7}\u{8}\u{c}\n\r\t\u{b}"), r#""\a\b\f\n\r\t\v""#);
        assert_eq!(quote("\u{0}\u{1b}\u{1f}"), r#""\x00\x1b\x1f""#);
        // C1 controls are `\u`, never `\x`, even though they fit in a byte.
        assert_eq!(quote("\u{80}\u{9f}"), r#""\u0080\u009f""#);
    }

    #[test]
    fn quote_keeps_printable_unicode() {
        assert_eq!(quote("héllo wörld ✓ 🦀"), "\"héllo wörld ✓ 🦀\"");
        assert_eq!(quote("'single'"), r#""'single'""#);
    }

    #[test]
    fn quote_escapes_each_invalid_byte() {
        // A truncated 3-byte sequence: Go reports both bytes, then resumes.
        assert_eq!(quote(b"\xe2\x82A"), r#""\xe2\x82A""#);
        // A lone continuation byte between valid characters.
        assert_eq!(quote(b"\xc3\xa9\x80\xc3\xa9"), "\"é\\x80é\"");
        assert_eq!(quote(b"\xf0\x9f\xa6"), r#""\xf0\x9f\xa6""#);
    }

    #[test]
    fn base64_errors_name_the_offset() {
        use base64::Engine as _;
        let decode = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap_err();
        assert_eq!(base64_error(&decode("AA!A")), "illegal base64 data at input byte 2");
        assert_eq!(base64_error(&decode("AAAAA")), "illegal base64 data at input byte 5");
        assert_eq!(base64_error(&base64::DecodeError::InvalidPadding), "illegal base64 data at input byte 0");
    }

    #[test]
    fn signals_have_go_names() {
        assert_eq!(signal_name(2), "interrupt");
        assert_eq!(signal_name(10), "user defined signal 1");
        assert_eq!(signal_name(31), "bad system call");
        assert_eq!(signal_name(34), "signal 34");
        assert_eq!(signal_name(0), "signal 0");
    }

    #[cfg(unix)]
    #[test]
    fn exit_status_text_like_go() {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(exit_status_text(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(exit_status_text(ExitStatus::from_raw(0)), "exit status 0");
        assert_eq!(exit_status_text(ExitStatus::from_raw(15)), "signal: terminated");
        assert_eq!(exit_status_text(ExitStatus::from_raw(6 | 0x80)), "signal: aborted (core dumped)");
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
        assert_eq!(join_clean(&["", ""]), "");
    }

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("./s3//a/../b/"), "s3/b");
        assert_eq!(clean("../x/./y"), "../x/y");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("/a/../../b"), "/b");
        assert_eq!(clean("/"), "/");
        assert_eq!(clean("a/.."), ".");
    }

    #[test]
    fn split_follows_google_shlex() {
        let ok = |s: &str| shlex_split(s).unwrap();
        assert_eq!(
            ok("/x/envdump.sh a 'b c' d#e #f"),
            ["/x/envdump.sh", "a", "b c", "d#e"]
        );
        assert_eq!(ok(r#"a "b \" \n c" d\ e"#), ["a", "b \" n c", "d e"]);
        assert_eq!(ok("a'b'\"c\" ''"), ["abc", ""]);
        assert_eq!(ok("  # all comment\nnext line"), ["next", "line"]);
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(
            shlex_split("echo 'unterminated"),
            Err("EOF found when expecting closing quote")
        );
        assert_eq!(shlex_split("echo foo\\"), Err("EOF found after escape character"));
        assert_eq!(shlex_split("\"a\\"), Err("EOF found after escape character"));
    }

    #[test]
    fn shlex_split_editor_commands() {
        let cases: &[(&str, &[&str])] = &[
            ("code --wait", &["code", "--wait"]),
            ("  vim\t-u  NONE \n", &["vim", "-u", "NONE"]),
            (r#""my editor" -x"#, &["my editor", "-x"]),
            ("'a b'c", &["a bc"]),
            (r"a\ b", &["a b"]),
            (r#""a\"b\\c\d""#, &[r#"a"b\cd"#]),
            (r"'a\b'", &[r"a\b"]),
            (r#""""#, &[""]),
            ("vim # a comment", &["vim"]),
            ("vim a#b", &["vim", "a#b"]),
            ("# only\nnano", &["nano"]),
            ("", &[]),
        ];
        for (input, want) in cases {
            let got = shlex_split(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"));
            assert_eq!(got, want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(), "{input:?}");
        }
        for bad in ["'open", "\"open", "trailing\\", "\"a\\"] {
            assert!(shlex_split(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_lines_match_logrus() {
        let line = logrus_line(
            "CMD",
            "error",
            "Could not load tree. Press.",
            &[("error", "yaml: line 1: bad")],
            false,
            "2024-01-02T03:04:05Z",
        );
        assert_eq!(
            line,
            "[CMD]\t time=\"2024-01-02T03:04:05Z\" level=error msg=\"Could not load tree. Press.\" error=\"yaml: line 1: bad\"\n"
        );
        assert_eq!(logrus_line("CMD", "error", "short", &[], false, "t"), "[CMD]\t time=t level=error msg=short\n");
        // Go's %q, not Rust's Debug, for what needs quoting.
        assert_eq!(
            logrus_line("EXEC", "fatal", "a:\u{1}é", &[("k", "")], false, "t"),
            "[EXEC]\t time=t level=fatal msg=\"a:\\x01é\" k=\"\"\n"
        );
        let line = logrus_line("CMD", "error", "m", &[("error", "e r")], true, "t");
        assert_eq!(
            line,
            format!("\x1b[1m[CMD]\x1b[22m\t \x1b[31mERRO\x1b[0m[0000] m{}  \x1b[31merror\x1b[0m=\"e r\"\n", " ".repeat(43))
        );
        let line = logrus_line("CMD", "warning", "w", &[], true, "t");
        assert_eq!(line, format!("\x1b[1m[CMD]\x1b[22m\t \x1b[33mWARN\x1b[0m[0000] w{} \n", " ".repeat(43)));
    }
}
