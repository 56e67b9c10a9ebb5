//! AWS KMS keys against a real `moto_server` on 127.0.0.1 (spec
//! backends.md §2, cli.md §10.3): rsops and the reference sops read each
//! other's files, the encryption context is enforced, roles are assumed
//! through STS, and a profile's `endpoint_url` is honoured. Every child runs
//! in a sandbox with the guards of backends.md §7 (`util::moto::guards`).
//! Files from sops < 3.3.0 get sops's encryption-context repair; a silent
//! endpoint makes rsops print its "waiting for …" line.

#![cfg_attr(not(feature = "aws"), allow(dead_code, unused_imports))]

use std::path::Path;

use crate::util::kms::{both, plain_sandbox, KmsBox, PLAIN};
use crate::util::moto::{free_port, guards, Moto};
use crate::util::run::{rsops_bin, Output, Sandbox};

/// One sandbox with `plain.yaml`, whose commands talk to `moto`.
struct Aws<'a> {
    moto: &'a Moto,
    sb: Sandbox,
    /// Whether children get `AWS_ENDPOINT_URL` (not when a profile names it:
    /// the environment would win over the profile's `endpoint_url`).
    endpoint_from_env: bool,
}

impl<'a> Aws<'a> {
    fn new(moto: &'a Moto) -> Aws<'a> {
        Aws { moto, sb: plain_sandbox(), endpoint_from_env: true }
    }
}

impl KmsBox for Aws<'_> {
    fn sandbox(&self) -> &Sandbox {
        &self.sb
    }

    fn run(&self, program: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.sb.command(program).args(args);
        for (k, v) in guards(&self.moto.url) {
            if k != "AWS_ENDPOINT_URL" || self.endpoint_from_env {
                cmd = cmd.env(k, v);
            }
        }
        // Profiles only from the sandbox's private HOME (~/.aws/config), which
        // the test writes; the parent's AWS_* are cleared (backends.md §7).
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }
}

/// The `enc` of the first kms entry, decoded: moto's blob is not empty.
fn kms_enc(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let line = text.lines().find(|l| l.trim_start().starts_with("enc:")).expect("an enc line");
    let value = line.trim_start().trim_start_matches("enc:").trim();
    base64::engine::general_purpose::STANDARD.decode(value).expect("enc is standard base64")
}

/// rsops → rsops, rsops → sops and sops → rsops with a plain KMS key; the
/// entry has sops's fields, `aws_profile: ""` included (format.md §6.2).
#[test]
#[cfg(feature = "aws")]
fn kms_plain_both_ways() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("eu-west-3");
    let aws = Aws::new(&moto);
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("enc{i}.yaml");
        let text = aws.encrypt(encryptor, &["--kms", &arn], &[], &name);
        assert!(text.contains(&format!("    kms:\n        - arn: {arn}\n          created_at: ")), "{text}");
        assert!(text.contains("          aws_profile: \"\"\n"), "{text}");
        assert!(!text.contains("role:") && !text.contains("context:"), "{text}");
        assert!(!kms_enc(&text).is_empty());
        for decryptor in &programs {
            aws.assert_decrypts(decryptor, &name, &[]);
        }
    }
    // SOPS_KMS_ARN and a rule's `kms` reach the same key.
    aws.encrypt(&rsops_bin(), &[], &[("SOPS_KMS_ARN", &arn)], "env.yaml");
    aws.assert_decrypts(&programs[1], "env.yaml", &[]);
}

/// The context is sent on both calls; a file whose stored context was
/// changed no longer decrypts, with sops's message and exit code.
#[test]
#[cfg(feature = "aws")]
fn kms_encryption_context() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("us-east-1");
    let aws = Aws::new(&moto);
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("ctx{i}.yaml");
        let text = aws.encrypt(encryptor, &["--kms", &arn, "--encryption-context", "Team:ops,App:sops"], &[], &name);
        // Context keys sorted, as sops writes them.
        assert!(text.contains("          context:\n            App: sops\n            Team: ops\n"), "{text}");
        for decryptor in &programs {
            aws.assert_decrypts(decryptor, &name, &[]);
        }
        let wrong = text.replace("Team: ops", "Team: dev");
        std::fs::write(aws.sb.work().join("wrong.yaml"), wrong).expect("write");
        let theirs = aws.decrypt(&programs[1], "wrong.yaml", &[]);
        let ours = aws.decrypt(&programs[0], "wrong.yaml", &[]);
        assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
        assert_eq!(ours.code, Some(128), "{ours}");
        assert!(ours.stdout.is_empty());
        for want in [
            &format!("{arn}|App:sops,Team:dev: FAILED") as &str,
            "failed to decrypt sops data key with AWS KMS",
            "InvalidCiphertextException",
        ] {
            let flat = ours.stderr.replace("\n      | ", " ");
            assert!(flat.contains(want), "stderr lacks {want:?}: {}", ours.stderr);
        }
    }
}

/// `ARN+ROLE_ARN`: the role is stored, assumed through STS before KMS
/// (proved by pointing STS at a dead port), and both tools read the file.
#[test]
#[cfg(feature = "aws")]
fn kms_role_assumption() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("us-west-2");
    let role = moto.create_role("sops-test");
    let aws = Aws::new(&moto);
    let both_arns = format!("{arn}+{role}");
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("role{i}.yaml");
        let text = aws.encrypt(encryptor, &["--kms", &both_arns], &[], &name);
        assert!(text.contains(&format!("        - arn: {arn}\n          role: {role}\n")), "{text}");
        for decryptor in &programs {
            aws.assert_decrypts(decryptor, &name, &[]);
        }
    }
    let dead = format!("http://127.0.0.1:{}", free_port());
    let out = aws.decrypt(&programs[0], "role0.yaml", &[("AWS_ENDPOINT_URL_STS", &dead)]);
    assert_eq!(out.code, Some(128), "{out}");
    let flat = out.stderr.replace("\n      | ", " ");
    assert!(flat.contains(&format!("{arn}+{role}: FAILED")), "{}", out.stderr);
    assert!(flat.contains(&format!("failed to assume role '{role}'")), "{}", out.stderr);
}

/// `--aws-profile`: the profile in the private HOME's `~/.aws/config`
/// supplies endpoint and credentials, and is stored with the key.
#[test]
#[cfg(feature = "aws")]
fn kms_profile_with_endpoint_url() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("ap-south-1");
    let aws = Aws::new(&moto);
    let dir = aws.sb.home().join(".aws");
    std::fs::create_dir_all(&dir).expect("mkdir .aws");
    std::fs::write(
        dir.join("config"),
        format!(
            "[profile moto]\nendpoint_url = {}\naws_access_key_id = prof\naws_secret_access_key = prof\n",
            moto.url
        ),
    )
    .expect("write config");
    // No endpoint in the environment: only the profile's leads to moto.
    let mut aws = aws;
    aws.endpoint_from_env = false;
    let env: [(&str, &str); 0] = [];
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("prof{i}.yaml");
        let text = aws.encrypt(encryptor, &["--kms", &arn, "--aws-profile", "moto"], &env, &name);
        assert!(text.contains("          aws_profile: moto\n"), "{text}");
        for decryptor in &programs {
            aws.assert_decrypts(decryptor, &name, &env);
        }
    }
}

/// A KMS endpoint that does not answer: the encrypt error names the key and
/// the network reason, with sops's exit code; decryption reports the key.
#[test]
#[cfg(feature = "aws")]
fn kms_unreachable_endpoint() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("eu-central-1");
    let aws = Aws::new(&moto);
    aws.encrypt(&programs[0], &["--kms", &arn], &[], "ok.yaml");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let env = [("AWS_ENDPOINT_URL", dead.as_str())];
    let ours = aws.run(&programs[0], &["encrypt", "--kms", &arn, "plain.yaml"], &env);
    let theirs = aws.run(&programs[1], &["encrypt", "--kms", &arn, "plain.yaml"], &env);
    assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
    assert_ne!(ours.code, Some(0));
    assert!(
        ours.stderr.contains(&format!("failed to encrypt new data key with master key \"{arn}\": failed to encrypt sops data key with AWS KMS")),
        "{}",
        ours.stderr
    );
    assert!(ours.stderr.to_lowercase().contains("connect"), "no network reason: {}", ours.stderr);
    let ours = aws.decrypt(&programs[0], "ok.yaml", &env);
    let theirs = aws.decrypt(&programs[1], "ok.yaml", &env);
    assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
    assert!(ours.stderr.contains(&format!("{arn}: FAILED")), "{}", ours.stderr);
}

/// An invalid ARN fails before any call, with sops's text.
#[test]
fn kms_invalid_arn() {
    let sb = plain_sandbox();
    let out = sb
        .command(&rsops_bin())
        .args(["encrypt", "--kms", "notanarn", "plain.yaml"])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .run();
    let sops_text = "[failed to encrypt new data key with master key \"notanarn\": no valid ARN found in 'notanarn']";
    // Without the `aws` feature the error names the feature instead.
    assert!(out.stderr.contains(sops_text) || out.stderr.contains("`aws` feature"), "{out}");
    if aws_built_in() {
        assert!(out.stderr.contains(sops_text), "{out}");
    }
    assert_eq!(out.code, Some(1), "{out}");
}

/// Whether the binary under test lists `kms` among its key sources.
fn aws_built_in() -> bool {
    let out = Sandbox::new().command(&rsops_bin()).arg("--version").run();
    out.stdout_text().contains("kms")
}

/// The explanation sops prints on stdout before repairing a pre-3.3.0 file
/// (cli.md §10.3), as the reference sops 3.11 printed it.
const CONTEXT_BUG_NOTICE: &str = "Up until version 3.3.0 of sops there was a bug surrounding the use of
encryption context with AWS KMS.
You can read the full description of the issue here:
https://github.com/mozilla/sops/pull/435

If a TTY is detected, sops will ask you if you'd like for this issue to be
automatically fixed, which will require re-encrypting the data keys used by
each key.

If you are not using a TTY, sops will fix the issue for this run.


";

/// Files written by sops < 3.3.0 with the encryption-context bug: KMS got
/// one value under every context key while the file stored the intended
/// ones. Both tools print sops's notice on stdout, find the data key by
/// trying each value under every key, and go on; `set` writes the file back
/// with a fresh `enc` for the stored context and version 3.11.0. When no
/// variation works, both fail alike (exit 25). A file from 3.3.0 on gets
/// no repair.
#[test]
#[cfg(feature = "aws")]
fn kms_pre_3_3_0_context_bug_is_repaired() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("us-east-1");
    let aws = Aws::new(&moto);
    // What old sops sent: the value `y` under both keys.
    let good = aws.encrypt(&programs[0], &["--kms", &arn, "--encryption-context", "a:y,b:y"], &[], "good.yaml");
    assert!(good.contains("            a: \"y\"\n            b: \"y\"\n") && good.contains("    version: 3.11.0\n"), "{good}");
    let old = good.replace("a: \"y\"", "a: x").replace("version: 3.11.0", "version: 3.2.0");
    std::fs::write(aws.sb.work().join("old.yaml"), &old).expect("write old.yaml");

    let mut outputs = Vec::new();
    for program in &programs {
        let out = aws.decrypt(program, "old.yaml", &[]).success();
        assert_eq!(out.stdout_text(), format!("{CONTEXT_BUG_NOTICE}{PLAIN}"), "{}", out.shown);
        outputs.push(out.stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
    // Decrypting alone never rewrites the file (stdout is not a terminal).
    assert_eq!(std::fs::read_to_string(aws.sb.work().join("old.yaml")).expect("read"), old);

    // `set` keeps the repaired keys: the stored context is now the one KMS
    // knows, and the version is raised, so no notice any more.
    for (i, program) in programs.iter().enumerate() {
        let name = format!("set{i}.yaml");
        std::fs::write(aws.sb.work().join(&name), &old).expect("write");
        let out = aws.run(program, &["set", &name, "[\"nested\"]", "\"changed\""], &[]).success();
        assert_eq!(out.stdout_text(), CONTEXT_BUG_NOTICE, "{}", out.shown);
        let text = std::fs::read_to_string(aws.sb.work().join(&name)).expect("read");
        assert!(text.contains("            a: x\n            b: \"y\"\n"), "{text}");
        assert!(text.contains("    version: 3.11.0\n"), "{text}");
        assert_ne!(kms_enc(&text), kms_enc(&old), "the data key was not wrapped again");
        for decryptor in &programs {
            let out = aws.decrypt(decryptor, &name, &[]).success();
            assert_eq!(out.stdout_text(), "secret: hunter2\nnested: changed\n", "{}", out.shown);
        }
    }

    // No value under every key works: sops's message, exit 25, for both.
    let hopeless = old.replace("b: \"y\"", "b: z");
    std::fs::write(aws.sb.work().join("hopeless.yaml"), &hopeless).expect("write");
    let ours = aws.decrypt(&programs[0], "hopeless.yaml", &[]);
    let theirs = aws.decrypt(&programs[1], "hopeless.yaml", &[]);
    assert_eq!(ours.code, Some(25), "{ours}");
    assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stdout_text(), CONTEXT_BUG_NOTICE);
    let flat = ours.stderr.replace("\n      | ", " ");
    assert!(
        ours.stderr.starts_with(
            "Failed to decrypt, meaning there is likely another problem from the encryption context bug: \
             Failed to get the data key required to decrypt the SOPS file."
        ),
        "{}",
        ours.stderr
    );
    assert!(flat.contains(&format!("{arn}|a:x,b:z: FAILED")), "{}", ours.stderr);
    assert!(flat.contains("InvalidCiphertextException"), "{}", ours.stderr);

    // From 3.3.0 on the stored context is trusted: a plain failure.
    std::fs::write(aws.sb.work().join("new.yaml"), old.replace("version: 3.2.0", "version: 3.3.0")).expect("write");
    let ours = aws.decrypt(&programs[0], "new.yaml", &[]);
    let theirs = aws.decrypt(&programs[1], "new.yaml", &[]);
    assert_eq!(ours.code, Some(128), "{ours}");
    assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
    assert!(ours.stdout.is_empty() && theirs.stdout.is_empty(), "{ours}");
}

/// A KMS endpoint that accepts and never answers: after a few seconds rsops
/// says on stderr what it waits for, then fails as sops does (same exit
/// code, same error frame) once the connection drops.
#[test]
#[cfg(feature = "aws")]
fn kms_slow_endpoint_prints_waiting() {
    use crate::util::moto::SilentServer;
    let Some(programs) = both() else { return };
    let arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000";
    let mut codes = Vec::new();
    for program in &programs {
        let silent = SilentServer::start(std::time::Duration::from_secs(6));
        let sb = plain_sandbox();
        let mut cmd = sb.command(program).args(["encrypt", "--kms", arn, "plain.yaml"]);
        for (k, v) in guards(&silent.url) {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();
        assert!(!out.timed_out, "{out}");
        assert!(out.stdout.is_empty(), "{out}");
        assert!(
            out.stderr.contains(&format!(
                "Could not generate data key: [failed to encrypt new data key with master key \"{arn}\": \
                 failed to encrypt sops data key with AWS KMS: operation error KMS: Encrypt, "
            )),
            "{out}"
        );
        if *program == programs[0] {
            assert!(out.stderr.starts_with(&format!("waiting for AWS KMS: Encrypt with {arn}…\n")), "{out}");
        }
        codes.push(out.code);
    }
    assert_eq!(codes[0], Some(1));
    assert_eq!(codes[0], codes[1]);
}

/// Runs `argv` on a pseudo-terminal, answers `answer` to sops's (y/n)
/// question, prints what the terminal showed and exits with the child's code.
const PTY_SCRIPT: &str = r#"
import os, pty, sys
answer = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out, sent = b"", False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"(y/n)" in out:
        os.write(fd, answer.encode() + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// On a terminal sops asks before repairing a pre-3.3.0 file: `y` rewrites
/// the file (stored context kept, fresh `enc`, version 3.11.0), `n` stops
/// with `Exiting. User responded no`. Both tools, on a pseudo-terminal.
#[test]
#[cfg(feature = "aws")]
fn kms_context_bug_repair_asks_on_a_terminal() {
    let Some(moto) = Moto::start() else { return };
    let Some(programs) = both() else { return };
    let arn = moto.create_key("us-east-1");
    let aws = Aws::new(&moto);
    let good = aws.encrypt(&programs[0], &["--kms", &arn, "--encryption-context", "a:y,b:y"], &[], "good.yaml");
    let old = good.replace("a: \"y\"", "a: x").replace("version: 3.11.0", "version: 3.2.0");
    let python = crate::util::run::which("python3").expect("python3 (moto needs it)");
    let mut codes = Vec::new();
    for (i, program) in programs.iter().enumerate() {
        for answer in ["y", "n"] {
            let name = format!("tty{i}{answer}.yaml");
            std::fs::write(aws.sb.work().join(&name), &old).expect("write");
            let program = program.to_str().expect("utf-8 path");
            let out = aws.run(&python, &["-c", PTY_SCRIPT, answer, program, "decrypt", &name], &[]);
            let shown = out.stdout_text();
            assert!(shown.starts_with(CONTEXT_BUG_NOTICE), "{shown}");
            assert!(shown.contains("\nWould you like sops to automatically fix this issue? (y/n): \n"), "{shown}");
            let text = std::fs::read_to_string(aws.sb.work().join(&name)).expect("read");
            if answer == "y" {
                assert_eq!(out.code, Some(0), "{program}: {shown}");
                assert!(shown.ends_with(PLAIN), "{shown}");
                assert!(text.contains("            a: x\n") && text.contains("    version: 3.11.0\n"), "{text}");
                assert_ne!(kms_enc(&text), kms_enc(&old));
                // The rewritten file needs no repair any more, for either tool.
                for decryptor in &programs {
                    let out = aws.decrypt(decryptor, &name, &[]).success();
                    assert_eq!(out.stdout_text(), PLAIN, "{}", out.shown);
                }
            } else {
                assert!(shown.contains("Exiting. User responded no"), "{shown}");
                assert_eq!(text, old, "answering n must leave the file alone");
            }
            codes.push(out.code);
        }
    }
    assert_eq!(codes[..2], codes[2..], "rsops and sops exit differently");
}
