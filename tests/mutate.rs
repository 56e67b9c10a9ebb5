//! `rotate`, `updatekeys`, `groups add|delete`, `set`, `unset` and the
//! legacy `-r`/`--set` forms end to end (cli.md §4.4–4.8, §4.12).
//!
//! Files go both ways: rsops changes files the real sops encrypted and sops
//! must decrypt the result; sops changes files rsops encrypted and rsops
//! must decrypt them. Error cases run both programs on the same files and
//! compare exit codes, stderr and the files left behind. Without the
//! reference sops (`RSOPS_SKIP_SOPS_INTEROP=1`) the rsops-only checks
//! still run.

use std::path::{Path, PathBuf};

use crate::util::run::{rsops_bin, Output, Sandbox};
use crate::util::{keys_dir, reference_sops};

const PLAIN: &str = "a: 1\nb: hello\nlist:\n    - x\n    - z\nnested:\n    c: keep\n    d_unencrypted: open\n";

fn recipient(key: &str) -> String {
    let text = std::fs::read_to_string(keys_dir().join(key)).expect("test key");
    text.lines().find_map(|l| l.strip_prefix("# public key: ")).expect("public key line").to_owned()
}

fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// One sandbox with the files of a test and the programs to run there.
struct Fx {
    sb: Sandbox,
    sops: Option<PathBuf>,
}

impl Fx {
    fn new() -> Fx {
        Fx { sb: Sandbox::new(), sops: reference_sops() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.sb.work().join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.path(name), bytes).expect("write fixture");
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    fn text(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("utf-8")
    }

    /// Runs `program` with the given age keys as `SOPS_AGE_KEY_FILE`.
    fn run(&self, program: &Path, args: &[&str], with: &[&str], stdin: Option<&str>) -> Output {
        let identity = self.sb.identity(&keys(with));
        let mut cmd = self.sb.command(program).args(args).age_keys(Some(&identity));
        if let Some(s) = stdin {
            cmd = cmd.stdin(s.as_bytes().to_vec());
        }
        cmd.run()
    }

    fn rsops(&self, args: &[&str], with: &[&str]) -> Output {
        self.run(&rsops_bin(), args, with, None)
    }

    /// The reference sops, or rsops when sops is not installed.
    fn other(&self) -> PathBuf {
        self.sops.clone().unwrap_or_else(rsops_bin)
    }

    /// `name` encrypted from `plain` for `recipients` by `program`.
    fn encrypt_with(&self, program: &Path, plain: &str, name: &str, recipients: &str) {
        let src = format!("plain-{name}");
        self.write(&src, plain);
        let out = self.run(program, &["encrypt", "--age", recipients, "--filename-override", name, &src], &[], None);
        let out = out.success();
        self.write(name, &out.stdout);
        std::fs::remove_file(self.path(&src)).expect("remove plain");
    }

    /// Decrypts `name` with `program` and the given keys; panics on failure.
    fn decrypt_with(&self, program: &Path, name: &str, with: &[&str]) -> String {
        let out = self.run(program, &["decrypt", name], with, None).success();
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

/// The `ENC[...]` value on each line, by line, for IV comparisons.
fn enc_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains("ENC[AES256_GCM") && !l.trim_start().starts_with("mac"))
        .map(|(i, l)| (i, l.to_owned()))
        .collect()
}

fn field<'a>(enc: &'a str, name: &str) -> &'a str {
    let start = enc.find(&format!("{name}:")).expect("field") + name.len() + 1;
    let rest = &enc[start..];
    &rest[..rest.find([',', ']']).expect("end of field")]
}

#[test]
fn set_changes_only_the_touched_value() {
    let fx = Fx::new();
    let r1 = recipient("key1.txt");
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &r1);
    let before = fx.text("s.yaml");
    fx.rsops(&["set", "s.yaml", r#"["b"]"#, r#""changed""#], &["key1.txt"]).success();
    let after = fx.text("s.yaml");
    let (b, a) = (enc_lines(&before), enc_lines(&after));
    assert_eq!(b.len(), a.len());
    for ((_, old), (_, new)) in b.iter().zip(&a) {
        if old.trim_start().starts_with("b:") {
            assert_ne!(field(old, "iv"), field(new, "iv"), "the set value gets a new IV");
        } else {
            assert_eq!(old, new, "unchanged values keep their ciphertext byte for byte");
        }
    }
    assert!(after.contains("version: 3.11.0"));
    let plain = fx.decrypt_with(&fx.other(), "s.yaml", &["key1.txt"]);
    assert_eq!(plain, PLAIN.replace("b: hello", "b: changed"));
    // A JSON number stores a float (cli.md §13.16); objects keep their order.
    fx.rsops(&["set", "s.yaml", r#"["nested"]["p"]"#, r#"{"z": 2, "q": [true, null]}"#], &["key1.txt"]).success();
    fx.rsops(&["set", "s.yaml", r#"["a"]"#, "8080"], &["key1.txt"]).success();
    let text = fx.text("s.yaml");
    assert!(text.lines().next().unwrap().ends_with("type:float]"), "{text}");
    let plain = fx.decrypt_with(&fx.other(), "s.yaml", &["key1.txt"]);
    assert!(plain.starts_with("a: 8080\n"), "{plain}");
    assert!(plain.contains("    p:\n        z: 2\n        q:\n            - true\n            - null\n"), "{plain}");
}

#[test]
fn set_idempotent_and_unset_idempotent_write_nothing() {
    let fx = Fx::new();
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &recipient("key1.txt"));
    let before = fx.read("s.yaml");
    let out = fx.rsops(&["set", "--idempotent", "s.yaml", r#"["b"]"#, r#""hello""#], &["key1.txt"]).success();
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out}");
    assert_eq!(fx.read("s.yaml"), before, "no change, no write");
    fx.rsops(&["unset", "--idempotent", "s.yaml", r#"["nope"]"#], &["key1.txt"]).success();
    fx.rsops(&["unset", "--idempotent", "s.yaml", r#"["list"][7]"#], &["key1.txt"]).success();
    assert_eq!(fx.read("s.yaml"), before);
    // An int and the float a JSON number gives are different values.
    fx.rsops(&["set", "--idempotent", "s.yaml", r#"["a"]"#, "1"], &["key1.txt"]).success();
    assert_ne!(fx.read("s.yaml"), before);
    // Without --idempotent the file is always rewritten.
    let before = fx.read("s.yaml");
    fx.rsops(&["set", "s.yaml", r#"["b"]"#, r#""hello""#], &["key1.txt"]).success();
    assert_ne!(fx.read("s.yaml"), before);
}

#[test]
fn unset_removes_and_sops_reads_the_result() {
    let fx = Fx::new();
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &recipient("key1.txt"));
    fx.rsops(&["unset", "s.yaml", r#"["list"][0]"#], &["key1.txt"]).success();
    fx.rsops(&["unset", "s.yaml", r#"["nested"]["c"]"#], &["key1.txt"]).success();
    fx.rsops(&["unset", "s.yaml", r#"["a"]"#], &["key1.txt"]).success();
    let plain = fx.decrypt_with(&fx.other(), "s.yaml", &["key1.txt"]);
    assert_eq!(plain, "b: hello\nlist:\n    - z\nnested:\n    d_unencrypted: open\n");
}

/// Runs the same command with sops and rsops on copies of the same files
/// and compares exit code, stdout, stderr and the decrypted files.
fn same_as_sops(files: &[(&str, Vec<u8>)], args: &[&str], with: &[&str], stdin: Option<&str>) -> Vec<String> {
    let Some(sops) = reference_sops() else { return Vec::new() };
    let run = |program: &Path| {
        let fx = Fx::new();
        for (name, bytes) in files {
            fx.write(name, bytes);
        }
        let out = fx.run(program, args, with, stdin);
        (fx, out)
    };
    let (theirs_fx, theirs) = run(&sops);
    let (ours_fx, ours) = run(&rsops_bin());
    let norm = |fx: &Fx, s: &str| {
        let s = fx.sb.redact(s);
        // Log lines carry the time.
        s.lines()
            .map(|l| match l.find("time=\"") {
                Some(i) => format!("{}{}", &l[..i], &l[i + 26..]),
                None if l.len() > 20 && l.as_bytes()[4] == b'/' && l.as_bytes()[13] == b':' => l[20..].to_owned(),
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut bad = Vec::new();
    if ours.code != theirs.code {
        bad.push(format!("exit {:?} vs sops's {:?}: {}", ours.code, theirs.code, ours));
    }
    if norm(&ours_fx, &ours.stderr) != norm(&theirs_fx, &theirs.stderr) {
        bad.push(format!(
            "stderr differs:\n  ours:   {:?}\n  theirs: {:?}",
            norm(&ours_fx, &ours.stderr),
            norm(&theirs_fx, &theirs.stderr)
        ));
    }
    let stdout_is_text = !ours.stdout.windows(3).any(|w| w == b"ENC");
    if stdout_is_text && ours.stdout != theirs.stdout {
        bad.push(format!("stdout differs: {:?} vs {:?}", ours.stdout_text(), theirs.stdout_text()));
    }
    for (name, original) in files {
        let (a, b) = (ours_fx.read(name), theirs_fx.read(name));
        if (a == *original) != (b == *original) {
            bad.push(format!("{name}: one program rewrote it, the other did not"));
        } else if a != *original {
            let pa = ours_fx.run(&sops, &["decrypt", name], &["key1.txt", "key2.txt", "key3.txt"], None);
            let pb = theirs_fx.run(&sops, &["decrypt", name], &["key1.txt", "key2.txt", "key3.txt"], None);
            if pa.stdout != pb.stdout || pa.code != pb.code {
                bad.push(format!("{name}: decrypts differently: {:?} vs {:?}", pa.stdout_text(), pb.stdout_text()));
            }
        }
    }
    bad
}

fn sops_file(plain: &str, name: &str, recipients: &str) -> Vec<u8> {
    let fx = Fx::new();
    fx.encrypt_with(&fx.other(), plain, name, recipients);
    fx.read(name)
}

#[test]
fn set_and_unset_fail_as_sops_does() {
    let s = sops_file(PLAIN, "s.yaml", &recipient("key1.txt"));
    let d = sops_file("A=1\nB=2\n", "d.env", &recipient("key1.txt"));
    let f = || vec![("s.yaml", s.clone()), ("d.env", d.clone())];
    let mut report = crate::util::Report::new("set/unset against sops");
    let cases: &[&[&str]] = &[
        &["set", "s.yaml", r#"["b"]"#],
        &["set", "--value-stdin", "--value-file", "s.yaml", r#"["b"]"#, "1"],
        &["set", "--value-stdin", "s.yaml", r#"["b"]"#, "1"],
        &["set", "s.yaml", "x", "1"],
        &["set", "s.yaml", r#"["b"]"#, "[1, 2]"],
        &["set", "s.yaml", r#"["b"]"#, "{\"a\": 1"],
        &["set", "s.yaml", r#"["b"]"#, "1e400"],
        &["set", "--value-file", "s.yaml", r#"["b"]"#, "missing.json"],
        &["set", "missing.yaml", r#"["b"]"#, "1"],
        &["set", "--decryption-order", "age,age", "s.yaml", r#"["b"]"#, "1"],
        // `set s.yaml [0] 1` is left out: on a mapping sops sets nothing, and
        // whether it then rewrites the file differed between runs of the same
        // sops binary, so the comparison cannot be pinned (cli.md §13.18).
        &["set", "d.env", r#"["X"]["y"]"#, "1"],
        &["set", "d.env", r#"["X"]"#, "1.5"],
        &["unset", "s.yaml"],
        &["unset", "s.yaml", r#"["zz"]"#],
        &["unset", "s.yaml", "[0]"],
        &["unset", "s.yaml", r#"["list"][9]"#],
        &["unset", "s.yaml", r#"["b"]["c"]"#],
        &["unset", "--idempotent", "s.yaml", r#"["b"]["c"]"#],
        &["unset", "s.yaml", "zz"],
        &["--set", r#"["b"]{"x":1}"#, "s.yaml"],
        &["--set", r#"["b"] {"x":1"#, "s.yaml"],
        &["--set", "x] 1", "s.yaml"],
        &["--set", r#"["b"] "new""#, "missing.yaml"],
        &["--set", r#"["b"]   {"x": [1]}"#, "s.yaml"],
        &["--set", r#"["b"] "new""#, "-i", "--output", "o", "s.yaml"],
    ];
    for args in cases {
        report.case(&args.join(" "), &same_as_sops(&f(), args, &["key1.txt"], None));
    }
    report.case(
        "value on stdin",
        &same_as_sops(&f(), &["set", "--value-stdin", "s.yaml", r#"["v"]"#], &["key1.txt"], Some("{\"q\": true}")),
    );
    report.finish();
}

#[test]
fn rotate_new_key_same_ivs_and_key_changes() {
    let fx = Fx::new();
    let (r1, r2) = (recipient("key1.txt"), recipient("key2.txt"));
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &r1);
    let before = fx.text("s.yaml");
    fx.rsops(&["rotate", "-i", "s.yaml"], &["key1.txt"]).success();
    let after = fx.text("s.yaml");
    for ((_, old), (_, new)) in enc_lines(&before).iter().zip(&enc_lines(&after)) {
        assert_eq!(field(old, "iv"), field(new, "iv"), "rotate keeps IVs (format.md §2.6)");
        assert_ne!(field(old, "tag"), field(new, "tag"), "but the key is new");
    }
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key1.txt"]), PLAIN);
    fx.rsops(&["rotate", "-i", "--add-age", &r2, "s.yaml"], &["key1.txt"]).success();
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key2.txt"]), PLAIN);
    fx.rsops(&["rotate", "-i", "--rm-age", &r1, "s.yaml"], &["key2.txt"]).success();
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key2.txt"]), PLAIN);
    assert!(!fx.text("s.yaml").contains(&r1), "key 1 is gone");
    // Legacy -r with --output, and the file rsops encrypted rotated by sops.
    fx.rsops(&["-r", "--output", "o.yaml", "s.yaml"], &["key2.txt"]).success();
    assert_eq!(fx.decrypt_with(&fx.other(), "o.yaml", &["key2.txt"]), PLAIN);
    let other = fx.other();
    fx.encrypt_with(&rsops_bin(), PLAIN, "r.yaml", &r1);
    fx.run(&other, &["rotate", "-i", "--add-age", &r2, "r.yaml"], &["key1.txt"], None).success();
    assert_eq!(fx.decrypt_with(&rsops_bin(), "r.yaml", &["key2.txt"]), PLAIN);
}

#[test]
fn rotate_of_a_binary_file_records_the_default_rule() {
    let fx = Fx::new();
    fx.encrypt_with(&fx.other(), "raw bytes\n", "b.bin", &recipient("key1.txt"));
    assert!(!fx.text("b.bin").contains("unencrypted_suffix"));
    fx.rsops(&["rotate", "-i", "b.bin"], &["key1.txt"]).success();
    assert!(fx.text("b.bin").contains("\"unencrypted_suffix\": \"_unencrypted\""), "format.md §4.5");
    assert_eq!(fx.decrypt_with(&fx.other(), "b.bin", &["key1.txt"]), "raw bytes\n");
}

#[test]
fn rotate_fails_as_sops_does() {
    let s = sops_file(PLAIN, "s.yaml", &recipient("key1.txt"));
    let f = || vec![("s.yaml", s.clone())];
    let r2 = recipient("key2.txt");
    let mut report = crate::util::Report::new("rotate against sops");
    let cases: Vec<Vec<&str>> = vec![
        vec!["rotate", "-i", "--add-age", &r2, "missing.yaml"],
        vec!["rotate", "-i", "missing.yaml"],
        vec!["rotate", "-i", "--output", "x", "s.yaml"],
        vec!["rotate", "-i", "--add-age", "bogus", "s.yaml"],
        vec!["rotate", "-i", "--rm-age", &r2, "s.yaml"],
        vec!["rotate"],
        vec!["-r", "-i", "--add-age", &r2, "missing.yaml"],
        vec!["-r", "missing.yaml"],
        vec!["--add-age", &r2, "missing.yaml"],
    ];
    for args in &cases {
        report.case(&args.join(" "), &same_as_sops(&f(), args, &["key1.txt"], None));
    }
    report.case("wrong key", &same_as_sops(&f(), &["rotate", "-i", "s.yaml"], &["key2.txt"], None));
    report.finish();
}

fn rule_config(recipients: &[String]) -> String {
    format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n", recipients.join(","))
}

#[test]
fn updatekeys_prints_asks_and_keeps_the_data_key() {
    let fx = Fx::new();
    let (r1, r3) = (recipient("key1.txt"), recipient("key3.txt"));
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &r1);
    fx.write(".sops.yaml", rule_config(&[r1.clone(), r3.clone()]));
    let before = fx.text("s.yaml");
    let want = format!(
        "The following changes will be made to the file's groups:\nGroup 1\n    {r1}\n+++ {r3}\nIs this okay? (y/n):"
    );
    // `n` leaves the file alone.
    let out = fx.run(&rsops_bin(), &["updatekeys", "s.yaml"], &["key1.txt"], Some("n\n")).success();
    assert_eq!(out.stdout_text(), want);
    assert!(out.stderr.contains("Syncing keys for file ") && out.stderr.contains(" left unchanged\n"), "{out}");
    assert_eq!(fx.text("s.yaml"), before);
    // No answer at all: `EOF`, exit 1; a re-asked question has no newline.
    let out = fx.run(&rsops_bin(), &["updatekeys", "s.yaml"], &["key1.txt"], Some("Y\n"));
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout_text(), format!("{want}Is this okay? (y/n):"));
    assert!(out.stderr.ends_with("\nEOF\n"), "{out}");
    // `y`: the rule's keys, the same data key, values/MAC/lastmodified kept.
    let out = fx.run(&rsops_bin(), &["updatekeys", "s.yaml"], &["key1.txt"], Some("y\n")).success();
    assert_eq!(out.stdout_text(), want);
    let after = fx.text("s.yaml");
    assert_eq!(enc_lines(&before), enc_lines(&after));
    let keep = |t: &str| {
        t.lines().filter(|l| l.contains("lastmodified") || l.contains("mac:")).map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(keep(&before), keep(&after));
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key3.txt"]), PLAIN);
    // Up to date now: nothing printed, nothing asked.
    let out = fx.rsops(&["updatekeys", "s.yaml"], &["key3.txt"]).success();
    assert!(out.stdout.is_empty() && out.stderr.contains("already up to date"), "{out}");
}

#[test]
fn updatekeys_matches_sops() {
    let (r1, r2, r3) = (recipient("key1.txt"), recipient("key2.txt"), recipient("key3.txt"));
    let s = sops_file(PLAIN, "s.yaml", &format!("{r1},{r2}"));
    let e = sops_file(PLAIN, "e.yaml", &r1);
    let groups_rule = format!(
        "creation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [{r1}]\n      - age: [{r3}]\n"
    );
    let mut report = crate::util::Report::new("updatekeys against sops");
    let with = |cfg: &str| vec![("s.yaml", s.clone()), ("e.yaml", e.clone()), (".sops.yaml", cfg.as_bytes().to_vec())];
    let flat = rule_config(&[r1.clone(), r3.clone()]);
    report.case("-y", &same_as_sops(&with(&flat), &["updatekeys", "-y", "s.yaml"], &["key1.txt"], None));
    report.case(
        "two files",
        &same_as_sops(&with(&flat), &["updatekeys", "s.yaml", "e.yaml"], &["key1.txt"], Some("y\nn\n")),
    );
    report.case("groups", &same_as_sops(&with(&groups_rule), &["updatekeys", "-y", "s.yaml"], &["key1.txt"], None));
    report.case("bad answers", &same_as_sops(&with(&flat), &["updatekeys", "s.yaml"], &["key1.txt"], Some("yes no\n")));
    report.case("empty answer", &same_as_sops(&with(&flat), &["updatekeys", "s.yaml"], &["key1.txt"], Some("\n")));
    report.case(
        "missing and good",
        &same_as_sops(&with(&flat), &["updatekeys", "-y", "nope.yaml", "e.yaml"], &["key1.txt"], None),
    );
    report.case("no key", &same_as_sops(&with(&flat), &["updatekeys", "-y", "s.yaml"], &["key3.txt"], None));
    report.case(
        "no rule",
        &same_as_sops(
            &with("creation_rules:\n  - path_regex: \\.json$\n    age: x\n"),
            &["updatekeys", "-y", "s.yaml"],
            &["key1.txt"],
            None,
        ),
    );
    report.case("no files", &same_as_sops(&with(&flat), &["updatekeys"], &["key1.txt"], None));
    report.case("no config", &same_as_sops(&[("s.yaml", s.clone())], &["updatekeys", "s.yaml"], &["key1.txt"], None));
    report.case("directory", &same_as_sops(&with(&flat), &["updatekeys", "-y", "."], &["key1.txt"], None));
    report.finish();
}

#[test]
fn groups_add_and_delete_round_trip() {
    let fx = Fx::new();
    let (r1, r2) = (recipient("key1.txt"), recipient("key2.txt"));
    fx.encrypt_with(&fx.other(), PLAIN, "s.yaml", &r1);
    let before = fx.text("s.yaml");
    let out = fx.rsops(&["groups", "add", "--file", "s.yaml", "--age", &r2], &["key1.txt"]).success();
    let text = out.stdout_text();
    assert!(text.contains("    shamir_threshold: 2\n    key_groups:\n"), "{text}");
    assert_eq!(fx.text("s.yaml"), before, "stdout unless -i");
    fx.rsops(&["groups", "add", "-i", "--file", "s.yaml", "--age", &r2], &["key1.txt"]).success();
    // Values, MAC and lastmodified are untouched.
    assert_eq!(enc_lines(&before), enc_lines(&fx.text("s.yaml")));
    // Both groups are needed now.
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key1.txt", "key2.txt"]), PLAIN);
    let one = fx.run(&fx.other(), &["decrypt", "s.yaml"], &["key1.txt"], None);
    assert_eq!(one.code, Some(128), "{one}");
    fx.rsops(
        &["groups", "delete", "-i", "--file", "s.yaml", "--shamir-secret-sharing-threshold", "1", "0"],
        &["key1.txt", "key2.txt"],
    )
    .success();
    assert_eq!(fx.decrypt_with(&fx.other(), "s.yaml", &["key2.txt"]), PLAIN);
    // Defects of sops fixed (cli.md §13.18): no panic, no unreadable file.
    let out = fx.rsops(&["groups", "delete", "--file", "s.yaml", "5"], &["key2.txt"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("level=fatal"), "{out}");
    let out = fx.rsops(&["groups", "add", "--file", "s.yaml"], &["key2.txt"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("level=fatal msg=\"Could not generate data key: ["), "{out}");
}

#[test]
fn groups_fail_as_sops_does() {
    let (r1, r2) = (recipient("key1.txt"), recipient("key2.txt"));
    let s = sops_file(PLAIN, "s.yaml", &r1);
    let f = || vec![("s.yaml", s.clone())];
    let mut report = crate::util::Report::new("groups against sops");
    let cases: Vec<Vec<&str>> = vec![
        vec!["groups", "add", "--file", "s.yaml", "--age", &r2, "extra"],
        vec!["groups", "add", "--age", &r2],
        vec!["groups", "add", "--file", "missing.yaml", "--age", &r2],
        vec!["groups", "add", "--file", "s.yaml", "--age", &r2, "--age", "bogus"],
        vec!["groups", "delete", "--file", "s.yaml", "x"],
        vec!["groups", "delete", "--file", "s.yaml"],
        vec!["groups", "delete", "--file", "s.yaml", "0", "1"],
    ];
    for args in &cases {
        report.case(&args.join(" "), &same_as_sops(&f(), args, &["key1.txt"], None));
    }
    report.case(
        "wrong key",
        &same_as_sops(&f(), &["groups", "add", "--file", "s.yaml", "--age", &r2], &["key3.txt"], None),
    );
    report.finish();
}
