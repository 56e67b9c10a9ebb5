//! Starting the suite's Python servers (`tests/servers/*.py`): from a clean
//! environment (only `PATH`, and a private `HOME`), each prints one ready
//! line of flat JSON on stdout and serves until it is killed, which
//! [`PyServer`]'s `Drop` does.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::run::which;

/// How long a server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct PyServer {
    child: Child,
    /// Held open for the server's life: `azurekv.py` stops when it closes.
    _stdin: ChildStdin,
    /// The ready line: flat JSON of strings (without escapes) and numbers.
    pub(crate) ready: String,
}

impl PyServer {
    /// Starts `tests/servers/<script>` with `args`, `HOME` set to `home`.
    /// The server's stderr goes to the test's stderr when `show_stderr`,
    /// else nowhere. `Err` holds its stderr when it printed no ready line
    /// within 30 seconds (or python3 could not start).
    pub(crate) fn start<S: AsRef<OsStr>>(script: &str, args: &[S], home: &Path, show_stderr: bool) -> Result<PyServer, String> {
        let path = super::repo_root().join("tests").join("servers").join(script);
        let mut child = Command::new(which("python3").unwrap_or_else(|| PathBuf::from("python3")))
            .arg(&path)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start python3 {}: {e}", path.display()))?;
        let stdin = child.stdin.take().expect("server stdin");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        let mut stderr = child.stderr.take().expect("server stderr");
        if line.trim().is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            return Err(err);
        }
        // Drained for the server's life, so that a chatty one never blocks.
        std::thread::spawn(move || {
            let _ = if show_stderr {
                std::io::copy(&mut stderr, &mut std::io::stderr())
            } else {
                std::io::copy(&mut stderr, &mut std::io::sink())
            };
        });
        Ok(PyServer { child, _stdin: stdin, ready: line })
    }

    /// The value of `"name": …` in the ready line, a string's without its
    /// quotes.
    pub(crate) fn field(&self, name: &str) -> String {
        let line = &self.ready;
        let pat = format!("\"{name}\": ");
        let start = line.find(&pat).unwrap_or_else(|| panic!("ready line lacks {name}: {line}")) + pat.len();
        let rest = &line[start..];
        match rest.strip_prefix('"') {
            Some(text) => text[..text.find('"').expect("closing quote")].to_owned(),
            None => rest[..rest.find([',', '}']).expect("field end")].trim().to_owned(),
        }
    }

    /// A port number of the ready line.
    pub(crate) fn port(&self, name: &str) -> u16 {
        self.field(name).parse().unwrap_or_else(|_| panic!("bad {name} in {}", self.ready))
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
