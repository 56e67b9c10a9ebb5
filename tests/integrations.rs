//! The exact sops command lines other tools run (integrations.md §2):
//! helm-secrets, pre-commit hooks, CI actions, ansible's `community.sops`,
//! git clean/smudge filters and the textconv diff recipe.
//!
//! Each line runs twice through `/bin/sh`, once with the reference sops and
//! once with rsops installed as `sops` first on `PATH`, in two identical
//! sandboxes. Both runs must give the same exit code and stderr (log
//! timestamps aside; helm-secrets merges stderr into stdout), the same stdout
//! where the line's output is deterministic, and afterwards the same answer
//! to a check line run with the reference sops (`refsops`: it decrypts what
//! the line encrypted). Files the line encrypted must also have the
//! structure sops gives them (`util::skeleton`).

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::util::run::{first_difference, rsops_bin, Output, Sandbox};
use crate::util::{reference_sops, skeleton, testdata, Report};

/// The key1 recipient (testdata/keys/age/key1.txt).
const RECIPIENT: &str = "age1l7u8326zfw2ve9jzfu8ndz0g4xhntlwlrq0w0wv3pfv7kv9ql3lsussgnk";

/// Files every sandbox starts with: `dest`, `testdata/` source.
const FILES: &[(&str, &str)] = &[
    ("enc.yaml", "vectors/yaml-scalars/enc.yaml"),
    ("secrets.enc.yaml", "vectors/yaml-scalars/enc.yaml"),
    ("nested.yaml", "vectors/yaml-nested/enc.yaml"),
    ("enc.json", "vectors/json-types/enc.json"),
    ("enc.env", "vectors/dotenv-basic/enc.env"),
    (".env.enc", "vectors/dotenv-basic/enc.env"),
    ("enc.bin", "vectors/binary-text/enc.bin"),
    ("secrets.yaml", "vectors/yaml-nested/plain.yaml"),
    ("values.json", "vectors/json-types/plain.json"),
    ("app.env", "vectors/dotenv-basic/plain.env"),
    ("blob.txt", "vectors/binary-text/plain.txt"),
    ("plain.yaml", "vectors/yaml-scalars/plain.yaml"),
    ("v1.yaml", "vectors/yaml-scalars/enc.yaml"),
    ("v2.yaml", "vectors/yaml-nested/enc.yaml"),
];

/// One integration's command line.
struct Line {
    /// Who runs it.
    who: &'static str,
    /// The shell line; `sops` is the program under test.
    command: &'static str,
    /// Compare the line's stdout (false where it is a fresh encryption).
    stdout: bool,
    /// Run afterwards with `refsops` (the reference sops); its stdout and
    /// exit code must match between the two runs.
    check: &'static str,
    /// Encrypted files the line wrote, compared structurally.
    encrypted: &'static [&'static str],
    /// Compare stderr (not for `--verbose`: sops's debug lines hold Go
    /// pointers, and rsops does not reproduce its info/debug logging).
    stderr: bool,
}

const fn same(who: &'static str, command: &'static str) -> Line {
    Line { who, command, stdout: true, check: "", encrypted: &[], stderr: true }
}

const fn encrypts(who: &'static str, command: &'static str, check: &'static str, encrypted: &'static [&'static str]) -> Line {
    Line { who, command, stdout: false, check, encrypted, stderr: true }
}

/// helm-secrets' "is it encrypted" test, then the plaintext by sops.
const HELM_CHECK_YAML: &str = "grep -q 'mac.*,type:str]' secrets.yaml && echo helm-sees-encrypted; refsops --decrypt secrets.yaml";

fn lines() -> Vec<Line> {
    vec![
        // helm-secrets v4.7 (scripts/lib/backends/sops.sh), [ARGS] empty
        encrypts("helm-secrets", "sops --encrypt --input-type yaml --output-type yaml --in-place secrets.yaml", HELM_CHECK_YAML, &["secrets.yaml"]),
        encrypts(
            "helm-secrets",
            "sops --encrypt --input-type yaml --output-type yaml secrets.yaml > out.yaml",
            "grep -q 'mac.*,type:str]' out.yaml && echo helm-sees-encrypted; refsops --decrypt out.yaml",
            &["out.yaml"],
        ),
        encrypts(
            "helm-secrets",
            "sops --encrypt --input-type yaml --output-type yaml --output out.yaml secrets.yaml",
            "refsops --decrypt out.yaml; cat secrets.yaml",
            &["out.yaml"],
        ),
        encrypts(
            "helm-secrets",
            "sops --encrypt --input-type json --output-type json --in-place values.json",
            "grep -q 'mac.*,type:str]' values.json && echo helm-sees-encrypted; refsops --decrypt values.json",
            &["values.json"],
        ),
        encrypts(
            "helm-secrets",
            "sops --encrypt --input-type binary --output-type binary --output blob.enc blob.txt",
            "grep -q '\"data\": \"ENC' blob.enc && echo helm-sees-binary; refsops --decrypt --input-type binary --output-type binary blob.enc",
            &["blob.enc"],
        ),
        same("helm-secrets", "sops --decrypt --input-type yaml --output-type yaml --in-place enc.yaml; cat enc.yaml"),
        same("helm-secrets", "sops --decrypt --input-type yaml --output-type yaml enc.yaml"),
        same("helm-secrets", "sops --decrypt --input-type yaml --output-type yaml --output out.yaml enc.yaml; cat out.yaml"),
        same("helm-secrets", "sops --decrypt --input-type json --output-type json enc.json"),
        same("helm-secrets", "sops --decrypt --input-type binary --output-type binary enc.bin"),
        same("helm-secrets", "cat enc.json | sops --decrypt --input-type json --output-type json /dev/stdin"),
        same("helm-secrets", "sops --decrypt --input-type yaml --output-type yaml plain.yaml 2>&1"),
        // helm-secrets with HELM_SECRETS_BACKEND_ARGS=--verbose (a debugging
        // aid): the same results; sops's extra info/debug lines are not compared.
        Line { stderr: false, ..same("helm-secrets", "sops --verbose --decrypt --input-type yaml --output-type yaml enc.yaml") },
        Line {
            stderr: false,
            ..encrypts(
                "helm-secrets",
                "sops --verbose --encrypt --input-type yaml --output-type yaml --in-place secrets.yaml",
                HELM_CHECK_YAML,
                &["secrets.yaml"],
            )
        },
        // helm-secrets edit: the old implicit edit mode, a scripted editor
        encrypts(
            "helm-secrets",
            "printf '#!/bin/sh\\nsed -i \"s/hello world/edited/\" \"$1\"\\n' > ed.sh; chmod +x ed.sh; EDITOR=./ed.sh sops --input-type yaml --output-type yaml enc.yaml",
            "refsops --decrypt enc.yaml",
            &["enc.yaml"],
        ),
        // pre-commit hooks and home-made checks
        same("pre-commit", "sops filestatus enc.yaml | jq -e .encrypted"),
        same("pre-commit", "sops filestatus plain.yaml | jq -e .encrypted"),
        same("pre-commit", "sops filestatus enc.json; sops filestatus enc.env; sops filestatus blob.txt"),
        encrypts("sops-checker --fix", "sops --encrypt --in-place secrets.yaml", HELM_CHECK_YAML, &["secrets.yaml"]),
        encrypts("djh00t hooks", "sops -e -i secrets.yaml", HELM_CHECK_YAML, &["secrets.yaml"]),
        // CI actions and hand-written steps
        same("metro-digital/sops-decrypt", "sops --decrypt --output-type json enc.yaml"),
        same("metro-digital/sops-decrypt", "sops --decrypt --output-type yaml enc.json"),
        same("metro-digital/sops-decrypt", "sops --decrypt --output-type dotenv enc.yaml"),
        same("metro-digital/sops-decrypt", "sops --decrypt --output-type dotenv nested.yaml"),
        same("LNSD/sops-exec-action", "sops exec-env enc.yaml 'echo \"$string\" \"$int\"'"),
        same("LNSD/sops-exec-action", "sops exec-env enc.yaml 'echo started; exit 3'"),
        same("LNSD/sops-exec-action", "sops --disable-version-check --version"),
        same("CI step", "sops --decrypt secrets.enc.yaml > secrets.yaml; cat secrets.yaml"),
        same("CI step", "sops -d --input-type dotenv --output-type dotenv .env.enc > .env; cat .env"),
        same("CI step", "sops -d --extract '[\"string\"]' enc.yaml"),
        // ansible community.sops (module_utils/sops.py): global options first
        same(
            "ansible",
            "sops --aws-profile default --config .sops.yaml --enable-local-keyservice --input-type yaml --output-type yaml --decrypt enc.yaml",
        ),
        same("ansible", "cat enc.yaml | sops --input-type yaml --output-type yaml --decrypt /dev/stdin"),
        same("ansible", "cat enc.bin | sops --decrypt /dev/stdin"),
        encrypts(
            "ansible",
            "cat plain.yaml | sops --config .sops.yaml --input-type yaml --output-type yaml --encrypt /dev/stdin > out.yaml",
            "refsops --decrypt out.yaml",
            &["out.yaml"],
        ),
        encrypts(
            "ansible",
            "cat plain.yaml | sops --config .sops.yaml --unencrypted-suffix _words --shamir-secret-sharing-threshold 1 --input-type yaml --output-type yaml --encrypt /dev/stdin > out.yaml",
            "refsops --decrypt out.yaml",
            &["out.yaml"],
        ),
        encrypts(
            "ansible",
            "cat secrets.yaml | sops --encrypted-regex '^(password|host)$' --input-type yaml --output-type yaml --encrypt /dev/stdin > out.yaml",
            "refsops --decrypt out.yaml",
            &["out.yaml"],
        ),
        // git clean/smudge filters (getsops/sops#1137)
        encrypts(
            "git clean filter",
            "sops --encrypt --filename-override secrets.yaml /dev/stdin < secrets.yaml > clean.yaml",
            "refsops --decrypt clean.yaml",
            &["clean.yaml"],
        ),
        same("git smudge filter", "sops --decrypt --filename-override secrets.yaml /dev/stdin < enc.yaml"),
        // git textconv: `textconv = sops decrypt`, and the older `sops -d`
        same("git textconv", TEXTCONV_DECRYPT),
        same("git textconv", TEXTCONV_D),
    ]
}

const TEXTCONV_DECRYPT: &str = "export GIT_CONFIG_NOSYSTEM=1; git init -q repo && cd repo && git config user.email t@example.com && git config user.name t \
     && printf '*.yaml diff=sopsdiffer\\n' > .gitattributes && git config diff.sopsdiffer.textconv 'sops decrypt' \
     && cp ../v1.yaml s.yaml && git add . && git commit -qm one && cp ../v2.yaml s.yaml \
     && git diff --no-color HEAD -- s.yaml | grep -v '^index '";

const TEXTCONV_D: &str = "export GIT_CONFIG_NOSYSTEM=1; git init -q repo && cd repo && git config user.email t@example.com && git config user.name t \
     && printf '*.yaml diff=sopsdiffer\\n' > .gitattributes && git config diff.sopsdiffer.textconv 'sops -d' \
     && cp ../v1.yaml s.yaml && git add . && git commit -qm one && cp ../v2.yaml s.yaml \
     && git log -p --no-color -1 --format=%s -- s.yaml; git diff --no-color HEAD -- s.yaml | grep -v '^index '";

/// A sandbox with the fixtures, a `.sops.yaml` whose rule matches every
/// path (ansible's /dev/stdin included), the key1 identity, and `bin/` with
/// `sops` (the program under test) and `refsops` (the reference sops).
struct Setup {
    sb: Sandbox,
    bin: PathBuf,
    identity: PathBuf,
}

fn setup(program: &Path, reference: &Path) -> Setup {
    let sb = Sandbox::new();
    for (dest, src) in FILES {
        std::fs::copy(testdata().join(src), sb.work().join(dest)).unwrap_or_else(|e| panic!("copy {src}: {e}"));
    }
    std::fs::write(sb.work().join(".sops.yaml"), format!("creation_rules:\n  - age: {RECIPIENT}\n")).unwrap();
    let bin = sb.home().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(program, bin.join("sops")).unwrap();
    // A script, not a link: sops may be a pyenv shim, which goes by its name.
    let refsops = bin.join("refsops");
    std::fs::write(&refsops, format!("#!/bin/sh\nexec '{}' \"$@\"\n", reference.display())).unwrap();
    std::fs::set_permissions(&refsops, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let identity = sb.identity(&["key1.txt".to_owned()]);
    Setup { sb, bin, identity }
}

impl Setup {
    fn sh(&self, line: &str) -> Output {
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default());
        self.sb
            .command(Path::new("/bin/sh"))
            .args(["-c", line])
            .env("PATH", path)
            .env("SOPS_AGE_KEY_FILE", &self.identity)
            .env("TMPDIR", self.sb.home())
            .run()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.sb.work().join(name)).unwrap_or_else(|e| format!("<unreadable {name}: {e}>"))
    }
}

/// Log timestamps and sandbox paths are the only parts of stderr that may
/// differ between the two runs.
fn normalize(text: &str, s: &Setup) -> String {
    static TIME: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let t = TIME.get_or_init(|| Regex::new(r#"time="[^"]*""#).unwrap()).replace_all(text, "time=\"\"");
    // The extra line rsops prints after a value that fails to decrypt.
    let t: String = t
        .split_inclusive('\n')
        .filter(|l| !(l.starts_with("(the value at ") && l.trim_end().ends_with(')')))
        .collect();
    s.sb.redact(&t)
}

fn compare(line: &Line, ours: (&Setup, &Output), theirs: (&Setup, &Output)) -> Vec<String> {
    let mut bad = Vec::new();
    let (us, our_out) = ours;
    let (them, their_out) = theirs;
    if our_out.code != their_out.code {
        bad.push(format!(
            "exit {:?} vs sops's {:?}; stderr {:?}",
            our_out.code,
            their_out.code,
            us.sb.redact(&our_out.stderr)
        ));
    }
    let (mine, sops) = (normalize(&our_out.stdout_text(), us), normalize(&their_out.stdout_text(), them));
    if line.stdout && mine != sops {
        bad.push(format!("stdout differs: {}", first_difference(mine.as_bytes(), sops.as_bytes())));
    }
    let (mine, sops) = (normalize(&our_out.stderr, us), normalize(&their_out.stderr, them));
    if line.stderr && mine != sops {
        bad.push(format!("stderr differs: {}", first_difference(mine.as_bytes(), sops.as_bytes())));
    }
    for f in line.encrypted {
        if let Err(e) = skeleton::compare(&us.read(f), &them.read(f)) {
            bad.push(format!("{f}: {e}"));
        }
    }
    if !line.check.is_empty() {
        let (mine, sops) = (us.sh(line.check), them.sh(line.check));
        if mine.code != sops.code || mine.stdout != sops.stdout {
            bad.push(format!(
                "check `{}`: exit {:?} vs {:?}; {}; stderr {:?}",
                line.check,
                mine.code,
                sops.code,
                first_difference(&mine.stdout, &sops.stdout),
                us.sb.redact(&mine.stderr)
            ));
        }
    }
    bad
}

/// Every integration line behaves with rsops as with sops.
#[test]
fn integration_lines_behave_as_with_sops() {
    let Some(sops) = reference_sops() else { return };
    let rsops = rsops_bin();
    let mut report = Report::new("integration command lines vs sops");
    for line in lines() {
        let ours = setup(&rsops, &sops);
        let theirs = setup(&sops, &sops);
        let (our_out, their_out) = (ours.sh(line.command), theirs.sh(line.command));
        let mut bad = compare(&line, (&ours, &our_out), (&theirs, &their_out));
        if their_out.code == Some(0) && !line.check.is_empty() && theirs.sh(line.check).code != Some(0) {
            bad.push("the check fails for sops itself (broken case)".to_owned());
        }
        report.case(&format!("{}: {}", line.who, line.command), &bad);
    }
    report.finish();
}

/// The lines' key results, pinned without sops, so the comparison above
/// cannot pass by both sides failing the same way.
#[test]
fn integration_lines_do_their_job() {
    let Some(sops) = reference_sops() else { return };
    let s = setup(&rsops_bin(), &sops);
    let out = s.sh("sops --decrypt --input-type yaml --output-type yaml enc.yaml").success();
    assert_eq!(out.stdout, std::fs::read(testdata().join("vectors/yaml-scalars/expected.yaml")).unwrap());
    let out = s.sh("sops exec-env enc.yaml 'echo \"$string\"; exit 3'");
    assert_eq!((out.code, out.stdout_text(), out.stderr.as_str()), (Some(3), "hello world\n".to_owned(), "exit status 3\n"));
    let out = s.sh("sops filestatus enc.yaml | jq -e .encrypted").success();
    assert_eq!(out.stdout_text(), "true\n");
    s.sh("sops --encrypt --input-type yaml --output-type yaml --in-place secrets.yaml").success();
    s.sh("grep -q 'mac.*,type:str]' secrets.yaml").success();
    let out = s.sh("refsops --decrypt secrets.yaml").success();
    assert_eq!(out.stdout, std::fs::read(testdata().join("vectors/yaml-nested/expected.yaml")).unwrap());
    let out = s.sh(TEXTCONV_DECRYPT).success();
    assert!(out.stdout_text().contains("-string: hello world"), "{}", out.stdout_text());
}
