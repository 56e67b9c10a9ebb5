//! The integration tests of rsops: the crate's only test target
//! (`autotests = false`), so the binary is linked once.
//!
//! - `vectors`: every case of `testdata/vectors/` (written by the real sops,
//!   see `tests/gen-vectors.sh`) run through `rsops`, all failures reported
//!   at once.
//! - `interop`: both directions against the real sops found on PATH, plus a
//!   structure comparison of the encrypted files; also checks that the
//!   fixtures themselves still hold for that sops.
//! - `cli`: exit codes and messages of `tests/cmd/*.toml`.
//!
//! Filters: `RSOPS_VECTOR=text` and `RSOPS_CMD=text` keep only the cases
//! whose name contains `text`. `RSOPS_SKIP_SOPS_INTEROP=1` skips the tests
//! that need the reference sops (they fail when it is missing otherwise).

mod util;
mod aws;
mod azure;
mod gcp;
mod vault;
#[cfg(unix)]
mod edit;
#[cfg(unix)]
mod exec;
#[cfg(unix)]
mod integrations;
mod mutate;
mod publish;
#[cfg(unix)]
mod keyservice;

use util::case::{Case, Stage};
use util::run::{first_difference, Output, Sandbox};
use util::Report;

/// Checks one run against the case's recorded outcome.
fn outcome_problems(case: &Case, sb: &Sandbox, out: &Output) -> Vec<String> {
    let mut bad = Vec::new();
    if out.code != Some(case.exit_code) {
        bad.push(format!(
            "want exit {}; got {}",
            case.exit_code,
            sb.redact(&out.to_string())
        ));
    }
    if case.exit_code == 0 {
        let want = std::fs::read(case.dir.join(&case.expected)).expect("read expected output");
        if out.stdout != want {
            bad.push(format!(
                "stdout differs from {}: {}",
                case.expected,
                first_difference(&out.stdout, &want)
            ));
        }
        if !out.stderr.is_empty() {
            bad.push(format!(
                "stderr must be empty on success; got \"{}\"",
                util::run::clip(&sb.redact(&out.stderr), 300)
            ));
        }
    } else {
        if !out.stdout.is_empty() {
            bad.push(format!(
                "stdout must be empty on failure; got \"{}\"",
                util::run::clip(&out.stdout_text(), 200)
            ));
        }
        if !out.stderr.contains(&case.stderr_contains) {
            bad.push(format!(
                "stderr lacks \"{}\"; got \"{}\"",
                util::run::clip(&case.stderr_contains, 200),
                util::run::clip(&sb.redact(&out.stderr), 300)
            ));
        }
    }
    bad
}

/// Runs a case's own command line (decrypt, or the refused encrypt) with
/// `program` in a fresh copy of its folder.
fn run_case(case: &Case, program: &std::path::Path) -> Vec<String> {
    let sb = Sandbox::new();
    sb.copy_in(&case.dir);
    if case.pgp {
        sb.import_pgp_keys();
    }
    sb.install_ssh_keys(&case.ssh_keys);
    let identity = (!case.identity.is_empty()).then(|| sb.identity(&case.identity));
    let mut cmd = sb
        .command(program)
        .args(case.argv())
        .age_keys(identity.as_deref());
    if let Some(bytes) = case.stdin_bytes(sb.work()) {
        cmd = cmd.stdin(bytes);
    }
    let out = cmd.run();
    outcome_problems(case, &sb, &out)
}

mod vectors {
    use super::{run_case, util, Report};

    /// Every vector, decrypted (or refused) by rsops exactly as sops did.
    #[test]
    fn rsops_matches_every_vector() {
        let mut report = Report::new("vectors (rsops)");
        for case in util::case::all() {
            report.case(&case.name, &run_case(&case, &util::run::rsops_bin()));
        }
        report.finish();
    }

    /// The fixtures are all there: keys, the generator's version stamp and
    /// enough cases of each kind that a bad regeneration is noticed.
    #[test]
    fn fixtures_are_complete() {
        for k in ["key1.txt", "key2.txt", "key3.txt"] {
            let text = std::fs::read_to_string(util::keys_dir().join(k)).expect("test key present");
            assert!(
                text.contains("# public key: age1") && text.contains("AGE-SECRET-KEY-1"),
                "{k} is not an age identity"
            );
        }
        let version = std::fs::read_to_string(util::vectors_dir().join("SOPS_VERSION"))
            .expect("SOPS_VERSION");
        assert!(
            version.starts_with("3.11."),
            "vectors were written by sops {version}"
        );
        let cases = util::case::all();
        if std::env::var_os("RSOPS_VECTOR").is_none() {
            let count = |f: &str| cases.iter().filter(|c| c.format == f).count();
            assert!(
                count("yaml") >= 40 && count("json") >= 15,
                "too few vectors: {}",
                cases.len()
            );
            assert!(
                cases.iter().any(|c| c.exit_code != 0) && cases.iter().any(|c| c.exit_code == 0)
            );
        }
    }
}

mod interop {
    use std::path::{Path, PathBuf};

    use super::{run_case, util, Case, Report, Sandbox, Stage};
    use util::run::{first_difference, Output};

    /// Cases whose encryption can be replayed.
    fn replayable() -> Vec<Case> {
        util::case::all()
            .into_iter()
            .filter(|c| c.interop && c.stage == Stage::Decrypt)
            .collect()
    }

    /// A fresh copy of the case folder in which `encryptor` has re-encrypted
    /// `plain` with the case's `encrypt_argv`, written to the `enc` name.
    fn encrypt_with(case: &Case, encryptor: &Path) -> Result<(Sandbox, Vec<u8>), String> {
        let sb = Sandbox::new();
        sb.copy_in(&case.dir);
        if case.pgp {
            sb.import_pgp_keys();
        }
        sb.install_ssh_keys(&case.ssh_keys);
        std::fs::remove_file(sb.work().join(&case.enc)).expect("remove the committed enc");
        let out = sb.command(encryptor).args(&case.encrypt_argv).run();
        if out.code != Some(0) || !out.stderr.is_empty() {
            return Err(format!("encrypt failed: {}", sb.redact(&out.to_string())));
        }
        std::fs::write(sb.work().join(&case.enc), &out.stdout).expect("write enc");
        Ok((sb, out.stdout))
    }

    /// Runs the case's decrypt command with `program` and the round-trip identity.
    fn decrypt_with(case: &Case, sb: &Sandbox, program: &Path) -> Output {
        let identity = sb.identity(&case.roundtrip_identity);
        let mut cmd = sb
            .command(program)
            .args(&case.decrypt_argv)
            .age_keys(Some(&identity));
        if let Some(bytes) = case.stdin_bytes(sb.work()) {
            cmd = cmd.stdin(bytes);
        }
        cmd.run()
    }

    fn show_code(out: &Output) -> String {
        out.code
            .map_or_else(|| "none (killed)".to_owned(), |c| c.to_string())
    }

    fn same_outcome(what: &str, ours: &Output, theirs: &Output, sb: &Sandbox) -> Vec<String> {
        let mut bad = Vec::new();
        if ours.code != theirs.code {
            bad.push(format!(
                "{what}: exit {} vs sops's {}: {}",
                show_code(ours),
                show_code(theirs),
                sb.redact(&ours.to_string())
            ));
        }
        if ours.stdout != theirs.stdout {
            bad.push(format!(
                "{what}: stdout differs: {}",
                first_difference(&ours.stdout, &theirs.stdout)
            ));
        }
        bad
    }

    fn sops() -> Option<PathBuf> {
        util::reference_sops()
    }

    /// rsops encrypts every plain; sops must decrypt it to exactly what it
    /// gets from its own encryption, and both files must have one structure.
    #[test]
    fn rsops_encrypts_sops_decrypts() {
        let Some(sops) = sops() else { return };
        let rsops = util::run::rsops_bin();
        let mut report = Report::new("interop: rsops encrypts, sops decrypts");
        for case in replayable() {
            let mut bad = Vec::new();
            match (encrypt_with(&case, &rsops), encrypt_with(&case, &sops)) {
                (Err(e), _) => bad.push(format!("rsops {e}")),
                (_, Err(e)) => panic!("{}: the reference sops failed: {e}", case.name),
                (Ok((ours, our_enc)), Ok((theirs, their_enc))) => {
                    let a = decrypt_with(&case, &ours, &sops);
                    let b = decrypt_with(&case, &theirs, &sops);
                    bad.extend(same_outcome("sops decrypt of rsops's file", &a, &b, &ours));
                    if case.enc_ext() != "ini" {
                        if let Err(e) = util::skeleton::compare(
                            &String::from_utf8_lossy(&our_enc),
                            &String::from_utf8_lossy(&their_enc),
                        ) {
                            bad.push(e);
                        }
                    }
                }
            }
            report.case(&case.name, &bad);
        }
        report.finish();
    }

    /// sops encrypts every plain afresh; rsops must decrypt it to exactly
    /// what sops prints for the same file.
    #[test]
    fn sops_encrypts_rsops_decrypts() {
        let Some(sops) = sops() else { return };
        let rsops = util::run::rsops_bin();
        let mut report = Report::new("interop: sops encrypts, rsops decrypts");
        for case in replayable() {
            let (sb, _) = encrypt_with(&case, &sops)
                .unwrap_or_else(|e| panic!("{}: the reference sops failed: {e}", case.name));
            let theirs = decrypt_with(&case, &sb, &sops);
            let ours = decrypt_with(&case, &sb, &rsops);
            let mut bad = same_outcome("rsops decrypt of sops's file", &ours, &theirs, &sb);
            if ours.code == Some(0) && !ours.stderr.is_empty() {
                bad.push(format!(
                    "stderr must be empty on success; got \"{}\"",
                    util::run::clip(&ours.stderr, 300)
                ));
            }
            report.case(&case.name, &bad);
        }
        report.finish();
    }

    /// The committed vectors still hold for the installed sops (guards
    /// against a CI sops of another version).
    #[test]
    fn vectors_hold_for_sops() {
        let Some(sops) = sops() else { return };
        let mut report = Report::new("vectors (reference sops)");
        for case in util::case::all() {
            report.case(&case.name, &run_case(&case, &sops));
        }
        report.finish();
    }

    /// Every `tests/cmd` case holds for the real sops, so the expectations
    /// rsops is held to are sops's own.
    #[test]
    fn cmd_cases_hold_for_sops() {
        let Some(sops) = sops() else { return };
        let mut report = Report::new("tests/cmd (reference sops)");
        for case in util::cmd_case::all() {
            report.case(&case.name, &case.check(&sops));
        }
        report.finish();
    }
}

mod cli {
    use super::{util, Report};

    /// Exit codes, stdout and stderr of `tests/cmd/*.toml`.
    #[test]
    fn rsops_matches_cmd_cases() {
        let mut report = Report::new("tests/cmd (rsops)");
        for case in util::cmd_case::all() {
            report.case(&case.name, &case.check(&util::run::rsops_bin()));
        }
        report.finish();
    }
}
