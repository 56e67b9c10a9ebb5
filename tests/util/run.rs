//! Hermetic process runs: a private sandbox (`HOME`, `XDG_CONFIG_HOME`, a work
//! folder) per test step, and a command builder that strips every variable
//! through which sops (and so rsops) could pick up keys, config or an
//! editor from the developer's machine.
//!
//! Every run has a deadline, so a binary that waits for a terminal prompt
//! fails the test instead of hanging CI.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::keys_dir;

/// Environment variables removed before every run: whole prefixes, then
/// single names.
const CLEARED_PREFIXES: &[&str] = &[
    "SOPS_", "AWS_", "GOOGLE_", "AZURE_", "VAULT_", "XDG_", "GPG_",
];
const CLEARED_NAMES: &[&str] = &[
    "GNUPGHOME",
    "EDITOR",
    "VISUAL",
    "HOME",
    "USERPROFILE",
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
];

/// How long one command may run before it is killed.
const DEADLINE: Duration = Duration::from_mins(1);

/// The binary under test: the crate's `rsops`, or `$RSOPS_TEST_BIN` (used to
/// run the suite against the real sops, which must pass it: that is how the
/// fixtures and the harness are checked for false failures).
pub(crate) fn rsops_bin() -> PathBuf {
    match std::env::var_os("RSOPS_TEST_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_rsops")),
    }
}

/// A private tree for one test step: `home/` (also holding `.config/`) and
/// `work/`, the working directory of the commands. Removed on drop.
pub(crate) struct Sandbox {
    _dir: TempDir,
    home: PathBuf,
    work: PathBuf,
}

impl Sandbox {
    pub(crate) fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("rsops-test-")
            .tempdir()
            .expect("create a temporary directory");
        let home = dir.path().join("home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(home.join(".config")).expect("create sandbox home");
        std::fs::create_dir_all(&work).expect("create sandbox work dir");
        Sandbox {
            _dir: dir,
            home,
            work,
        }
    }

    pub(crate) fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn work(&self) -> &Path {
        &self.work
    }

    /// Copies the regular files of `dir` (not recursively) into `work/`.
    pub(crate) fn copy_in(&self, dir: &Path) {
        for entry in
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        {
            let entry = entry.expect("read_dir entry");
            if entry.file_type().expect("file type").is_file() {
                std::fs::copy(entry.path(), self.work.join(entry.file_name()))
                    .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
            }
        }
    }

    /// Writes the named test keys (files of `testdata/keys/age/`) into one
    /// identity file under `home/` and returns its path, for `SOPS_AGE_KEY_FILE`.
    pub(crate) fn identity(&self, keys: &[String]) -> PathBuf {
        let mut text = Vec::new();
        for k in keys {
            let path = keys_dir().join(k);
            text.extend(
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
            );
        }
        let path = self.home.join("age-identities.txt");
        std::fs::write(&path, text).expect("write identity file");
        path
    }

    /// A `GnuPG` home (`home/gnupg`, the sandbox's `GNUPGHOME`) holding the
    /// keys of `testdata/keys/pgp/`, imported with the real gpg.
    pub(crate) fn import_pgp_keys(&self) {
        let gnupg = self.home.join("gnupg");
        std::fs::create_dir_all(&gnupg).expect("create the GnuPG home");
        std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod the GnuPG home");
        let keys = super::testdata().join("keys").join("pgp");
        for entry in std::fs::read_dir(&keys).expect("testdata/keys/pgp") {
            let path = entry.expect("read_dir entry").path();
            if path.extension().is_some_and(|e| e == "asc") {
                let out = Command::new("gpg")
                    .args(["--batch", "--quiet", "--import"])
                    .arg(&path)
                    .env("GNUPGHOME", &gnupg)
                    .stdin(Stdio::null())
                    .output()
                    .expect("gpg runs (install gnupg)");
                assert!(
                    out.status.success(),
                    "gpg --import {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    /// Copies SSH keys of `testdata/keys/ssh/` into `home/.ssh/` (0600).
    pub(crate) fn install_ssh_keys(&self, names: &[String]) {
        for name in names {
            let dir = self.home.join(".ssh");
            std::fs::create_dir_all(&dir).expect("create ~/.ssh");
            let dest = dir.join(name);
            std::fs::copy(super::testdata().join("keys").join("ssh").join(name), &dest)
                .unwrap_or_else(|e| panic!("copy SSH key {name}: {e}"));
            std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod the SSH key");
        }
    }

    /// Replaces `[CWD]` and `[HOME]` in a text with this sandbox's paths.
    pub(crate) fn expand(&self, text: &str) -> String {
        text.replace("[CWD]", &self.work.to_string_lossy())
            .replace("[HOME]", &self.home.to_string_lossy())
    }

    /// The inverse of `expand`, for readable failure messages.
    pub(crate) fn redact(&self, text: &str) -> String {
        text.replace(&*self.work.to_string_lossy(), "[CWD]")
            .replace(&*self.home.to_string_lossy(), "[HOME]")
    }

    /// A command for `program`, run in `work/` with the sandbox environment.
    pub(crate) fn command(&self, program: &Path) -> Cmd {
        let mut command = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if is_cleared(&name) {
                command.env_remove(&name);
            }
        }
        command
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GNUPGHOME", self.home.join("gnupg"))
            .env("PATH", plugin_path())
            .current_dir(&self.work);
        Cmd {
            command,
            stdin: None,
            shown: program
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            args: Vec::new(),
        }
    }
}

impl Drop for Sandbox {
    /// Stops the gpg-agent that gpg (or sops's gpg) started in the sandbox.
    fn drop(&mut self) {
        let gnupg = self.home.join("gnupg");
        if gnupg.is_dir() {
            let _ = Command::new("gpgconf")
                .args(["--kill", "gpg-agent"])
                .env("GNUPGHOME", &gnupg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `PATH` with `tests/plugin/` (the test age plugin) in front.
fn plugin_path() -> OsString {
    let mut dirs = vec![super::repo_root().join("tests").join("plugin")];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).expect("PATH entries without ':'")
}

fn is_cleared(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    CLEARED_PREFIXES.iter().any(|p| name.starts_with(p)) || CLEARED_NAMES.contains(&name.as_ref())
}

/// A command being built; `run` executes it.
pub(crate) struct Cmd {
    command: Command,
    stdin: Option<Vec<u8>>,
    shown: String,
    args: Vec<String>,
}

impl Cmd {
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// `SOPS_AGE_KEY_FILE` for the given identity file.
    pub(crate) fn age_keys(self, identity: Option<&Path>) -> Cmd {
        match identity {
            Some(path) => self.env("SOPS_AGE_KEY_FILE", path),
            None => self,
        }
    }

    pub(crate) fn stdin(mut self, bytes: Vec<u8>) -> Cmd {
        self.stdin = Some(bytes);
        self
    }

    pub(crate) fn run(mut self) -> Output {
        let shown = format!("{} {}", self.shown, shell_words(&self.args));
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start `{shown}`: {e}"));
        let writer = self.stdin.take().map(|bytes| {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // A child that exits early closes the pipe; that is its business.
            thread::spawn(move || drop(pipe.write_all(&bytes)))
        });
        let out = reader(child.stdout.take().expect("stdout pipe"));
        let err = reader(child.stderr.take().expect("stderr pipe"));
        let (code, timed_out) = wait_with_deadline(&mut child);
        if let Some(w) = writer {
            w.join().expect("stdin writer thread");
        }
        Output {
            shown,
            code,
            timed_out,
            stdout: out.join().expect("stdout reader thread"),
            stderr: String::from_utf8_lossy(&err.join().expect("stderr reader thread"))
                .into_owned(),
        }
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn wait_with_deadline(child: &mut Child) -> (Option<i32>, bool) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return (status.code(), false);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return (None, true);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=,:@".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a finished command did.
pub(crate) struct Output {
    /// The command line, for messages.
    pub(crate) shown: String,
    /// The exit code; `None` when killed by a signal or the deadline.
    pub(crate) code: Option<i32>,
    pub(crate) timed_out: bool,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Output {
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panics with the command, its status and stderr unless it exited 0.
    pub(crate) fn success(self) -> Output {
        assert!(self.code == Some(0), "{self}");
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.code, self.timed_out) {
            (_, true) => format!("killed after {}s", DEADLINE.as_secs()),
            (Some(c), false) => format!("exit {c}"),
            (None, false) => "killed by a signal".to_owned(),
        };
        write!(
            f,
            "`{}`: {status}; stderr: {}",
            self.shown,
            clip(&self.stderr, 600)
        )
    }
}

/// The first `max` characters of a text, on one line, for messages.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let flat: String = text.escape_debug().collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let head: String = flat.chars().take(max).collect();
        format!("{head}…")
    }
}

/// The first line at which two byte strings differ, for messages.
pub(crate) fn first_difference(got: &[u8], want: &[u8]) -> String {
    let got = String::from_utf8_lossy(got);
    let want = String::from_utf8_lossy(want);
    let mut g = got.split_inclusive('\n');
    let mut w = want.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (g.next(), w.next()) {
            (None, None) => return "equal".to_owned(),
            (a, b) if a == b => line += 1,
            (a, b) => {
                let show = |s: Option<&str>| {
                    s.map_or_else(
                        || "<end of output>".to_owned(),
                        |s| format!("\"{}\"", clip(s, 200)),
                    )
                };
                return format!(
                    "line {line}: got {}, want {} ({} vs {} bytes in all)",
                    show(a),
                    show(b),
                    got.len(),
                    want.len()
                );
            }
        }
    }
}

/// Finds a program on PATH.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file() && is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_env_is_hermetic() {
        let sb = Sandbox::new();
        let out = sb
            .command(Path::new("/usr/bin/env"))
            .env("SOPS_AGE_KEY_FILE", "/set/by/test")
            .run()
            .success();
        let text = out.stdout_text();
        for line in text.lines() {
            let name = line.split('=').next().unwrap_or_default();
            let allowed = ["HOME", "XDG_CONFIG_HOME", "GNUPGHOME", "SOPS_AGE_KEY_FILE"];
            assert!(
                allowed.contains(&name) || !is_cleared(OsStr::new(name)),
                "{name} leaked into the child environment"
            );
        }
        assert!(text.contains(&format!("HOME={}\n", sb.home().display())));
        assert!(text.contains("SOPS_AGE_KEY_FILE=/set/by/test\n"));
    }

    #[test]
    fn stdin_and_exit_codes_pass_through() {
        let sb = Sandbox::new();
        let out = sb
            .command(Path::new("/bin/sh"))
            .args(["-c", "cat; echo err >&2; exit 7"])
            .stdin(b"abc".to_vec())
            .run();
        assert_eq!(out.code, Some(7));
        assert_eq!(out.stdout, b"abc");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn first_difference_names_the_line() {
        assert_eq!(first_difference(b"a\nb\n", b"a\nb\n"), "equal");
        assert!(first_difference(b"a\nb\n", b"a\nc\n").starts_with("line 2:"));
        assert!(first_difference(b"a\n", b"a\nc\n").starts_with("line 2:"));
    }
}
