//! `edit` and the legacy `rsops FILE` end to end (cli.md §6): scripted
//! editors given as `SOPS_EDITOR`, the real sops to decrypt the results and
//! to compare outcomes, a SIGTERM/SIGINT while the editor runs, and the
//! interactive path under a pseudo-terminal (`script` from util-linux).
//!
//! Every test gives rsops a private `TMPDIR` and checks it is empty at the
//! end: no plaintext survives success, failure or cancellation.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::run::{rsops_bin, which, Output, Sandbox};
use crate::util::{keys_dir, reference_sops};

const PLAIN: &str =
    "a: 1\nb: hello\nlist:\n    - x\n    - z\nnested:\n    c: keep\n    d_unencrypted: open\n";

/// A sandbox with an age identity, a private `TMPDIR` and `s.yaml`
/// encrypted from [`PLAIN`] (by sops when it is there: rsops edits sops's
/// files).
struct Edit {
    sb: Sandbox,
    tmp: PathBuf,
    identity: PathBuf,
    recipient: String,
}

impl Edit {
    fn new() -> Edit {
        let sb = Sandbox::new();
        let tmp = sb.home().join("tmp");
        std::fs::create_dir(&tmp).expect("create TMPDIR");
        let identity = sb.identity(&["key1.txt".to_owned()]);
        let text = std::fs::read_to_string(keys_dir().join("key1.txt")).expect("key1.txt");
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key line")
            .to_owned();
        let e = Edit {
            sb,
            tmp,
            identity,
            recipient,
        };
        std::fs::write(e.path("s.plain.yaml"), PLAIN).unwrap();
        let encryptor = reference_sops().unwrap_or_else(rsops_bin);
        let out =
            e.sb.command(&encryptor)
                .args([
                    "encrypt",
                    "--age",
                    &e.recipient,
                    "--filename-override",
                    "s.yaml",
                    "s.plain.yaml",
                ])
                .run()
                .success();
        std::fs::write(e.path("s.yaml"), out.stdout).unwrap();
        e
    }

    fn path(&self, name: &str) -> PathBuf {
        self.sb.work().join(name)
    }

    /// An executable `sh` script in the sandbox home; its path.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.sb.home().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    /// Runs `program args` with `editor` as `SOPS_EDITOR`.
    fn run(&self, program: &Path, editor: &Path, args: &[&str]) -> Output {
        self.sb
            .command(program)
            .args(args)
            .env("SOPS_EDITOR", editor)
            .env("TMPDIR", &self.tmp)
            .age_keys(Some(&self.identity))
            .run()
    }

    fn rsops(&self, editor: &Path, args: &[&str]) -> Output {
        self.run(&rsops_bin(), editor, args)
    }

    /// A command outside the `Cmd` runner, for runs that must be signalled
    /// or attached to a terminal: a cleared environment with only what
    /// these runs need.
    fn raw_command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.sb.home())
            .env("TMPDIR", &self.tmp)
            .env("SOPS_AGE_KEY_FILE", &self.identity)
            .env("TERM", "dumb")
            .current_dir(self.sb.work());
        c
    }

    fn decrypt_with(&self, program: &Path, name: &str) -> String {
        let out = self
            .sb
            .command(program)
            .args(["decrypt", name])
            .age_keys(Some(&self.identity))
            .run()
            .success();
        out.stdout_text()
    }

    /// The decrypted file, by the reference sops when present, else rsops.
    fn decrypt(&self, name: &str) -> String {
        let text = self.decrypt_with(&rsops_bin(), name);
        if let Some(sops) = reference_sops() {
            assert_eq!(
                self.decrypt_with(&sops, name),
                text,
                "sops and rsops decrypt {name} alike"
            );
        }
        text
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// Nothing is left in `TMPDIR`.
    fn assert_no_plaintext_left(&self) {
        let left: Vec<_> = walk(&self.tmp);
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// The lines of `after` that differ from `before`, by position.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(
        b.len(),
        a.len(),
        "same number of lines:\n{before}\n---\n{after}"
    );
    b.iter()
        .zip(&a)
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.split(':').next().unwrap_or_default().trim().to_owned())
        .collect()
}

fn wait_for_file(p: &Path) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_mins(1) {
        if let Ok(s) = std::fs::read_to_string(p) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never appeared", p.display());
}

fn wait_child(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > Duration::from_mins(1) {
            let _ = child.kill();
            panic!("the process did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn process_alive(pid: &str) -> bool {
    Path::new("/proc").join(pid.trim()).exists()
        && !std::fs::read_to_string(Path::new("/proc").join(pid.trim()).join("stat"))
            .is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn edit_rewrites_only_the_changed_value() {
    let e = Edit::new();
    let before = e.read("s.yaml");
    let editor = e.script("ed.sh", r#"sed -i 's/hello/world/' "$1""#);
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(out.stderr, "", "silent on success");
    assert_eq!(e.decrypt("s.yaml"), PLAIN.replace("hello", "world"));
    // Unchanged values keep their IV and ciphertext (format.md §2.6).
    let changed = changed_lines(&before, &e.read("s.yaml"));
    // `lastmodified` has whole seconds: it may not change within one.
    let changed: Vec<&str> = changed
        .iter()
        .map(String::as_str)
        .filter(|l| *l != "lastmodified")
        .collect();
    assert_eq!(changed, ["b", "mac"]);
    e.assert_no_plaintext_left();

    // The legacy form edits too.
    let editor = e.script("ed2.sh", r#"sed -i 's/keep/kept/' "$1""#);
    let out = e.rsops(&editor, &["s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(e.decrypt("s.yaml").contains("c: kept\n"));
    e.assert_no_plaintext_left();
}

#[test]
fn the_editor_sees_a_private_copy_named_like_the_file() {
    let e = Edit::new();
    let seen = e.sb.home().join("seen");
    let editor = e.script(
        "ed.sh",
        &format!(
            r#"stat -c '%a %n' "$1" "$(dirname "$1")" > {seen}; cat "$1" >> {seen}; echo changed: 1 >> "$1""#,
            seen = seen.display()
        ),
    );
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    let seen = std::fs::read_to_string(&seen).unwrap();
    let mut lines = seen.lines();
    let file = lines.next().unwrap();
    let dir = lines.next().unwrap();
    assert!(
        file.starts_with("600 ") && file.ends_with("/s.yaml"),
        "{file}"
    );
    assert!(dir.starts_with("700 "), "{dir}");
    assert!(
        file.contains(&*e.tmp.to_string_lossy()),
        "under TMPDIR: {file}"
    );
    let shown: String = lines.flat_map(|l| [l, "\n"]).collect();
    assert_eq!(shown, PLAIN);
    e.assert_no_plaintext_left();
}

#[test]
fn unchanged_file_exits_200_like_sops() {
    let e = Edit::new();
    let before = e.read("s.yaml");
    let editor = e.script("ed.sh", "true");
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(200), "{out}");
    assert_eq!(out.stderr, "File has not changed, exiting.\n");
    assert_eq!(e.read("s.yaml"), before, "nothing written");
    e.assert_no_plaintext_left();
    if let Some(sops) = reference_sops() {
        let theirs = e.run(&sops, &editor, &["edit", "s.yaml"]);
        assert_eq!(
            (theirs.code, theirs.stderr.as_str()),
            (out.code, out.stderr.as_str())
        );
    }
}

#[test]
fn invalid_text_reopens_the_editor_like_sops() {
    let e = Edit::new();
    let before = e.read("s.yaml");
    // First round: broken YAML. Second round: sees the broken text, fixes it.
    let count = e.sb.home().join("count");
    let editor = e.script(
        "ed.sh",
        &format!(
            r#"n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}
if [ $n = 1 ]; then printf 'a: [\n' > "$1"; else grep -q '^a: \[' "$1" || exit 7; printf 'a: 2\n' > "$1"; fi"#,
            c = count.display()
        ),
    );
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    let want = " level=error msg=\"Could not load tree, probably due to invalid syntax. Press a key to return to the editor, or Ctrl+C to exit.\" error=\"yaml: line 1: did not find expected node content\"\n";
    assert!(
        out.stderr.starts_with("[CMD]\t time=\"") && out.stderr.ends_with(want),
        "{}",
        out.stderr
    );
    assert_eq!(e.decrypt("s.yaml"), "a: 2\n");
    e.assert_no_plaintext_left();
    if let Some(sops) = reference_sops() {
        std::fs::remove_file(&count).unwrap();
        std::fs::write(e.path("s.yaml"), &before).unwrap();
        let theirs = e.run(&sops, &editor, &["edit", "s.yaml"]);
        assert_eq!(theirs.code, Some(0), "{theirs}");
        assert!(theirs.stderr.ends_with(want), "sops: {}", theirs.stderr);
    }
}

#[test]
fn invalid_text_without_anyone_to_answer_stops() {
    // sops would reopen the editor forever here (cli.md §6.3).
    let e = Edit::new();
    let before = e.read("s.yaml");
    let editor = e.script("ed.sh", r#"printf 'a: [\n' > "$1""#);
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.ends_with(
            "Error unmarshalling file: yaml: line 1: did not find expected node content\n"
        ),
        "{out}"
    );
    assert_eq!(out.stderr.matches("Press a key").count(), 1);
    assert_eq!(e.read("s.yaml"), before);
    e.assert_no_plaintext_left();
}

#[test]
fn editor_failures_exit_201_like_sops() {
    let e = Edit::new();
    let before = e.read("s.yaml");
    let failing = e.script("ed.sh", r#"echo 'x: 1' >> "$1"; exit 3"#);
    let missing = e.sb.home().join("no-such-editor");
    for (editor, text) in [
        (failing, "Could not run editor: exit status 3\n".to_owned()),
        (
            missing.clone(),
            format!(
                "Could not run editor: fork/exec {}: no such file or directory\n",
                missing.display()
            ),
        ),
    ] {
        let out = e.rsops(&editor, &["edit", "s.yaml"]);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (Some(201), text.as_str()),
            "{out}"
        );
        assert_eq!(e.read("s.yaml"), before);
        e.assert_no_plaintext_left();
        if let Some(sops) = reference_sops() {
            let theirs = e.run(&sops, &editor, &["edit", "s.yaml"]);
            assert_eq!(
                (theirs.code, theirs.stderr.as_str()),
                (Some(201), text.as_str())
            );
        }
    }
    let out =
        e.sb.command(&rsops_bin())
            .args(["edit", "s.yaml"])
            .env("EDITOR", "vim 'x")
            .env("TMPDIR", &e.tmp)
            .age_keys(Some(&e.identity))
            .run();
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (Some(201), "Could not run editor: invalid $EDITOR: vim 'x\n")
    );
    e.assert_no_plaintext_left();
}

#[test]
fn new_files_start_from_sops_example() {
    let e = Edit::new();
    let capture = e.sb.home().join("captured");
    let cap = e.script("cap.sh", &format!(r#"cp "$1" {}"#, capture.display()));
    for name in ["n.yaml", "n.json", "n.env", "n.ini", "n.bin"] {
        let out = e.rsops(&cap, &["edit", "--age", &e.recipient, name]);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (Some(200), "File has not changed, exiting.\n"),
            "{name}"
        );
        assert!(!e.path(name).exists(), "{name}: not created when unchanged");
        let ours = std::fs::read(&capture).unwrap();
        if let Some(sops) = reference_sops() {
            let theirs_out = e.run(&sops, &cap, &["edit", "--age", &e.recipient, name]);
            assert_eq!(theirs_out.code, Some(200), "{theirs_out}");
            assert_eq!(
                std::fs::read(&capture).unwrap(),
                ours,
                "{name}: same example as sops"
            );
        }
        e.assert_no_plaintext_left();
    }

    let editor = e.script("ed.sh", r#"sed -i 's/example_value/mine/' "$1""#);
    let out = e.rsops(&editor, &["edit", "--age", &e.recipient, "n.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(e
        .decrypt("n.yaml")
        .starts_with("hello: Welcome to SOPS! Edit this file as you please!\nexample_key: mine\n"));

    // Keys from a creation rule; the legacy form too.
    std::fs::write(
        e.path(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: \\.json$\n    age: {}\n",
            e.recipient
        ),
    )
    .unwrap();
    let out = e.rsops(&editor, &["r.json"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(e.decrypt("r.json").contains("\"example_key\": \"mine\""));
    // No rule for the file: nothing opens, nothing is created.
    let out = e.rsops(&editor, &["edit", "r.yaml"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            Some(1),
            "error loading config: no matching creation rules found\n"
        )
    );
    assert!(!e.path("r.yaml").exists());
    e.assert_no_plaintext_left();
}

#[test]
fn show_master_keys_shows_and_keeps_the_metadata() {
    let e = Edit::new();
    let capture = e.sb.home().join("captured");
    let editor = e.script(
        "ed.sh",
        &format!(
            r#"cp "$1" {}; sed -i 's/hello/shown/' "$1""#,
            capture.display()
        ),
    );
    let out = e.rsops(&editor, &["edit", "-s", "s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    let shown = std::fs::read_to_string(&capture).unwrap();
    assert!(
        shown.contains("\nsops:\n    age:\n        - recipient: "),
        "{shown}"
    );
    assert!(shown.contains("    mac: ENC["), "{shown}");
    // sops 3.11 discards edits made with -s (cli.md §6.3 "Defect"); rsops applies them.
    assert!(e.decrypt("s.yaml").contains("b: shown\n"));
    e.assert_no_plaintext_left();
    // Legacy -s: same temp file.
    let out = e.rsops(&editor, &["-s", "s.yaml"]);
    assert_eq!(out.code, Some(200), "nothing left to replace: {out}");
    assert!(std::fs::read_to_string(&capture)
        .unwrap()
        .contains("\nsops:\n"));
}

#[test]
fn old_file_versions_are_raised() {
    let e = Edit::new();
    let text = e.read("s.yaml");
    assert!(text.contains("    version: 3.11.0\n"));
    std::fs::write(
        e.path("s.yaml"),
        text.replace("    version: 3.11.0\n", "    version: 3.7.3\n"),
    )
    .unwrap();
    let editor = e.script("ed.sh", r#"sed -i 's/hello/world/' "$1""#);
    let out = e.rsops(&editor, &["edit", "s.yaml"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(e.read("s.yaml").contains("    version: 3.11.0\n"));
}

/// SIGTERM (or SIGINT) to rsops while the editor runs: the editor is
/// stopped, the plaintext removed, `User canceled operation`, exit 1.
fn cancel_while_editing(signal: &str) {
    let e = Edit::new();
    let before = e.read("s.yaml");
    let pidfile = e.sb.home().join("editor.pid");
    let editor = e.script(
        "ed.sh",
        &format!("echo $$ > {}\nexec sleep 60", pidfile.display()),
    );
    let mut child = e
        .raw_command(&rsops_bin())
        .args(["edit", "s.yaml"])
        .env("SOPS_EDITOR", &editor)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let editor_pid = wait_for_file(&pidfile);
    let during = walk(&e.tmp);
    assert_eq!(during.len(), 2, "one directory, one file: {during:?}");
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_child(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        (status.code(), stderr.as_str()),
        (Some(1), "User canceled operation\n")
    );
    e.assert_no_plaintext_left();
    assert!(!process_alive(&editor_pid), "the editor was stopped");
    assert_eq!(e.read("s.yaml"), before);
}

#[test]
fn sigterm_while_editing_removes_the_plaintext() {
    cancel_while_editing("-TERM");
}

#[test]
fn sigint_while_editing_removes_the_plaintext() {
    cancel_while_editing("-INT");
}

#[test]
fn sigint_at_the_prompt_removes_the_plaintext() {
    let e = Edit::new();
    let editor = e.script("ed.sh", r#"printf 'a: [\n' > "$1""#);
    // stdin stays open and silent: rsops waits at the prompt.
    let mut child = e
        .raw_command(&rsops_bin())
        .args(["edit", "s.yaml"])
        .env("SOPS_EDITOR", &editor)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while walk(&e.tmp).is_empty() && start.elapsed() < Duration::from_mins(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it reach the prompt.
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_child(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.ends_with("Press a key to return to the editor, or Ctrl+C to exit.\" error=\"yaml: line 1: did not find expected node content\"\nUser canceled operation\n"), "{stderr}");
    e.assert_no_plaintext_left();
}

/// Runs `rsops edit s.yaml` on a pseudo-terminal (util-linux `script`),
/// typing `keys` (each after its delay, once `ready` exists when given).
fn under_pty(
    e: &Edit,
    editor: &str,
    keys: &[(u64, &str)],
    ready: Option<&Path>,
) -> (Option<i32>, String) {
    let cmd = format!("{} edit s.yaml", rsops_bin().display());
    let mut child = e
        .raw_command(Path::new("script"))
        .args(["-qec", &cmd, "/dev/null"])
        .env("SOPS_EDITOR", editor)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let keys: Vec<(u64, String)> = keys.iter().map(|(d, k)| (*d, (*k).to_owned())).collect();
    let ready = ready.map(Path::to_owned);
    let typist = std::thread::spawn(move || {
        if let Some(r) = ready {
            let start = Instant::now();
            while !r.exists() && start.elapsed() < Duration::from_mins(1) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for (delay, k) in keys {
            std::thread::sleep(Duration::from_millis(delay));
            let _ = stdin.write_all(k.as_bytes());
            let _ = stdin.flush();
        }
        // Keep the terminal open until the run ends.
        std::thread::sleep(Duration::from_secs(3));
    });
    let out = child.wait_with_output().unwrap();
    typist.join().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn interactive_edit_under_a_pseudo_terminal() {
    if which("script").is_none() {
        eprintln!("note: `script` (util-linux) not found; the pseudo-terminal test is skipped");
        return;
    }
    let e = Edit::new();
    let count = e.sb.home().join("count");
    // The editor insists on a terminal; its first round is invalid, and the
    // prompt then waits for Enter on the terminal.
    let editor = e.script(
        "ed.sh",
        &format!(
            r#"[ -t 0 ] && [ -t 1 ] && [ -t 2 ] || exit 9
n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}
if [ $n = 1 ]; then printf 'a: [\n' > "$1"; else printf 'a: typed\n' > "$1"; fi"#,
            c = count.display()
        ),
    );
    let (code, screen) = under_pty(&e, &editor.to_string_lossy(), &[(300, "\r")], Some(&count));
    assert_eq!(code, Some(0), "{screen}");
    // On a terminal the log line is logrus's coloured form.
    assert!(
        screen.contains("\x1b[31mERRO\x1b[0m[0000] Could not load tree, probably due to invalid syntax. Press a key to return to the editor, or Ctrl+C to exit.  \x1b[31merror\x1b[0m=\"yaml: line 1: did not find expected node content\""),
        "{screen:?}"
    );
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "2\n");
    assert_eq!(e.decrypt("s.yaml"), "a: typed\n");
    e.assert_no_plaintext_left();
}

#[test]
fn real_vi_under_a_pseudo_terminal() {
    let Some(vi) = which("vi") else {
        eprintln!("note: no `vi` on PATH; the real-editor test is skipped");
        return;
    };
    if which("script").is_none() {
        eprintln!("note: `script` (util-linux) not found; the real-editor test is skipped");
        return;
    }
    let e = Edit::new();
    let started = e.sb.home().join("started");
    let wrapper = e.script(
        "vi.sh",
        &format!(
            "touch {}\nexec {} -u NONE -i NONE -n \"$@\"",
            started.display(),
            vi.display()
        ),
    );
    let (code, screen) = under_pty(
        &e,
        &wrapper.to_string_lossy(),
        &[(700, ":%s/hello/typed in vi/\r"), (300, ":wq\r")],
        Some(&started),
    );
    assert_eq!(code, Some(0), "{screen:?}");
    assert_eq!(e.decrypt("s.yaml"), PLAIN.replace("hello", "typed in vi"));
    e.assert_no_plaintext_left();
}
