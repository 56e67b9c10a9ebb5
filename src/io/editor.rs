//! `edit`'s contact with the world outside the tree (cli.md §6.1–6.3): the
//! private temporary file the plaintext lives in while the editor runs, the
//! editor process, the "press a key" prompt after a refused edit, and the
//! signal handler that removes the plaintext when the run is cancelled.
//!
//! The plaintext only ever sits in a fresh directory of its own (mode 0700,
//! file 0600, under `$TMPDIR`). The directory goes away:
//! - when [`TempEdit`] is dropped: every return path and a panic's unwinding;
//! - on SIGINT, SIGTERM or SIGHUP while a [`TempEdit`] exists: the handler
//!   stops the editor (SIGTERM, so a terminal editor can restore the
//!   terminal; SIGKILL after two seconds), removes every live directory and
//!   exits 1 with `User canceled operation`, as sops 3.12.2+ does (cli.md
//!   §6.2; sops 3.11 just died and left the file). Outside an edit session a
//!   signal does what it always does.
//!
//! Only SIGKILL of rsops itself (or a power cut) can leave the file behind.
//! The edit loop itself (what is shown, what is accepted) is `ops::edit`'s.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::io_text;
use crate::context::Env;
use crate::error::Error;
use crate::gotext;
use crate::metadata::time;

/// The end of sops 3.11's refusal messages (cli.md §6.3; 3.13 says
/// "Press enter").
pub const PRESS_A_KEY: &str = "Press a key to return to the editor, or Ctrl+C to exit.";

/// What sops prints when a signal cancels the edit (cli.md §6.2).
pub const CANCELED: &str = "User canceled operation";

/// Tried in this order on `PATH` when neither variable names an editor.
const FALLBACK_EDITORS: [&str; 3] = ["vim", "nano", "vi"];

/// How long a cancelled run waits for the editor to exit after SIGTERM.
const EDITOR_GRACE: Duration = Duration::from_secs(2);

/// The person at the terminal, as the edit loop needs them. A trait so the
/// loop can be driven without a terminal or a process in tests.
pub trait EditorUi {
    /// Runs the editor on `file` and waits until it exits.
    fn edit(&mut self, file: &Path) -> Result<(), Error>;

    /// Says why the edited text was refused (`message`, plus sops's `error`
    /// field when there is one), then waits for a key.
    fn refused(&mut self, message: &str, error: Option<&str>) -> Answer;
}

/// How the prompt after a refusal ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Someone, or a script writing to stdin, answered.
    Key,
    /// stdin is at its end (or unreadable): nobody can answer.
    NoInput,
}

/// The real terminal: the editor from `SOPS_EDITOR`/`EDITOR`, messages on
/// stderr in sops's log format, keys from stdin.
pub struct Terminal {
    env: Env,
}

impl Terminal {
    pub fn new(env: Env) -> Terminal {
        Terminal { env }
    }
}

impl EditorUi for Terminal {
    fn edit(&mut self, file: &Path) -> Result<(), Error> {
        // Chosen anew for every round, as sops does.
        let argv = editor_command(&self.env)?;
        run_editor(&argv, file)
    }

    fn refused(&mut self, message: &str, error: Option<&str>) -> Answer {
        let now = time::format_rfc3339(&time::now_utc());
        let fields: &[(&str, &str)] = match error {
            Some(e) => &[("error", e)],
            None => &[],
        };
        let line = gotext::logrus_line("CMD", "error", message, fields, std::io::stderr().is_terminal(), &now);
        let _ = std::io::stderr().write_all(line.as_bytes());
        wait_for_key()
    }
}

// ---------------------------------------------------------------------------
// Choosing and running the editor (cli.md §6.1)

/// The editor's argv, without the file: `SOPS_EDITOR`, else `EDITOR` (the
/// first that is not empty), split like a shell would, else the first of
/// `vim`, `nano`, `vi` on `PATH`.
pub fn editor_command(env: &Env) -> Result<Vec<String>, Error> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Some(value) = env.non_empty(var) {
            return gotext::shlex_split(value).map_err(|_| Error::Editor(format!("invalid ${var}: {value}")));
        }
    }
    let path = env.get("PATH").unwrap_or_default();
    for name in FALLBACK_EDITORS {
        if let Some(found) = look_path(path, name) {
            return Ok(vec![found.to_string_lossy().into_owned()]);
        }
    }
    Err(Error::Editor(format!(
        "no editor available: sops attempts to use the editor defined in the SOPS_EDITOR or EDITOR environment variables, and if that's not set defaults to any of {}, but none of them could be found",
        FALLBACK_EDITORS.join(", ")
    )))
}

/// Go's `exec.LookPath` for a bare name: the first executable regular file
/// `dir/name` along `path` (an empty element is the working directory).
fn look_path(path: &str, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|p| is_executable_file(p))
}

#[cfg(unix)]
fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable_file(p: &Path) -> bool {
    p.is_file()
}

/// Runs `argv` with `file` appended, on the inherited terminal, and waits.
/// Errors carry Go's wording after sops's `Could not run editor: ` (exit 201).
pub fn run_editor(argv: &[String], file: &Path) -> Result<(), Error> {
    let mut full: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
    full.push(file.as_os_str().to_owned());
    // An editor variable of only blanks or a comment leaves no words: sops
    // then tries to run the temporary file itself, and so do we.
    let program = full.remove(0);
    let shown = program.to_string_lossy().into_owned();
    let mut reg = registry();
    if reg.cancelling {
        drop(reg);
        wait_for_exit();
    }
    let mut child = Command::new(&program).args(&full).spawn().map_err(|e| {
        Error::Editor(if shown.contains('/') {
            format!("fork/exec {shown}: {}", io_text(&e))
        } else {
            format!("exec: {shown:?}: executable file not found in $PATH")
        })
    })?;
    reg.editors.push(child.id());
    drop(reg);

    let status = child.wait();
    let mut reg = registry();
    reg.editors.retain(|&pid| pid != child.id());
    EDITOR_EXITED.notify_all();
    if reg.cancelling {
        // The signal handler is cleaning up and will end the process; the
        // outcome of this run no longer matters.
        drop(reg);
        wait_for_exit();
    }
    drop(reg);
    let status = status.map_err(|e| Error::Editor(io_text(&e)))?;
    status_result(status)
}

/// `exit status N` / `signal: NAME`, as Go's `ExitError` prints them.
fn status_result(status: ExitStatus) -> Result<(), Error> {
    if status.success() {
        return Ok(());
    }
    Err(Error::Editor(gotext::exit_status_text(status)))
}

// ---------------------------------------------------------------------------
// The prompt after a refused edit (cli.md §6.3)

/// Waits for "a key": one read from stdin, which on a terminal returns the
/// line once Enter is pressed. sops reads through a 4096-byte buffer, so a
/// whole line (or pipe chunk) is consumed and nothing is left for the
/// editor; reading past std's 8 KiB buffer does the same here.
pub fn wait_for_key() -> Answer {
    let mut buf = Zeroizing::new([0u8; 8192]);
    match std::io::stdin().lock().read(&mut buf[..]) {
        Ok(n) if n > 0 => Answer::Key,
        _ => Answer::NoInput,
    }
}

// ---------------------------------------------------------------------------
// The temporary file (cli.md §6.2)

/// Where temporary directories go: `$TMPDIR` when set and not empty, else
/// the system default, as Go's `os.TempDir`.
pub fn temp_root(env: &Env) -> PathBuf {
    match env.non_empty("TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(unix) => PathBuf::from("/tmp"),
        None => std::env::temp_dir(),
    }
}

/// A private directory holding one file with the plaintext to edit, named
/// like the target so the editor sees its extension. Removed on drop and by
/// the signal handler.
#[derive(Debug)]
pub struct TempEdit {
    dir: PathBuf,
    file: PathBuf,
}

impl TempEdit {
    /// Creates `root/<random>/` (0700) and in it `name` (0600) holding `contents`.
    /// Errors carry sops's texts (exit 3).
    pub fn create(root: &Path, name: &std::ffi::OsStr, contents: &[u8]) -> Result<TempEdit, Error> {
        install_signal_handler();
        // Registered while the lock is held, so a signal arriving now finds
        // the directory in the list as soon as it exists.
        let mut reg = registry();
        let dir = make_private_dir(root)
            .map_err(|e| Error::WriteOutput(format!("Could not create temporary directory: {e}")))?;
        reg.dirs.push(dir.clone());
        drop(reg);
        // From here on, `Drop` removes the directory whatever fails.
        let edit = TempEdit { file: dir.join(name), dir };
        let mut f = create_private_file(&edit.file).map_err(|e| {
            Error::WriteOutput(format!(
                "Could not create temporary file: open {}: {}",
                edit.file.display(),
                io_text(&e)
            ))
        })?;
        f.write_all(contents).and_then(|()| f.flush()).map_err(|e| {
            Error::WriteOutput(format!("Could not write output file: write {}: {}", edit.file.display(), io_text(&e)))
        })?;
        // Closed before the editor starts (some editors insist, cli.md §6.2).
        drop(f);
        Ok(edit)
    }

    /// The file the editor gets.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The directory holding it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file's current contents (sops hashes it first, hence its wording).
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        std::fs::read(&self.file).map(Zeroizing::new).map_err(|e| Error::ReadInput {
            message: format!("Could not hash file: open {}: {}", self.file.display(), io_text(&e)),
        })
    }
}

impl Drop for TempEdit {
    fn drop(&mut self) {
        let mut reg = registry();
        let _ = std::fs::remove_dir_all(&self.dir);
        reg.dirs.retain(|d| d != &self.dir);
    }
}

/// `root/<random digits>`, mode 0700 (Go's `os.MkdirTemp(root, "")`).
fn make_private_dir(root: &Path) -> Result<PathBuf, String> {
    let mut last = None;
    for _ in 0..100 {
        let dir = root.join(rand::random::<u32>().to_string());
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(format!("mkdirtemp {}: {}", root.join("*").display(), io_text(&e))),
        }
    }
    let e = last.map_or_else(|| "file exists".to_owned(), |e| io_text(&e));
    Err(format!("mkdirtemp {}: {e}", root.join("*").display()))
}

fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

// ---------------------------------------------------------------------------
// Cancellation by signal

/// Everything the signal handler must clean up.
struct Registry {
    /// Temporary directories alive now.
    dirs: Vec<PathBuf>,
    /// Editors running now (process ids).
    editors: Vec<u32>,
    /// Set by the handler; the main thread then stops where it is.
    cancelling: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { dirs: Vec::new(), editors: Vec::new(), cancelling: false });
static EDITOR_EXITED: Condvar = Condvar::new();

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock must not stop the cleanup.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Parks the calling thread for good: the signal handler is ending the process.
fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

#[cfg(unix)]
fn install_signal_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // Without a handler the guard still cleans up on every other path.
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
        let _ = std::thread::Builder::new().name("rsops-signals".to_owned()).spawn(move || {
            for sig in signals.forever() {
                on_signal(sig);
            }
        });
    });
}

#[cfg(not(unix))]
fn install_signal_handler() {}

/// Cancels a running edit (cleanup, `User canceled operation`, exit 1), or
/// outside one behaves as if no handler were installed.
#[cfg(unix)]
fn on_signal(sig: i32) {
    let mut reg = registry();
    if reg.dirs.is_empty() && reg.editors.is_empty() {
        drop(reg);
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        return;
    }
    reg.cancelling = true;
    for &pid in &reg.editors {
        signal_editor(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + EDITOR_GRACE;
    while !reg.editors.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        reg = EDITOR_EXITED.wait_timeout(reg, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    for &pid in &reg.editors {
        signal_editor(pid, rustix::process::Signal::KILL);
    }
    for dir in &reg.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = writeln!(std::io::stderr(), "{CANCELED}");
    std::process::exit(1);
}

#[cfg(unix)]
fn signal_editor(pid: u32, sig: rustix::process::Signal) {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return };
    let _ = rustix::process::kill_process(pid, sig);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn sops_editor_then_editor_then_fallbacks() {
        let got = editor_command(&env(&[("SOPS_EDITOR", "a -1"), ("EDITOR", "b")])).unwrap();
        assert_eq!(got, ["a", "-1"]);
        let got = editor_command(&env(&[("SOPS_EDITOR", ""), ("EDITOR", "b --x")])).unwrap();
        assert_eq!(got, ["b", "--x"]);

        let bin = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let nano = bin.path().join("nano");
        std::fs::write(&nano, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&nano, std::fs::Permissions::from_mode(0o755)).unwrap();
            // Not executable: skipped, as Go's LookPath does.
            std::fs::write(bin.path().join("vim"), "").unwrap();
        }
        let path = std::env::join_paths([empty.path(), bin.path()]).unwrap();
        let got = editor_command(&env(&[("PATH", path.to_str().unwrap())])).unwrap();
        assert_eq!(got, [nano.to_string_lossy().into_owned()]);

        let err = editor_command(&env(&[("PATH", empty.path().to_str().unwrap())])).unwrap_err();
        assert_eq!(err.exit_code(), 201);
        assert!(err.to_string().starts_with("Could not run editor: no editor available: sops attempts"), "{err}");
        assert!(err.to_string().ends_with("defaults to any of vim, nano, vi, but none of them could be found"));
    }

    #[test]
    fn unbalanced_quotes_name_the_variable() {
        let err = editor_command(&env(&[("EDITOR", "vim 'x")])).unwrap_err();
        assert_eq!(err.to_string(), "Could not run editor: invalid $EDITOR: vim 'x");
        assert_eq!(err.exit_code(), 201);
        let err = editor_command(&env(&[("SOPS_EDITOR", "\"")])).unwrap_err();
        assert_eq!(err.to_string(), "Could not run editor: invalid $SOPS_EDITOR: \"");
    }

    #[cfg(unix)]
    #[test]
    fn temp_file_is_private_and_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let edit = TempEdit::create(root.path(), "secrets.yaml".as_ref(), b"a: 1\n").unwrap();
        assert_eq!(edit.path().file_name().unwrap(), "secrets.yaml");
        assert_eq!(edit.path().parent().unwrap(), edit.dir());
        assert_eq!(edit.dir().parent().unwrap(), root.path());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(edit.dir()), 0o700);
        assert_eq!(mode(edit.path()), 0o600);
        assert_eq!(&edit.read().unwrap()[..], b"a: 1\n");
        let dir = edit.dir().to_owned();
        assert!(registry().dirs.contains(&dir));
        drop(edit);
        assert!(!dir.exists());
        assert!(!registry().dirs.contains(&dir));
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn temp_file_is_removed_when_a_panic_unwinds() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        let result = std::panic::catch_unwind(move || {
            let _edit = TempEdit::create(&r, "x.json".as_ref(), b"{}").unwrap();
            panic!("boom");
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn temp_dir_errors_are_sops_texts() {
        let err = TempEdit::create(Path::new("/nonexistent-rsops-dir"), "a.yaml".as_ref(), b"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Could not create temporary directory: mkdirtemp /nonexistent-rsops-dir/*: no such file or directory"
        );
        assert_eq!(err.exit_code(), 3);
    }

    #[test]
    fn deleted_temp_file_is_a_hash_error() {
        let root = tempfile::tempdir().unwrap();
        let edit = TempEdit::create(root.path(), "a.yaml".as_ref(), b"x").unwrap();
        std::fs::remove_file(edit.path()).unwrap();
        let err = edit.read().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("Could not hash file: open "), "{err}");
        assert!(err.to_string().ends_with("/a.yaml: no such file or directory"), "{err}");
    }

    #[test]
    fn temp_root_honours_tmpdir() {
        assert_eq!(temp_root(&env(&[("TMPDIR", "/x/y")])), PathBuf::from("/x/y"));
        #[cfg(unix)]
        assert_eq!(temp_root(&env(&[("TMPDIR", "")])), PathBuf::from("/tmp"));
    }

    #[cfg(unix)]
    #[test]
    fn editor_outcomes_in_go_words() {
        let file = Path::new("/dev/null");
        let sh = |script: &str| vec!["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned(), "sh".to_owned()];
        assert!(run_editor(&sh("test \"$1\" = /dev/null"), file).is_ok());
        let err = run_editor(&sh("exit 3"), file).unwrap_err();
        assert_eq!(err.to_string(), "Could not run editor: exit status 3");
        assert_eq!(err.exit_code(), 201);
        let err = run_editor(&sh("kill -TERM $$"), file).unwrap_err();
        assert_eq!(err.to_string(), "Could not run editor: signal: terminated");
        let err = run_editor(&["/nonexistent/ed".to_owned()], file).unwrap_err();
        assert_eq!(err.to_string(), "Could not run editor: fork/exec /nonexistent/ed: no such file or directory");
        let err = run_editor(&["rsops-no-such-editor".to_owned()], file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Could not run editor: exec: \"rsops-no-such-editor\": executable file not found in $PATH"
        );
        assert!(registry().editors.is_empty());
    }
}
