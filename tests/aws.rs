//! AWS KMS keys against a real `moto_server` on 127.0.0.1 (spec
//! backends.md §2, cli.md §10.3): rsops and the reference sops read each
//! other's files, the encryption context is enforced, roles are assumed
//! through STS, and a profile's `endpoint_url` is honoured. Every child runs
//! in a sandbox with the guards of backends.md §7 (`util::moto::guards`).

use std::path::Path;

use crate::util::moto::{free_port, guards, Moto};
use crate::util::run::{Output, Sandbox};
use crate::util::{self, run::rsops_bin};

const PLAIN: &str = "secret: hunter2\nnested:\n    list:\n        - 1\n        - two\n";

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
        let sb = Sandbox::new();
        std::fs::write(sb.work().join("plain.yaml"), PLAIN).expect("write plain");
        Aws { moto, sb, endpoint_from_env: true }
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

    /// Encrypts `plain.yaml` with `program` and writes it to `name`.
    fn encrypt(&self, program: &Path, flags: &[&str], extra: &[(&str, &str)], name: &str) -> String {
        let mut args = vec!["encrypt"];
        args.extend_from_slice(flags);
        args.push("plain.yaml");
        let out = self.run(program, &args, extra).success();
        assert!(out.stderr.is_empty(), "encrypt printed: {}", out.stderr);
        std::fs::write(self.sb.work().join(name), &out.stdout).expect("write enc");
        out.stdout_text()
    }

    fn decrypt(&self, program: &Path, name: &str, extra: &[(&str, &str)]) -> Output {
        self.run(program, &["decrypt", name], extra)
    }

    fn assert_decrypts(&self, program: &Path, name: &str, extra: &[(&str, &str)]) {
        let out = self.decrypt(program, name, extra).success();
        assert_eq!(out.stdout_text(), PLAIN, "{} decrypt of {name}", out.shown);
    }
}

fn both() -> Option<Vec<std::path::PathBuf>> {
    let sops = util::reference_sops()?;
    Some(vec![rsops_bin(), sops])
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
    let sb = Sandbox::new();
    std::fs::write(sb.work().join("plain.yaml"), PLAIN).expect("write plain");
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
