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
use std::process::Command;

use zeroize::Zeroizing;

use crate::gotext::{errno_text, exit_status_text, join_clean, quote};

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
        Err(exit_status_text(output.status))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gotext::shlex_split;

    #[cfg(unix)]
    #[test]
    fn run_reports_go_texts() {
        let path = std::env::var_os("PATH");
        let path = path.as_deref();
        let args = |s: &str| shlex_split(s).unwrap();
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
            shlex_split(r#"sh -c 'printf "%s|%s" "$0" "$SOPS_AGE_RECIPIENT"; echo oops >&2'"#).unwrap();
        let out = run(&args, "age1example", path.as_deref()).unwrap();
        assert_eq!(&**out, b"sh|age1example");
    }
}
