//! `exec-env` and `exec-file` (cli.md §4.9, §4.10, §7): decrypt a file, then
//! run a command through `/bin/sh -c` with the values in its environment, or
//! with the path of the plaintext (a FIFO by default, a 0600 file with
//! `--no-fifo`) substituted for `{}`.
//!
//! Work happens in two steps so that `main` can print sops's warnings in
//! sops's order: [`prepare_env`]/[`prepare_file`] decrypt and return a
//! [`Prepared`] job with its warnings, and [`Prepared::run`] runs the child and
//! turns its status into sops's outcome (`exit status <n>`, the child's code).
//!
//! Plaintext on disk: the private directory (`.sops<digits>`, 0700) exists only
//! while the child runs. It is removed when the child ends, on every error
//! path, on panic (guard), and on SIGINT/SIGTERM/SIGHUP/SIGQUIT: while the
//! child runs those are caught; SIGTERM and SIGHUP are passed on to the child,
//! SIGINT and SIGQUIT are not (the terminal already sent them to the child,
//! which shares rsops's process group), and rsops cleans up once the child has
//! ended. sops 3.11 instead dies on those signals and leaves the directory
//! behind. Only SIGKILL of rsops can still leave a `--no-fifo` file.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use zeroize::Zeroizing;

use super::{decrypt_tree, open_encrypted};
use crate::config::io_text;
use crate::context::Context;
use crate::error::Error;
use crate::gotext;
use crate::keys::KeyKind;
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::{number, Item, Value};

/// The shell sops runs every command with (`exec_unix.go`).
const SHELL: &str = "/bin/sh";

/// `--filename`'s default in FIFO mode, and the prefix of `--no-fifo`'s
/// random name (sops's `FallbackFilename`).
const FALLBACK_FILENAME: &str = "tmp-file";

/// What the child may be: `--background` and `--user`.
#[derive(Clone, Debug, Default)]
pub struct ChildOptions {
    /// Start the command and return at once (deprecated in sops).
    pub background: bool,
    /// Run the command as this user (name looked up in `/etc/passwd`).
    pub user: Option<String>,
}

/// Everything `exec-env` needs.
pub struct ExecEnvRequest {
    /// The file argument as given; sops echoes it unchanged in errors.
    pub path: PathBuf,
    pub format: Format,
    pub decryption_order: Vec<KeyKind>,
    pub command: OsString,
    pub pristine: bool,
    pub same_process: bool,
    pub child: ChildOptions,
}

/// Everything `exec-file` needs.
pub struct ExecFileRequest {
    pub path: PathBuf,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    pub decryption_order: Vec<KeyKind>,
    pub command: OsString,
    /// A named pipe (default) rather than a regular file (`--no-fifo`).
    pub fifo: bool,
    /// `--filename`; `None` for sops's default.
    pub filename: Option<String>,
    pub child: ChildOptions,
}

/// One decrypted variable for the child's environment.
struct EnvVar {
    key: String,
    /// Bytes: the binary store's `data` need not be UTF-8 (a Go string).
    value: Zeroizing<Vec<u8>>,
}

enum Job {
    Env {
        command: OsString,
        vars: Vec<EnvVar>,
        pristine: bool,
        same_process: bool,
        child: ChildOptions,
    },
    File {
        command: OsString,
        plaintext: Zeroizing<Vec<u8>>,
        fifo: bool,
        filename: Option<String>,
        temp_root: PathBuf,
        child: ChildOptions,
    },
}

/// A decrypted job, ready to run once its warnings are printed.
pub struct Prepared {
    /// sops's log warnings up to this point, in order.
    pub warnings: Vec<String>,
    job: Job,
}

fn read_file(path: &Path, ctx: &Context) -> Result<Vec<u8>, Error> {
    std::fs::read(ctx.cwd.join(path)).map_err(|e| Error::ReadInput {
        message: format!("Error reading file: open {}: {}", path.display(), io_text(&e)),
    })
}

/// Decrypts for `exec-env` and builds the variables from the first document.
pub fn prepare_env(req: &ExecEnvRequest, ctx: &Context) -> Result<Prepared, Error> {
    // sops checks this before decrypting, after the deprecation warning
    // that resolve has already queued.
    if req.same_process && req.child.background {
        return Err(Error::SameProcessWithBackground);
    }
    let bytes = read_file(&req.path, ctx)?;
    let mut opened = open_encrypted(&bytes, req.format, StoreOptions::default())?;
    drop(bytes);
    crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, Some(&req.path), req.format, false, ctx)?;
    let (_key, warnings) = decrypt_tree(&mut opened, &req.decryption_order, false, ctx, None)?;
    let vars = environment(opened.docs.first().map_or(&[][..], Vec::as_slice))?;
    Ok(Prepared {
        warnings,
        job: Job::Env {
            command: req.command.clone(),
            vars,
            pristine: req.pristine,
            same_process: req.same_process,
            child: req.child.clone(),
        },
    })
}

/// Decrypts for `exec-file`: the plaintext is exactly `decrypt`'s output.
pub fn prepare_file(req: &ExecFileRequest, ctx: &Context) -> Result<Prepared, Error> {
    let bytes = read_file(&req.path, ctx)?;
    let mut opened = open_encrypted(&bytes, req.input_format, StoreOptions::default())?;
    drop(bytes);
    crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, Some(&req.path), req.input_format, false, ctx)?;
    let (_key, mut warnings) = decrypt_tree(&mut opened, &req.decryption_order, false, ctx, None)?;
    let plaintext = Zeroizing::new(
        store_for(req.output_format, req.output_options)
            .emit(&opened.docs)
            .map_err(|e| Error::DumpFile(e.0))?,
    );
    if req.child.background {
        // exec-file warns only after decrypting (exec-env before).
        warnings.push(
            "exec-file's --background option is deprecated and will be removed in a future version of sops"
                .to_owned(),
        );
    }
    // Go's os.TempDir: $TMPDIR, else /tmp.
    let temp_root = PathBuf::from(ctx.env.non_empty("TMPDIR").unwrap_or("/tmp"));
    Ok(Prepared {
        warnings,
        job: Job::File {
            command: req.command.clone(),
            plaintext,
            fifo: req.fifo,
            filename: req.filename.clone(),
            temp_root,
            child: req.child.clone(),
        },
    })
}

/// The first document's top-level pairs as `KEY=VALUE` (cli.md §7.1), in
/// document order; comments are skipped, complex values refused.
fn environment(doc: &[Item]) -> Result<Vec<EnvVar>, Error> {
    let mut vars = Vec::new();
    for item in doc {
        let Item::Pair(key, value) = item else { continue };
        if matches!(value, Value::Map(_) | Value::Seq(_)) {
            return Err(Error::Generic(format!("cannot use complex value in environment; offending key {key}")));
        }
        if key.contains('=') {
            return Err(Error::Generic(format!("cannot use keys with '=' in environment: {key}")));
        }
        vars.push(EnvVar { key: key.clone(), value: Zeroizing::new(env_value(value)) });
    }
    Ok(vars)
}

/// sops's `stores.ValToString`: how a non-string value reads in the
/// environment (cli.md §7.1).
fn env_value(value: &Value) -> Vec<u8> {
    let text = match value {
        Value::Str(s) | Value::Comment(s) => s.clone(),
        // The binary store's non-UTF-8 `data`: a Go string of those bytes.
        Value::Bytes(b) => return b.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => go_float_upper_g(*f),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => rfc3339_seconds(t),
        // Go's `%v` of a nil interface.
        Value::Null => "<nil>".to_owned(),
        Value::Map(_) | Value::Seq(_) => String::new(),
    };
    text.into_bytes()
}

/// Go's `os/exec` refuses such an environment before starting anything.
fn check_no_nul(vars: &[EnvVar]) -> Result<(), Error> {
    if vars.iter().any(|v| v.key.contains('\0') || v.value.contains(&0)) {
        return Err(Error::Generic("exec: environment variable contains NUL".to_owned()));
    }
    Ok(())
}

/// `strconv.FormatFloat(v, 'G', -1, 64)`, then `.0` when the text could be
/// read as an integer (`2.0`, `1E+21`, `1E-06`).
fn go_float_upper_g(v: f64) -> String {
    let g = number::format_float_g(v);
    if !v.is_finite() {
        return g;
    }
    let upper = g.replace('e', "E");
    if upper.contains(['.', 'E']) {
        upper
    } else {
        format!("{upper}.0")
    }
}

/// `time.Time.Format(time.RFC3339)` of a stored time: the fraction of a
/// second is dropped, the offset kept.
fn rfc3339_seconds(t: &str) -> String {
    // The tree holds Go's MarshalText form: `YYYY-MM-DDTHH:MM:SS[.fff]<zone>`.
    match (t.get(19..20), t.get(..19)) {
        (Some("."), Some(head)) => {
            let zone = t[20..].trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}{zone}")
        }
        _ => t.to_owned(),
    }
}

impl Prepared {
    /// Runs the command; `Ok` when it exited 0 (or was started in the
    /// background), else [`Error::ChildExit`] carrying its status.
    pub fn run(self) -> Result<(), Error> {
        match self.job {
            Job::Env { command, vars, pristine, same_process, child } => {
                run_env(&command, &vars, pristine, same_process, &child)
            }
            Job::File { command, plaintext, fifo, filename, temp_root, child } => {
                run_file(&command, plaintext, fifo, filename.as_deref(), &temp_root, &child)
            }
        }
    }
}

fn shell(command: &OsStr) -> Command {
    let mut cmd = Command::new(SHELL);
    cmd.arg("-c").arg(command);
    cmd
}

/// `HOME`, `USER` and `LOGNAME` of the `--user` account. sops 3.13.2 adds
/// them (3.11 left the caller's `HOME` to a child running as someone else).
fn user_env(cmd: &mut Command, user: &sys::User) {
    cmd.env("HOME", &user.home).env("USER", &user.name).env("LOGNAME", &user.name);
}

fn run_env(command: &OsStr, vars: &[EnvVar], pristine: bool, same_process: bool, child: &ChildOptions) -> Result<(), Error> {
    let user = child.user.as_deref().map(sys::lookup_user).transpose()?;
    let mut cmd = shell(command);
    if pristine {
        cmd.env_clear();
    }
    if let Some(u) = &user {
        user_env(&mut cmd, u);
    }
    // Later entries win, as Go's exec de-duplication (cli.md §7.1).
    for v in vars {
        cmd.env(&v.key, os_str(&v.value));
    }
    if same_process {
        if check_no_nul(vars).is_err() {
            // syscall.Exec's wording for the same refusal.
            return Err(Error::Generic("invalid argument".to_owned()));
        }
        return Err(sys::exec_replacing(cmd, user.as_ref()));
    }
    check_no_nul(vars)?;
    let mut sup = sys::Supervisor::start();
    let status = sup.spawn_and_wait(cmd, user.as_ref(), child.background)?;
    drop(sup);
    status.map_or(Ok(()), child_outcome)
}

fn run_file(
    command: &OsStr,
    plaintext: Zeroizing<Vec<u8>>,
    fifo: bool,
    filename: Option<&str>,
    temp_root: &Path,
    child: &ChildOptions,
) -> Result<(), Error> {
    let user = child.user.as_deref().map(sys::lookup_user).transpose()?;
    if let Some(name) = filename {
        // sops 3.13's check; 3.11 let `../x` escape the private directory and
        // left that file behind.
        if !is_local(name) {
            return Err(Error::Generic("The provided filename is not a local path.".to_owned()));
        }
    }
    let mut sup = sys::Supervisor::start();
    let dir = sup.private_dir(temp_root, user.as_ref())?;
    let path = if fifo {
        let path = dir.join(filename.unwrap_or(FALLBACK_FILENAME));
        sys::make_fifo(&path, user.as_ref())?;
        sys::feed_fifo(path.clone(), plaintext);
        path
    } else {
        sys::write_private_file(&dir, filename, &plaintext, user.as_ref())?
    };
    let placeholdered = replace_placeholder(command, path.as_os_str());
    let mut cmd = shell(&placeholdered);
    if let Some(u) = &user {
        user_env(&mut cmd, u);
    }
    let status = sup.spawn_and_wait(cmd, user.as_ref(), child.background)?;
    // Removes the directory before sops's status line is printed.
    drop(sup);
    status.map_or(Ok(()), child_outcome)
}

/// Bytes as an OS string (Unix: any bytes).
#[cfg(unix)]
fn os_str(bytes: &[u8]) -> &OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(bytes)
}

#[cfg(not(unix))]
fn os_str(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

/// Go's `filepath.IsLocal` on Unix: relative, non-empty, and not escaping
/// its directory through `..`.
fn is_local(name: &str) -> bool {
    if name.is_empty() || name.starts_with('/') {
        return false;
    }
    let mut depth: i64 = 0;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Every `{}` replaced by the path, plain text substitution (cli.md §7.2).
fn replace_placeholder(command: &OsStr, path: &OsStr) -> OsString {
    let bytes = command.as_encoded_bytes();
    let path = path.as_encoded_bytes();
    let mut out = Vec::with_capacity(bytes.len() + path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{}") {
            out.extend_from_slice(path);
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Both inputs are OS strings and the result only splices whole ones.
    OsString::from_vec_compat(out)
}

/// Rebuilding an `OsString` from bytes of OS strings (Unix: any bytes).
trait FromVecCompat {
    fn from_vec_compat(v: Vec<u8>) -> OsString;
}

impl FromVecCompat for OsString {
    #[cfg(unix)]
    fn from_vec_compat(v: Vec<u8>) -> OsString {
        std::os::unix::ffi::OsStringExt::from_vec(v)
    }

    #[cfg(not(unix))]
    fn from_vec_compat(v: Vec<u8>) -> OsString {
        OsString::from(String::from_utf8_lossy(&v).into_owned())
    }
}

/// sops's outcome for a finished child that did not exit 0: Go's
/// `ExitError` text, and its `ExitCode()` (-1, i.e. 255, for a signal).
fn child_outcome(status: ExitStatus) -> Result<(), Error> {
    if status.success() {
        return Ok(());
    }
    if let Some(code) = status.code() {
        return Err(Error::ChildExit { status: u8::try_from(code & 0xff).unwrap_or(1), message: format!("exit status {code}") });
    }
    Err(Error::ChildExit { status: 255, message: gotext::exit_status_text(status) })
}

/// Process control, Unix only.
#[cfg(unix)]
mod sys {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, ExitStatus, Stdio};

    use zeroize::Zeroizing;

    use super::{FALLBACK_FILENAME, SHELL};
    use crate::config::io_text;
    use crate::error::Error;

    /// A `--user` account as Go's pure-Go `os/user` reads it (the static
    /// sops binary does not use NSS): `/etc/passwd` and `/etc/group`.
    pub(super) struct User {
        pub(super) name: String,
        pub(super) uid: u32,
        pub(super) gid: u32,
        pub(super) home: String,
        pub(super) groups: Vec<u32>,
    }

    /// sops 3.11 reports user, directory and file failures through the
    /// `EXEC` logger's `log.Fatal` (exit 1).
    fn fatal(message: String) -> Error {
        Error::ExecFatal(message)
    }

    pub(super) fn lookup_user(name: &str) -> Result<User, Error> {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        find_user(&passwd, &group, name).ok_or_else(|| fatal(format!("user: unknown user {name}")))
    }

    /// The account `name` in passwd-format text, with its groups: the
    /// primary one first, then every group listing the user as a member.
    pub(super) fn find_user(passwd: &str, group: &str, name: &str) -> Option<User> {
        let fields: Vec<&str> = passwd
            .lines()
            .filter(|l| !l.starts_with(['#', '+', '-']))
            .map(|l| l.splitn(7, ':').collect::<Vec<_>>())
            .find(|f| f.len() == 7 && f[0] == name)?;
        let uid = fields[2].parse().ok()?;
        let gid = fields[3].parse().ok()?;
        let mut groups = vec![gid];
        for line in group.lines().filter(|l| !l.starts_with(['#', '+', '-'])) {
            let f: Vec<&str> = line.splitn(4, ':').collect();
            if f.len() == 4 && f[3].split(',').any(|m| m.trim() == name) {
                if let Ok(g) = f[2].parse::<u32>() {
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
            }
        }
        Some(User { name: name.to_owned(), uid, gid, home: fields[5].to_owned(), groups })
    }

    /// Gives the calling thread the user's groups, gid and uid, in sops's
    /// order (cli.md §7.1). Linux credentials are per thread at the system
    /// call level, and a child inherits those of the thread that forks it,
    /// so rsops keeps its own rights (to clean up) while the child has the
    /// user's.
    #[cfg(target_os = "linux")]
    fn become_user(u: &User) -> Result<(), Error> {
        use rustix::process::{Gid, Uid};
        let err = |e: rustix::io::Errno| fatal(io_text(&std::io::Error::from(e)));
        let groups: Vec<Gid> = u.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        rustix::thread::set_thread_groups(&groups).map_err(err)?;
        let gid = Gid::from_raw(u.gid);
        rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(err)?;
        let uid = Uid::from_raw(u.uid);
        rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(err)?;
        Ok(())
    }

    /// Starts `cmd` with the user's credentials.
    fn spawn_as(cmd: &mut Command, user: Option<&User>) -> std::io::Result<std::process::Child> {
        let Some(u) = user else { return cmd.spawn() };
        #[cfg(target_os = "linux")]
        {
            std::thread::scope(|s| {
                s.spawn(|| {
                    become_user(u).map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e.to_string()))?;
                    cmd.spawn()
                })
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("spawning thread panicked")))
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            // std drops the supplementary groups when it switches.
            cmd.uid(u.uid).gid(u.gid).spawn()
        }
    }

    /// `--same-process`: replaces rsops with the shell. Returns only on
    /// failure.
    pub(super) fn exec_replacing(mut cmd: Command, user: Option<&User>) -> Error {
        if let Some(u) = user {
            #[cfg(target_os = "linux")]
            if let Err(e) = become_user(u) {
                return e;
            }
            #[cfg(not(target_os = "linux"))]
            cmd.uid(u.uid).gid(u.gid);
        }
        let err = cmd.exec();
        Error::Generic(io_text(&err))
    }

    /// Owns the private directory of one run and its signal handling; the
    /// directory goes when this is dropped (any return, any error, panic).
    ///
    /// No extra thread: SIGCHLD joins the caught signals, so the main thread
    /// sleeps in one place until either the command ends or rsops is
    /// signalled (a thread and its wake-ups cost a tiny `exec-env` more
    /// than the rest of its own work).
    pub(super) struct Supervisor {
        signals: Option<signal_hook::iterator::Signals>,
        dir: Option<PathBuf>,
    }

    impl Supervisor {
        pub(super) fn start() -> Supervisor {
            use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM};
            // Without the handler the guard still cleans up on every other path.
            let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD]).ok();
            Supervisor { signals, dir: None }
        }

        /// Creates `<root>/.sops<digits>` with mode 0700 (Go's `MkdirTemp`),
        /// owned by `user` when given.
        pub(super) fn private_dir(&mut self, root: &Path, user: Option<&User>) -> Result<PathBuf, Error> {
            let mut tries = 0;
            let dir = loop {
                let dir = root.join(format!(".sops{}", rand::random::<u32>()));
                match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                    Ok(()) => break dir,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 10_000 => tries += 1,
                    Err(e) => return Err(fatal(format!("mkdir {}: {}", dir.display(), io_text(&e)))),
                }
            };
            self.dir = Some(dir.clone());
            if let Some(u) = user {
                std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid))
                    .map_err(|e| fatal(format!("chown {}: {}", dir.display(), io_text(&e))))?;
            }
            Ok(dir)
        }

        /// A signal that arrived while the file was being staged ends rsops
        /// as it would have without a handler, once the directory is gone.
        fn die_if_signalled(&mut self) {
            use signal_hook::consts::SIGCHLD;
            let Some(signals) = self.signals.as_mut() else { return };
            let Some(sig) = signals.pending().find(|s| *s != SIGCHLD) else { return };
            self.remove_dir();
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        }

        /// Starts the child and, unless `background`, waits for it. The
        /// status is `None` when there is nothing to wait for.
        pub(super) fn spawn_and_wait(
            &mut self,
            mut cmd: Command,
            user: Option<&User>,
            background: bool,
        ) -> Result<Option<ExitStatus>, Error> {
            if background {
                // Go's cmd.Start() with no streams set: /dev/null for all three.
                cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            }
            self.die_if_signalled();
            let mut child = spawn_as(&mut cmd, user)
                .map_err(|e| Error::Generic(format!("fork/exec {SHELL}: {}", io_text(&e))))?;
            if background {
                return Ok(None);
            }
            let waited = match self.signals.as_mut() {
                None => child.wait(),
                Some(signals) => wait_forwarding(&mut child, signals),
            };
            waited.map(Some).map_err(|e| Error::Generic(format!("wait: {}", io_text(&e))))
        }

        fn remove_dir(&mut self) {
            if let Some(dir) = self.dir.take() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    /// Waits for the child, passing SIGTERM and SIGHUP on to it. SIGINT and
    /// SIGQUIT come from the terminal, which sent them to the child too (it
    /// shares rsops's process group); rsops outlives the child to clean up.
    fn wait_forwarding(
        child: &mut std::process::Child,
        signals: &mut signal_hook::iterator::Signals,
    ) -> std::io::Result<ExitStatus> {
        use signal_hook::consts::{SIGHUP, SIGTERM};
        let target = i32::try_from(child.id()).ok().and_then(rustix::process::Pid::from_raw);
        // A child that ended before this loop left its SIGCHLD pending, so
        // the first try_wait finds it.
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        for sig in signals.forever() {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            let forward = match sig {
                SIGTERM => rustix::process::Signal::TERM,
                SIGHUP => rustix::process::Signal::HUP,
                _ => continue,
            };
            if let Some(pid) = target {
                let _ = rustix::process::kill_process(pid, forward);
            }
        }
        // The iterator only ends when closed, which nothing here does.
        child.wait()
    }

    impl Drop for Supervisor {
        fn drop(&mut self) {
            self.remove_dir();
        }
    }

    /// The named pipe, mode 0600 (before the umask, as `mkfifo(2)`).
    pub(super) fn make_fifo(path: &Path, user: Option<&User>) -> Result<(), Error> {
        rustix::fs::mkfifoat(rustix::fs::CWD, path, rustix::fs::Mode::from_raw_mode(0o600))
            .map_err(|e| fatal(io_text(&std::io::Error::from(e))))?;
        if let Some(u) = user {
            std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))
                .map_err(|e| fatal(format!("chown {}: {}", path.display(), io_text(&e))))?;
        }
        Ok(())
    }

    /// Writes the plaintext into the pipe once, from a thread: opening a
    /// FIFO for writing blocks until the command opens it for reading. A
    /// command that never does leaves the thread blocked until rsops exits.
    pub(super) fn feed_fifo(path: PathBuf, plaintext: Zeroizing<Vec<u8>>) {
        let _ = std::thread::Builder::new().name("rsops-exec-fifo".to_owned()).spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
                // A reader that stops early gets EPIPE here; its business.
                let _ = f.write_all(&plaintext);
            }
        });
    }

    /// `--no-fifo`: `<dir>/<filename>`, or `<dir>/tmp-file<digits>` (Go's
    /// `CreateTemp`), mode 0600, holding the plaintext.
    pub(super) fn write_private_file(
        dir: &Path,
        filename: Option<&str>,
        plaintext: &[u8],
        user: Option<&User>,
    ) -> Result<PathBuf, Error> {
        let mut tries = 0;
        loop {
            let path = match filename {
                Some(name) => dir.join(name),
                None => dir.join(format!("{FALLBACK_FILENAME}{}", rand::random::<u32>())),
            };
            let opened = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path);
            let mut file = match opened {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && filename.is_none() && tries < 10_000 => {
                    tries += 1;
                    continue;
                }
                Err(e) => return Err(fatal(format!("open {}: {}", path.display(), io_text(&e)))),
            };
            if let Some(u) = user {
                std::os::unix::fs::chown(&path, Some(u.uid), Some(u.gid))
                    .map_err(|e| fatal(format!("chown {}: {}", path.display(), io_text(&e))))?;
            }
            file.write_all(plaintext)
                .map_err(|e| fatal(format!("write {}: {}", path.display(), io_text(&e))))?;
            return Ok(path);
        }
    }

}

/// Without Unix processes there is nothing to run (sops's Windows build
/// uses `cmd.exe /C`, which rsops does not provide).
#[cfg(not(unix))]
mod sys {
    use std::path::{Path, PathBuf};
    use std::process::{Command, ExitStatus};

    use zeroize::Zeroizing;

    use crate::error::Error;

    pub(super) struct User {
        pub(super) name: String,
        pub(super) home: String,
    }

    fn unsupported() -> Error {
        Error::Unsupported("rsops runs exec-env and exec-file on Unix only".to_owned())
    }

    pub(super) fn lookup_user(_: &str) -> Result<User, Error> {
        Err(unsupported())
    }

    pub(super) fn exec_replacing(_: Command, _: Option<&User>) -> Error {
        unsupported()
    }

    pub(super) struct Supervisor;

    impl Supervisor {
        pub(super) fn start() -> Supervisor {
            Supervisor
        }

        pub(super) fn private_dir(&mut self, _: &Path, _: Option<&User>) -> Result<PathBuf, Error> {
            Err(unsupported())
        }

        pub(super) fn spawn_and_wait(&mut self, _: Command, _: Option<&User>, _: bool) -> Result<Option<ExitStatus>, Error> {
            Err(unsupported())
        }
    }

    pub(super) fn make_fifo(_: &Path, _: Option<&User>) -> Result<(), Error> {
        Err(unsupported())
    }

    pub(super) fn feed_fifo(_: PathBuf, _: Zeroizing<Vec<u8>>) {}

    pub(super) fn write_private_file(_: &Path, _: Option<&str>, _: &[u8], _: Option<&User>) -> Result<PathBuf, Error> {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: Value) -> Item {
        Item::Pair(k.to_owned(), v)
    }

    fn env_of(doc: &[Item]) -> Vec<(String, String)> {
        environment(doc)
            .unwrap()
            .into_iter()
            .map(|v| (v.key, String::from_utf8(v.value.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn values_read_as_sops_formats_them() {
        let doc = vec![
            Item::Comment(" note".to_owned()),
            pair("S", Value::Str("a\nb".to_owned())),
            pair("I", Value::Int(-42)),
            pair("F", Value::Float(1.5)),
            pair("F2", Value::Float(2.0)),
            pair("BIG", Value::Float(1e21)),
            pair("SMALL", Value::Float(0.000_001)),
            pair("B", Value::Bool(true)),
            pair("N", Value::Null),
            pair("T", Value::Time("2024-01-01T10:00:00.25+01:00".to_owned())),
            pair("T2", Value::Time("2024-01-01T00:00:00Z".to_owned())),
        ];
        let want = [
            ("S", "a\nb"),
            ("I", "-42"),
            ("F", "1.5"),
            ("F2", "2.0"),
            ("BIG", "1E+21"),
            ("SMALL", "1E-06"),
            ("B", "true"),
            ("N", "<nil>"),
            ("T", "2024-01-01T10:00:00+01:00"),
            ("T2", "2024-01-01T00:00:00Z"),
        ];
        let got = env_of(&doc);
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn binary_data_passes_as_bytes_and_nul_is_refused() {
        let doc = vec![pair("data", Value::Bytes(vec![0xff, b'a']))];
        let vars = environment(&doc).unwrap();
        assert_eq!(vars[0].value.as_slice(), [0xff, b'a']);
        assert!(check_no_nul(&vars).is_ok());
        let doc = vec![pair("data", Value::Str("a\0b".to_owned()))];
        let err = check_no_nul(&environment(&doc).unwrap()).expect_err("refused");
        assert_eq!(err.to_string(), "exec: environment variable contains NUL");
    }

    #[test]
    fn float_edge_cases_follow_go() {
        assert_eq!(go_float_upper_g(-0.0), "-0.0");
        assert_eq!(go_float_upper_g(100_000.0), "100000.0");
        assert_eq!(go_float_upper_g(1_000_000.0), "1E+06");
        assert_eq!(go_float_upper_g(f64::INFINITY), "+Inf");
    }

    #[test]
    fn complex_values_and_bad_keys_are_refused_by_key_name_only() {
        let nested = vec![pair("ok", Value::Str("secret-value".to_owned())), pair("nested", Value::Map(vec![]))];
        let err = environment(&nested).err().expect("refused");
        assert_eq!(err.to_string(), "cannot use complex value in environment; offending key nested");
        assert_eq!(err.exit_code(), 1);
        let list = vec![pair("l", Value::Seq(vec![]))];
        assert_eq!(
            environment(&list).err().expect("refused").to_string(),
            "cannot use complex value in environment; offending key l"
        );
        let eq = vec![pair("x=y", Value::Str("secret-value".to_owned()))];
        let err = environment(&eq).err().expect("refused").to_string();
        assert_eq!(err, "cannot use keys with '=' in environment: x=y");
        assert!(!err.contains("secret-value"));
    }

    #[test]
    fn placeholder_is_replaced_everywhere() {
        let got = replace_placeholder(OsStr::new("cat {} {}x {"), OsStr::new("/t/f"));
        assert_eq!(got, OsString::from("cat /t/f /t/fx {"));
    }

    #[test]
    fn filename_must_stay_inside() {
        for ok in ["a", "a/b", "a/../b", "./a"] {
            assert!(is_local(ok), "{ok}");
        }
        for bad in ["", "/etc/x", "..", "../x", "a/../../x"] {
            assert!(!is_local(bad), "{bad}");
        }
    }

    #[test]
    fn exit_statuses_become_sops_outcomes() {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert!(child_outcome(ExitStatus::from_raw(0)).is_ok());
            let e = child_outcome(ExitStatus::from_raw(3 << 8)).unwrap_err();
            assert_eq!((e.exit_code(), e.to_string()), (3, "exit status 3".to_owned()));
            let e = child_outcome(ExitStatus::from_raw(9)).unwrap_err();
            assert_eq!((e.exit_code(), e.to_string()), (255, "signal: killed".to_owned()));
            let e = child_outcome(ExitStatus::from_raw(0xb | 0x80)).unwrap_err();
            assert_eq!(e.to_string(), "signal: segmentation fault (core dumped)");
        }
    }

    #[cfg(unix)]
    #[test]
    fn users_come_from_passwd_and_group_files() {
        let passwd = "# c\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:A:/home/alice:/bin/sh\n";
        let group = "alice:x:1001:\nwheel:x:10:bob,alice\ndocker:x:999:bob\n";
        let u = sys::find_user(passwd, group, "alice").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1000, 1001, "/home/alice"));
        assert_eq!(u.groups, [1001, 10]);
        assert!(sys::find_user(passwd, group, "bob").is_none());
    }
}
