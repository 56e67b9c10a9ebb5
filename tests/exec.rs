//! `exec-env`, `exec-file`, `filestatus`, `completion` and `help` end to
//! end (cli.md §4.9–§4.11, §4.15, §7): the same command lines run by rsops
//! and by the reference sops must give the same exit code, output and
//! messages (log timestamps aside), on every decryptable vector.
//!
//! rsops-only checks cover what sops gets wrong or cannot show: no
//! plaintext left in `TMPDIR` after success, failure, a killed command or
//! a signal to rsops itself, `--same-process` keeping rsops's process id.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

use crate::util::case::{Case, Stage};
use crate::util::run::{first_difference, rsops_bin, Output, Sandbox};
use crate::util::{reference_sops, testdata, Report};

/// A sandbox with the key1 identity and a private, empty `TMPDIR`.
struct Exec {
    sb: Sandbox,
    tmp: PathBuf,
    identity: PathBuf,
}

impl Exec {
    fn new() -> Exec {
        Exec::with_identity(&["key1.txt"])
    }

    fn with_identity(keys: &[&str]) -> Exec {
        let sb = Sandbox::new();
        let tmp = sb.home().join("tmp");
        std::fs::create_dir(&tmp).expect("create TMPDIR");
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let identity = sb.identity(&keys);
        Exec { sb, tmp, identity }
    }

    /// Copies `testdata/<src>` to `dest` in the work folder.
    fn file(&self, dest: &str, src: &str) -> &Exec {
        std::fs::copy(testdata().join(src), self.sb.work().join(dest))
            .unwrap_or_else(|e| panic!("copy {src}: {e}"));
        self
    }

    fn write(&self, dest: &str, text: &str) -> &Exec {
        std::fs::write(self.sb.work().join(dest), text).expect("write fixture");
        self
    }

    fn cmd(&self, program: &Path, args: &[&str]) -> crate::util::run::Cmd {
        self.sb
            .command(program)
            .args(args)
            .age_keys(Some(&self.identity))
            .env("TMPDIR", &self.tmp)
    }

    fn run(&self, program: &Path, args: &[&str]) -> Output {
        self.cmd(program, args).run()
    }

    /// What is left in `TMPDIR`.
    fn leftovers(&self) -> Vec<String> {
        let mut left: Vec<String> = std::fs::read_dir(&self.tmp)
            .expect("read TMPDIR")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        left
    }

    fn assert_clean(&self, what: &str) {
        let left = self.leftovers();
        assert!(left.is_empty(), "{what}: left in TMPDIR: {left:?}");
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.sb.work().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
}

/// stderr without logrus's timestamps (`time="…"`), the only part of
/// sops's log lines that differs between two runs.
fn strip_times(text: &str) -> String {
    static TIME: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    TIME.get_or_init(|| Regex::new(r#"time="[^"]*""#).unwrap()).replace_all(text, "time=\"\"").into_owned()
}

/// rsops's stderr as sops would print it: without the line rsops adds after
/// a value that fails to decrypt, naming where (`ops::decrypt_tree`).
fn sops_text(text: &str) -> String {
    text.split_inclusive('\n').filter(|l| !(l.starts_with("(the value at ") && l.trim_end().ends_with(')'))).collect()
}

/// `text` without the lines for which `drop` holds.
fn without(text: &str, drop: impl Fn(&str) -> bool) -> String {
    text.split_inclusive('\n').filter(|l| !drop(l)).collect()
}

/// Differences between rsops's and sops's run of one command line.
fn differences(ours: &Output, theirs: &Output, normalize: fn(&[u8]) -> Vec<u8>) -> Vec<String> {
    let mut bad = Vec::new();
    if ours.code != theirs.code {
        bad.push(format!("exit {:?} vs sops's {:?}: {ours}", ours.code, theirs.code));
    }
    let (a, b) = (normalize(&ours.stdout), normalize(&theirs.stdout));
    if a != b {
        bad.push(format!("stdout differs from sops's: {}", first_difference(&a, &b)));
    }
    let (a, b) = (strip_times(&sops_text(&ours.stderr)), strip_times(&theirs.stderr));
    if a != b {
        bad.push(format!("stderr differs from sops's: {}", first_difference(a.as_bytes(), b.as_bytes())));
    }
    bad
}

fn same(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

/// `env -0` output as a sorted set, so variable order does not matter.
fn env_set(bytes: &[u8]) -> Vec<u8> {
    let mut vars: Vec<&[u8]> = bytes.split(|b| *b == 0).filter(|v| !v.is_empty()).collect();
    vars.sort_unstable();
    vars.join(&b"\n"[..])
}

/// Runs `args` with both programs in one sandbox (the commands only read)
/// and compares.
fn compare(x: &Exec, sops: &Path, args: &[&str], normalize: fn(&[u8]) -> Vec<u8>) -> Vec<String> {
    let theirs = x.run(sops, args);
    let ours = x.run(&rsops_bin(), args);
    differences(&ours, &theirs, normalize)
        .into_iter()
        .map(|d| format!("`{}`: {d}", args.join(" ")))
        .collect()
}

/// The vectors a command can decrypt with its age identity alone.
fn exec_vectors() -> Vec<Case> {
    crate::util::case::all().into_iter().filter(|c| c.stage == Stage::Decrypt && !c.pgp).collect()
}

fn vector_sandbox(case: &Case) -> Exec {
    let keys: Vec<&str> = case.identity.iter().map(String::as_str).collect();
    let x = Exec::with_identity(&keys);
    x.sb.copy_in(&case.dir);
    x
}

/// Every decryptable vector through `exec-env` (values in a pristine
/// environment, or sops's refusal), `exec-file` with a FIFO and with
/// `--no-fifo`: rsops answers exactly as sops.
#[test]
fn every_vector_runs_as_with_sops() {
    let Some(sops) = reference_sops() else { return };
    let mut report = Report::new("exec-env/exec-file on every vector vs sops");
    for case in exec_vectors() {
        let x = vector_sandbox(&case);
        let enc = case.enc.as_str();
        let mut bad = compare(&x, &sops, &["exec-env", "--pristine", enc, "/usr/bin/env -0"], env_set);
        bad.extend(compare(&x, &sops, &["exec-file", enc, "cat {}"], same));
        bad.extend(compare(&x, &sops, &["exec-file", "--no-fifo", enc, "cat {}"], same));
        let left = x.leftovers();
        if !left.is_empty() {
            bad.push(format!("left in TMPDIR: {left:?}"));
        }
        report.case(&case.name, &bad);
    }
    report.finish();
}

/// The values as the child sees them (cli.md §7.1), pinned without sops:
/// strings verbatim, Go's number and time forms, `<nil>` for null.
#[test]
fn exec_env_values_read_as_sops_formats_them() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let out = x.run(&rsops_bin(), &["exec-env", "--pristine", "s.yaml", "/usr/bin/env -0"]).success();
    let vars: Vec<String> =
        out.stdout.split(|b| *b == 0).map(|v| String::from_utf8_lossy(v).into_owned()).collect();
    for want in [
        "string=hello world",
        "double_quoted=tab\there \"quoted\" back\\slash",
        "int=42",
        "int64_min=-9223372036854775808",
        "float=3.14159",
        "float_exp=1E+10",
        "float_one=1.0",
        "bool_true=true",
        "null_word=<nil>",
        "empty_string=",
        "looks_like_int=123",
    ] {
        assert!(vars.iter().any(|v| v == want), "{want:?} not in {vars:?}");
    }
    // Pristine: nothing of the caller's environment (the shell adds PWD).
    assert!(!vars.iter().any(|v| v.starts_with("HOME=")), "{vars:?}");
}

/// Decrypted values override the caller's variables; without
/// `--pristine` the rest of the environment is kept.
#[test]
fn decrypted_values_override_the_environment() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let out = x
        .cmd(&rsops_bin(), &["exec-env", "s.yaml", "printf '%s|%s' \"$string\" \"$KEEP_ME\""])
        .env("string", "from the caller")
        .env("KEEP_ME", "kept")
        .run()
        .success();
    assert_eq!(out.stdout_text(), "hello world|kept");
    let out = x
        .cmd(&rsops_bin(), &["exec-env", "--pristine", "s.yaml", "printf '%s|%s' \"$string\" \"$KEEP_ME\""])
        .env("KEEP_ME", "kept")
        .run()
        .success();
    assert_eq!(out.stdout_text(), "hello world|");
}

/// The command's exit status and sops's `exit status <n>` / `signal: <name>`
/// line, for both commands, against sops.
#[test]
fn exit_status_passes_through_as_with_sops() {
    let Some(sops) = reference_sops() else { return };
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let mut report = Report::new("exit statuses vs sops");
    for command in ["exit 0", "exit 1", "exit 3", "exit 255", "kill -TERM $$", "kill -KILL $$", "kill -USR1 $$"] {
        for sub in ["exec-env", "exec-file"] {
            report.case(&format!("{sub} '{command}'"), &compare(&x, &sops, &[sub, "s.yaml", command], same));
        }
    }
    // Our own check that the comparison can fail: the texts themselves.
    let out = x.run(&rsops_bin(), &["exec-env", "s.yaml", "exit 3"]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(3), "exit status 3\n"));
    let out = x.run(&rsops_bin(), &["exec-file", "s.yaml", "kill -KILL $$"]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(255), "signal: killed\n"));
    x.assert_clean("after the statuses");
    report.finish();
}

/// Argument errors, conflicts and refusals, against sops.
#[test]
fn usage_errors_match_sops() {
    let Some(sops) = reference_sops() else { return };
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml")
        .file("nested.yaml", "vectors/yaml-nested/enc.yaml")
        .file("plain.yaml", "vectors/yaml-scalars/plain.yaml");
    let cases: &[&[&str]] = &[
        &["exec-env"],
        &["exec-env", "s.yaml"],
        &["exec-env", "s.yaml", "true", "extra"],
        &["exec-file", "s.yaml"],
        &["exec-env", "missing.yaml", "true"],
        &["exec-file", "missing.yaml", "true"],
        &["exec-env", "plain.yaml", "true"],
        &["exec-env", "nested.yaml", "true"],
        &["exec-env", "--same-process", "--background", "s.yaml", "true"],
        &["exec-env", "--decryption-order", "age,age", "s.yaml", "true"],
        &["exec-env", "--user", "no-such-user-rsops", "s.yaml", "true"],
        &["exec-file", "--user", "no-such-user-rsops", "s.yaml", "true"],
        &["exec-env", "s.yaml", "echo flags after the file", "--pristine"],
        &["exec-file", "--output-type", "json", "s.yaml", "cat {}"],
        &["exec-file", "--output-type", "dotenv", "nested.yaml", "cat {}"],
        &["exec-file", "--filename", "custom.yaml", "s.yaml", "basename {}"],
        &["exec-file", "--no-fifo", "--filename", "custom.yaml", "s.yaml", "basename {}; cat {}"],
    ];
    let mut report = Report::new("exec usage vs sops");
    for args in cases {
        report.case(&args.join(" "), &compare(&x, &sops, args, same));
    }
    x.assert_clean("after the usage errors");
    report.finish();
}

/// `--background` (deprecated): the warning, exit 0 at once, the command's
/// output not shown; the same as sops.
#[test]
fn background_returns_at_once() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    for sub in ["exec-env", "exec-file"] {
        let start = Instant::now();
        let out = x.run(&rsops_bin(), &[sub, "--background", "s.yaml", "sleep 3; echo late"]);
        assert!(start.elapsed() < Duration::from_secs(2), "{sub} waited for the command");
        assert_eq!(out.code, Some(0), "{out}");
        assert!(out.stdout.is_empty());
        let want = format!("{sub}'s --background option is deprecated and will be removed in a future version of sops");
        assert!(out.stderr.contains(&want), "{}", out.stderr);
    }
    x.assert_clean("after --background");
    if let Some(sops) = reference_sops() {
        let bad = compare(&x, &sops, &["exec-env", "--background", "s.yaml", "true"], same);
        assert!(bad.is_empty(), "{bad:?}");
    }
}

/// `--same-process` replaces rsops: the shell has rsops's process id.
#[test]
fn same_process_replaces_rsops() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let spawn = |extra: &[&str]| {
        let mut args = vec!["exec-env"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["s.yaml", "echo $$; exit 7"]);
        let child = Command::new(rsops_bin())
            .args(&args)
            .current_dir(x.sb.work())
            .env("SOPS_AGE_KEY_FILE", &x.identity)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rsops");
        let pid = child.id();
        let out = child.wait_with_output().expect("wait");
        let printed: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("a pid");
        (pid, printed, out.status.code())
    };
    let (pid, printed, code) = spawn(&["--same-process"]);
    assert_eq!((printed, code), (pid, Some(7)));
    let (pid, printed, code) = spawn(&[]);
    assert_ne!(printed, pid, "without --same-process the shell is a child");
    assert_eq!(code, Some(7));
}

/// `{}` is the path of a private FIFO (default) or 0600 file, in a 0700
/// directory of `TMPDIR`, all gone afterwards, whatever the outcome.
#[test]
fn no_plaintext_left_on_disk() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let probe = "stat -c '%F %a' {} \"$(dirname {})\" > seen.txt; basename \"$(dirname {})\" >> seen.txt; cat {} > copy.txt";
    let expected = std::fs::read_to_string(testdata().join("vectors/yaml-scalars/expected.yaml")).unwrap();
    for (flags, kind) in [(&[][..], "fifo"), (&["--no-fifo"][..], "regular file"), (&["--no-fifo", "--filename", "x.yaml"][..], "regular file")]
    {
        let mut args = vec!["exec-file"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["s.yaml", probe]);
        x.run(&rsops_bin(), &args).success();
        let seen = x.read("seen.txt");
        let lines: Vec<&str> = seen.lines().collect();
        assert_eq!(lines[0], format!("{kind} 600"), "{flags:?}: {seen}");
        assert_eq!(lines[1], "directory 700", "{flags:?}: {seen}");
        assert!(lines[2].starts_with(".sops"), "{flags:?}: {seen}");
        assert_eq!(x.read("copy.txt"), expected, "{flags:?}");
        x.assert_clean(&format!("exec-file {flags:?}"));
    }
    // The command fails, is killed, or never opens the FIFO.
    for command in ["cat {} >/dev/null; exit 9", "kill -KILL $$", "true", "cat {} >/dev/null; kill -TERM $$"] {
        for fifo in [true, false] {
            let mut args = vec!["exec-file"];
            if !fifo {
                args.push("--no-fifo");
            }
            args.extend_from_slice(&["s.yaml", command]);
            let out = x.run(&rsops_bin(), &args);
            assert!(!out.timed_out, "{out}");
            x.assert_clean(&format!("{args:?}"));
        }
    }
    // A refused --filename and a failing FIFO creation leave nothing either.
    for flags in [&["--filename", "../escape"][..], &["--filename", "no/such/dir"], &["--no-fifo", "--filename", "no/such/dir"]] {
        let mut args = vec!["exec-file"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["s.yaml", "cat {}"]);
        let out = x.run(&rsops_bin(), &args);
        assert_eq!(out.code, Some(1), "{out}");
        x.assert_clean(&format!("{flags:?}"));
    }
}

/// Waits until `path` exists (the command has started), panicking after
/// a deadline.
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(pid: &str, signal: &str) {
    let ok = Command::new("kill").args([signal, "--", pid]).status().expect("run kill").success();
    assert!(ok, "kill {signal} {pid}");
}

/// rsops started directly (not through the harness) in its own process
/// group, so a test can signal it and the group like a terminal does.
fn start_exec_file(x: &Exec, command: &str) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    Command::new(rsops_bin())
        .args(["exec-file", "--no-fifo", "s.yaml", command])
        .current_dir(x.sb.work())
        .env("SOPS_AGE_KEY_FILE", &x.identity)
        .env("TMPDIR", &x.tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start rsops")
}

fn finish(child: std::process::Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut child = child;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).unwrap();
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rsops did not end after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGTERM to rsops reaches the command; SIGINT to the whole group (a
/// terminal's Ctrl-C) ends the command while rsops cleans up; SIGINT to
/// rsops alone waits for the command. The plaintext file goes every time.
#[test]
fn signals_to_rsops_still_clean_up() {
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    let started = x.sb.work().join("started");

    let child = start_exec_file(&x, "echo {} > path.txt; touch started; exec sleep 30");
    wait_for(&started);
    let plaintext = PathBuf::from(x.read("path.txt").trim());
    assert!(plaintext.is_file(), "the plaintext file exists while the command runs");
    kill(&child.id().to_string(), "-TERM");
    let (code, err) = finish(child);
    assert_eq!((code, err.as_str()), (Some(255), "signal: terminated\n"));
    assert!(!plaintext.exists());
    x.assert_clean("after SIGTERM to rsops");

    std::fs::remove_file(&started).unwrap();
    let child = start_exec_file(&x, "touch started; exec sleep 30");
    wait_for(&started);
    kill(&format!("-{}", child.id()), "-INT");
    let (code, err) = finish(child);
    assert_eq!((code, err.as_str()), (Some(255), "signal: interrupt\n"));
    x.assert_clean("after SIGINT to the process group");

    std::fs::remove_file(&started).unwrap();
    let child = start_exec_file(&x, "touch started; sleep 1; echo done > done.txt");
    wait_for(&started);
    kill(&child.id().to_string(), "-INT");
    let (code, _) = finish(child);
    assert_eq!(code, Some(0), "the command finished normally");
    assert_eq!(x.read("done.txt"), "done\n");
    x.assert_clean("after SIGINT to rsops alone");
}

/// `--user`: the command runs as that user (root only; skipped otherwise),
/// with the user's `HOME`/`USER` (sops 3.13.2's fix), and can read its file.
#[test]
fn user_switches_the_command() {
    use std::os::unix::fs::PermissionsExt;
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
    let nobody = std::fs::read_to_string("/etc/passwd").unwrap_or_default().lines().any(|l| l.starts_with("nobody:"));
    if !is_root || !nobody {
        eprintln!("note: --user test skipped (needs root and a `nobody` account)");
        return;
    }
    let x = Exec::new();
    x.file("s.yaml", "vectors/yaml-scalars/enc.yaml");
    // The sandbox is private to root; nobody needs a TMPDIR it can reach.
    let shared = tempfile::Builder::new().prefix("rsops-exec-user-").tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |args: &[&str]| x.cmd(&rsops_bin(), args).env("TMPDIR", shared.path()).run().success();
    let out = run(&["exec-env", "--user", "nobody", "s.yaml", "id -un; echo \"$USER $string\""]);
    assert_eq!(out.stdout_text(), "nobody\nnobody hello world\n");
    for flags in [&[][..], &["--no-fifo"][..]] {
        let mut args = vec!["exec-file", "--user", "nobody"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["s.yaml", "id -un; head -c 6 {}"]);
        let out = run(&args);
        assert_eq!(out.stdout_text(), "nobody\nstring", "{flags:?}");
        let left: Vec<_> = std::fs::read_dir(shared.path()).unwrap().collect();
        assert!(left.is_empty(), "left after --user {flags:?}: {left:?}");
    }
    let out = run(&["exec-env", "--same-process", "--user", "nobody", "s.yaml", "id -un"]);
    assert_eq!(out.stdout_text(), "nobody\n");
    if let Some(sops) = reference_sops() {
        let args = ["exec-env", "--user", "nobody", "s.yaml", "id -u; id -g"];
        let ours = x.run(&rsops_bin(), &args);
        let theirs = x.run(&sops, &args);
        assert_eq!((ours.code, ours.stdout), (theirs.code, theirs.stdout));
    }
}

/// `filestatus` answers as sops on encrypted and plain files of every
/// store, metadata without MAC or version, and unloadable input.
#[test]
fn filestatus_matches_sops() {
    let Some(sops) = reference_sops() else { return };
    let x = Exec::new();
    let enc = std::fs::read_to_string(testdata().join("vectors/yaml-scalars/enc.yaml")).unwrap();
    let no_mac = without(&enc, |l| l.trim_start().starts_with("mac:"));
    let no_lastmodified = without(&no_mac, |l| l.contains("lastmodified:"));
    x.file("enc.yaml", "vectors/yaml-scalars/enc.yaml")
        .file("enc.json", "vectors/json-types/enc.json")
        .file("enc.env", "vectors/dotenv-basic/enc.env")
        .file("enc.ini", "vectors/ini-sections/enc.ini")
        .file("enc.bin", "vectors/binary-text/enc.bin")
        .file("plain.yaml", "vectors/yaml-scalars/plain.yaml")
        .file("plain.json", "vectors/json-types/plain.json")
        .file("plain.env", "vectors/dotenv-basic/plain.env")
        .file("plain.ini", "vectors/ini-sections/plain.ini")
        .file("plain.txt", "vectors/binary-text/plain.txt")
        .write("no-mac.yaml", &no_mac)
        .write("no-lastmodified.yaml", &no_lastmodified)
        .write("broken.yaml", "a: [\n")
        .write("empty.yaml", "");
    let cases: &[&[&str]] = &[
        &["filestatus", "enc.yaml"],
        &["filestatus", "enc.json"],
        &["filestatus", "enc.env"],
        &["filestatus", "enc.ini"],
        &["filestatus", "enc.bin"],
        &["filestatus", "plain.yaml"],
        &["filestatus", "plain.json"],
        &["filestatus", "plain.env"],
        &["filestatus", "plain.ini"],
        &["filestatus", "plain.txt"],
        &["filestatus", "no-mac.yaml"],
        &["filestatus", "no-lastmodified.yaml"],
        &["filestatus", "broken.yaml"],
        &["filestatus", "empty.yaml"],
        &["filestatus", "missing.yaml"],
        &["filestatus"],
        &["filestatus", "enc.yaml", "plain.yaml"],
        &["filestatus", "--input-type", "json", "enc.yaml"],
        &["filestatus", "--input-type", "yaml", "enc.json"],
        &["filestatus", "enc.yaml", "--input-type", "json"],
    ];
    let mut report = Report::new("filestatus vs sops");
    for args in cases {
        report.case(&args.join(" "), &compare(&x, &sops, args, same));
    }
    report.finish();
    // The answers themselves, so the comparison above cannot pass vacuously.
    let out = x.run(&rsops_bin(), &["filestatus", "enc.yaml"]).success();
    assert_eq!(out.stdout, b"{\"encrypted\":true}\n");
    let out = x.run(&rsops_bin(), &["filestatus", "no-mac.yaml"]).success();
    assert_eq!(out.stdout, b"{\"encrypted\":false}\n");
}

/// `completion bash|zsh` and the help pages print exactly sops's text
/// (run under the name `sops`, which the help embeds).
#[test]
fn completion_and_help_match_sops() {
    let Some(sops) = reference_sops() else { return };
    let x = Exec::new();
    let bin = x.sb.home().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let ours = bin.join("sops");
    std::os::unix::fs::symlink(rsops_bin(), &ours).unwrap();
    let mut report = Report::new("completion/help vs sops");
    let cases: &[&[&str]] = &[
        &["completion", "bash"],
        &["completion", "zsh"],
        &["completion"],
        &["completion", "fish"],
        &["help"],
        &["h"],
        &["--help"],
        &["help", "exec-env"],
        &["help", "exec-file"],
        &["help", "filestatus"],
        &["exec-env", "--help"],
        &["exec-file", "-h"],
        &["filestatus", "--help"],
        &["help", "no-such-command"],
        &["exec-env", "--generate-bash-completion"],
        &["exec-file", "--n", "--generate-bash-completion"],
    ];
    for args in cases {
        let theirs = x.run(&sops, args);
        let mine = x.run(&ours, args);
        report.case(&args.join(" "), &differences(&mine, &theirs, same));
    }
    report.finish();
    let out = x.run(&ours, &["completion", "bash"]).success();
    assert!(out.stdout_text().contains("complete -o bashdefault -o default -o nospace -F _cli_bash_autocomplete sops"));
}
