//! Running `SOPS_AGE_KEY_CMD` as sops 3.11 does (cli.md §10.1): split with
//! the rules of `github.com/google/shlex` (the version sops pins), run
//! without a shell, with stdin from the null device, stdout captured,
//! stderr captured and dropped, and `SOPS_AGE_RECIPIENT` added to the
//! environment. Failures carry the texts of Go's `os/exec` because sops
//! prints them (`exit status 1`, `signal: killed`,
//! `exec: "x": executable file not found in $PATH`, …).
//!
//! The child inherits this process's environment, as in sops; only the
//! program lookup uses the `PATH` of the [`AgeEnv`](super::AgeEnv) snapshot.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, ExitStatus};

use zeroize::Zeroizing;

use super::gotext::{errno_text, join_clean, quote};

/// Splits a command line as google/shlex's `Split` does: whitespace
/// separates words, `'…'` is literal, `"…"` drops a backslash before any
/// character, `\` escapes the next character, and `#` at the start of a
/// word comments out the rest of the line. Errors are shlex's texts.
pub(super) fn split(line: &str) -> Result<Vec<String>, &'static str> {
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

/// Runs the split command and returns its standard output, or the text of
/// the error Go's `cmd.Output()` would return.
pub(super) fn run(
    args: &[String],
    recipient: &str,
    path_var: Option<&OsStr>,
) -> Result<Zeroizing<Vec<u8>>, String> {
    let Some((name, rest)) = args.split_first() else {
        // sops 3.11 indexes args[0] and panics here (exit 2); we report
        // what Go's exec.Command("") would say instead.
        return Err("exec: no command".to_owned());
    };
    let program = look_path(name, path_var)?;
    let mut command = Command::new(&program);
    command.args(rest).env("SOPS_AGE_RECIPIENT", recipient);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.arg0(name);
    }
    let output = command
        .output()
        .map_err(|e| format!("fork/exec {program}: {}", errno_text(&e)))?;
    // The output is the identity text: keep it zeroizing from here on.
    let stdout = Zeroizing::new(output.stdout);
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(status_text(output.status))
    }
}

/// Go's `exec.LookPath`, as `exec.Command` applies it to names without a
/// path separator.
fn look_path(name: &str, path_var: Option<&OsStr>) -> Result<String, String> {
    if name.contains('/') || cfg!(not(unix)) {
        return Ok(name.to_owned());
    }
    let path_var = path_var.map(OsStr::to_string_lossy).unwrap_or_default();
    // Go's filepath.SplitList: an empty PATH has no entries.
    let dirs = if path_var.is_empty() {
        Vec::new()
    } else {
        path_var.split(':').collect()
    };
    for dir in dirs {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = join_clean(&[dir, name]);
        if is_executable(Path::new(&candidate)) {
            if !candidate.starts_with('/') {
                return Err(format!(
                    "exec: {}: cannot run executable found relative to current directory",
                    quote(name.as_bytes())
                ));
            }
            return Ok(candidate);
        }
    }
    Err(format!(
        "exec: {}: executable file not found in $PATH",
        quote(name.as_bytes())
    ))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| !m.is_dir() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Go's `ProcessState.String()` for an unsuccessful exit.
fn status_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name =
                signal_name(signal).map_or_else(|| format!("signal {signal}"), str::to_owned);
            let core = if status.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            return format!("signal: {name}{core}");
        }
    }
    format!("exit status {status}")
}

/// Go's names for the common Linux signals (`syscall.Signal.String`).
#[cfg(unix)]
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
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
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_google_shlex() {
        let ok = |s: &str| split(s).unwrap();
        assert_eq!(
            ok("/x/envdump.sh a 'b c' d#e #f"),
            ["/x/envdump.sh", "a", "b c", "d#e"]
        );
        assert_eq!(ok(r#"a "b \" \n c" d\ e"#), ["a", "b \" n c", "d e"]);
        assert_eq!(ok("a'b'\"c\" ''"), ["abc", ""]);
        assert_eq!(ok("  # all comment\nnext line"), ["next", "line"]);
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(
            split("echo 'unterminated"),
            Err("EOF found when expecting closing quote")
        );
        assert_eq!(split("echo foo\\"), Err("EOF found after escape character"));
        assert_eq!(split("\"a\\"), Err("EOF found after escape character"));
    }

    #[cfg(unix)]
    #[test]
    fn run_reports_go_texts() {
        let path = std::env::var_os("PATH");
        let path = path.as_deref();
        let args = |s: &str| split(s).unwrap();
        assert_eq!(run(&args("false"), "r", path).unwrap_err(), "exit status 1");
        assert_eq!(
            run(&args("nosuchcmd-rsops"), "r", path).unwrap_err(),
            "exec: \"nosuchcmd-rsops\": executable file not found in $PATH"
        );
        assert_eq!(
            run(&args("./nosuchcmd-rsops"), "r", path).unwrap_err(),
            "fork/exec ./nosuchcmd-rsops: no such file or directory"
        );
        assert_eq!(
            run(&args("/tmp"), "r", path).unwrap_err(),
            "fork/exec /tmp: permission denied"
        );
        assert_eq!(
            run(&args("sh -c 'kill -9 $$'"), "r", path).unwrap_err(),
            "signal: killed"
        );
        assert_eq!(run(&[], "r", path).unwrap_err(), "exec: no command");
        assert_eq!(
            run(&args("true"), "r", Some(OsStr::new(""))).unwrap_err(),
            "exec: \"true\": executable file not found in $PATH"
        );
    }

    #[cfg(unix)]
    #[test]
    fn run_passes_the_recipient_and_captures_stdout() {
        let path = std::env::var_os("PATH");
        let args =
            split(r#"sh -c 'printf "%s|%s" "$0" "$SOPS_AGE_RECIPIENT"; echo oops >&2'"#).unwrap();
        let out = run(&args, "age1example", path.as_deref()).unwrap();
        assert_eq!(&**out, b"sh|age1example");
    }
}
