//! The command-line cases of `tests/cmd/*.toml`: one invocation each, its
//! setup and the exit code, stdout and stderr sops gives for it.
//!
//! Fields (all optional except `args` and `status`):
//!
//! | field | meaning |
//! | --- | --- |
//! | `description` | what the case pins |
//! | `args` | the arguments after the program name |
//! | `files` | `"dest=src"`: copy `testdata/src` to `dest` in the work folder (`[HOME]/...` for the home folder; an empty `src` makes an empty file) |
//! | `write` | `"dest=text"`: write `text` to `dest` |
//! | `identity` | age key files of `testdata/keys/age/`, given as `SOPS_AGE_KEY_FILE` |
//! | `env` | `"NAME=value"` (with `[HOME]` / `[CWD]` expanded) |
//! | `env_from_file` | `"NAME=src"`: the contents of `testdata/src` |
//! | `stdin_file` | a file of the work folder fed on stdin (default: no stdin) |
//! | `status` | the exit code |
//! | `stdout`, `stderr` | the exact bytes (`[CWD]`, `[HOME]` expanded) |
//! | `stdout_file` | the exact stdout, as a file of `testdata/` |
//! | `stdout_starts_with`, `stderr_starts_with`, `stdout_contains`, `stderr_contains` | partial checks |
//! | `file`, `file_equals`, `file_absent` | after the run, `file` must equal `testdata/file_equals`, or must not exist |

use std::path::{Path, PathBuf};

use super::run::{clip, first_difference, Output, Sandbox};
use super::toml::Table;
use super::{cmd_dir, testdata};

const KNOWN: &[&str] = &[
    "description",
    "args",
    "files",
    "write",
    "identity",
    "env",
    "env_from_file",
    "stdin_file",
    "status",
    "stdout",
    "stderr",
    "stdout_file",
    "stdout_starts_with",
    "stderr_starts_with",
    "stdout_contains",
    "stderr_contains",
    "file",
    "file_equals",
    "file_absent",
];

pub(crate) struct CmdCase {
    pub(crate) name: String,
    t: Table,
}

impl CmdCase {
    fn load(path: &Path) -> CmdCase {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let t = Table::parse(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
        for k in t.keys() {
            assert!(KNOWN.contains(&k), "{}: unknown field {k}", path.display());
        }
        assert!(
            t.has("args") && t.has("status"),
            "{}: args and status are required",
            path.display()
        );
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        CmdCase { name, t }
    }

    /// Prepares a fresh sandbox, runs `program` in it and returns every way
    /// the outcome differs from the case (empty: it passed).
    pub(crate) fn check(&self, program: &Path) -> Vec<String> {
        let sb = Sandbox::new();
        self.setup(&sb);
        let out = self.command(&sb, program).run();
        self.compare(&sb, &out)
    }

    fn dest(sb: &Sandbox, dest: &str) -> PathBuf {
        match dest.strip_prefix("[HOME]/") {
            Some(rest) => sb.home().join(rest),
            None => sb.work().join(dest),
        }
    }

    fn setup(&self, sb: &Sandbox) {
        for spec in self.t.list("files") {
            let (dest, src) = split(&self.name, &spec);
            let dest = Self::dest(sb, dest);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            let bytes = if src.is_empty() {
                Vec::new()
            } else {
                std::fs::read(testdata().join(src))
                    .unwrap_or_else(|e| panic!("{}: read {src}: {e}", self.name))
            };
            std::fs::write(&dest, bytes).expect("write fixture");
        }
        for spec in self.t.list("write") {
            let (dest, text) = split(&self.name, &spec);
            let dest = Self::dest(sb, dest);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::write(dest, text).expect("write fixture");
        }
    }

    fn command(&self, sb: &Sandbox, program: &Path) -> super::run::Cmd {
        let identity = self.t.list("identity");
        let identity = (!identity.is_empty()).then(|| sb.identity(&identity));
        let mut cmd = sb
            .command(program)
            .args(self.t.list("args"))
            .age_keys(identity.as_deref());
        for spec in self.t.list("env") {
            let (k, v) = split(&self.name, &spec);
            cmd = cmd.env(k, sb.expand(v));
        }
        for spec in self.t.list("env_from_file") {
            let (k, src) = split(&self.name, &spec);
            let v = std::fs::read_to_string(testdata().join(src))
                .unwrap_or_else(|e| panic!("{}: read {src}: {e}", self.name));
            cmd = cmd.env(k, v);
        }
        if let Some(f) = self.t.opt_str("stdin_file") {
            cmd = cmd.stdin(
                std::fs::read(sb.work().join(&f))
                    .unwrap_or_else(|e| panic!("{}: read {f}: {e}", self.name)),
            );
        }
        cmd
    }

    fn compare(&self, sb: &Sandbox, out: &Output) -> Vec<String> {
        let mut bad = Vec::new();
        let want = self.t.opt_int("status").expect("status");
        if out.code.map(i64::from) != Some(want) {
            bad.push(format!(
                "want exit {want}; got {}",
                sb.redact(&out.to_string())
            ));
        }
        if let Some(s) = self.t.opt_str("stdout") {
            let s = sb.expand(&s);
            if out.stdout != s.as_bytes() {
                bad.push(format!(
                    "stdout differs: {}",
                    first_difference(&out.stdout, s.as_bytes())
                ));
            }
        }
        if let Some(f) = self.t.opt_str("stdout_file") {
            let want = std::fs::read(testdata().join(&f))
                .unwrap_or_else(|e| panic!("{}: read {f}: {e}", self.name));
            if out.stdout != want {
                bad.push(format!(
                    "stdout differs from {f}: {}",
                    first_difference(&out.stdout, &want)
                ));
            }
        }
        let stdout = out.stdout_text();
        if let Some(p) = self.t.opt_str("stdout_starts_with") {
            if !stdout.starts_with(&sb.expand(&p)) {
                bad.push(format!(
                    "stdout does not start with \"{}\": \"{}\"",
                    clip(&p, 120),
                    clip(&stdout, 200)
                ));
            }
        }
        if let Some(p) = self.t.opt_str("stdout_contains") {
            if !stdout.contains(&sb.expand(&p)) {
                bad.push(format!(
                    "stdout lacks \"{}\": \"{}\"",
                    clip(&p, 120),
                    clip(&stdout, 200)
                ));
            }
        }
        let stderr = &out.stderr;
        if let Some(s) = self.t.opt_str("stderr") {
            if *stderr != sb.expand(&s) {
                bad.push(format!(
                    "stderr differs: want \"{}\", got \"{}\"",
                    clip(&s, 300),
                    clip(&sb.redact(stderr), 300)
                ));
            }
        }
        if let Some(p) = self.t.opt_str("stderr_starts_with") {
            if !stderr.starts_with(&sb.expand(&p)) {
                bad.push(format!(
                    "stderr does not start with \"{}\": \"{}\"",
                    clip(&p, 120),
                    clip(&sb.redact(stderr), 300)
                ));
            }
        }
        if let Some(p) = self.t.opt_str("stderr_contains") {
            if !stderr.contains(&sb.expand(&p)) {
                bad.push(format!(
                    "stderr lacks \"{}\": \"{}\"",
                    clip(&p, 120),
                    clip(&sb.redact(stderr), 300)
                ));
            }
        }
        if let Some(f) = self.t.opt_str("file") {
            let path = Self::dest(sb, &f);
            if self.t.bool("file_absent", false) {
                if path.exists() {
                    bad.push(format!("{f} exists but should not"));
                }
            } else if let Some(src) = self.t.opt_str("file_equals") {
                let want = std::fs::read(testdata().join(&src))
                    .unwrap_or_else(|e| panic!("{}: read {src}: {e}", self.name));
                match std::fs::read(&path) {
                    Ok(got) if got == want => {}
                    Ok(got) => bad.push(format!(
                        "{f} differs from {src}: {}",
                        first_difference(&got, &want)
                    )),
                    Err(e) => bad.push(format!("{f}: {e}")),
                }
            }
        }
        bad
    }
}

fn split<'a>(case: &str, spec: &'a str) -> (&'a str, &'a str) {
    spec.split_once('=')
        .unwrap_or_else(|| panic!("{case}: {spec:?} is not of the form name=value"))
}

/// Every case of `tests/cmd/`, sorted; `RSOPS_CMD=text` filters by name.
pub(crate) fn all() -> Vec<CmdCase> {
    let dir = cmd_dir();
    let filter = std::env::var("RSOPS_CMD").unwrap_or_default();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            p.file_stem()
                .is_some_and(|n| n.to_string_lossy().contains(&filter))
        })
        .collect();
    paths.sort();
    paths.iter().map(|p| CmdCase::load(p)).collect()
}
