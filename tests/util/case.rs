//! The vector cases of `testdata/vectors/`: one folder each, described by
//! its `case.toml` (fields documented at the top of `tests/gen-vectors.sh`).

use std::path::{Path, PathBuf};

use super::toml::Table;
use super::vectors_dir;

/// Which command the case's expectation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `decrypt_argv` run on `enc`.
    Decrypt,
    /// `encrypt_argv` run on `plain` (sops refused it; there is no `enc`).
    Encrypt,
}

#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) format: String,
    pub(crate) stage: Stage,
    pub(crate) plain: String,
    pub(crate) enc: String,
    pub(crate) expected: String,
    pub(crate) identity: Vec<String>,
    pub(crate) encrypt_argv: Vec<String>,
    pub(crate) decrypt_argv: Vec<String>,
    pub(crate) stdin: String,
    pub(crate) exit_code: i32,
    pub(crate) stderr_contains: String,
    pub(crate) interop: bool,
    pub(crate) roundtrip_identity: Vec<String>,
    /// Import `testdata/keys/pgp/*.asc` into the `GnuPG` home of every run.
    pub(crate) pgp: bool,
    /// Files of `testdata/keys/ssh/` put into `~/.ssh/` for every run.
    pub(crate) ssh_keys: Vec<String>,
}

impl Case {
    pub(crate) fn load(dir: &Path) -> Case {
        let path = dir.join("case.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let t = Table::parse(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
        let stage = match t.str("stage").as_str() {
            "decrypt" => Stage::Decrypt,
            "encrypt" => Stage::Encrypt,
            other => panic!("{}: unknown stage {other:?}", path.display()),
        };
        let exit_code = t
            .opt_int("exit_code")
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or_else(|| panic!("{}: exit_code missing", path.display()));
        let case = Case {
            name: t.str("name"),
            dir: dir.to_owned(),
            format: t.str("format"),
            stage,
            plain: t.str("plain"),
            enc: t.str("enc"),
            expected: t.str("expected"),
            identity: t.list("identity"),
            encrypt_argv: t.list("encrypt_argv"),
            decrypt_argv: t.list("decrypt_argv"),
            stdin: t.str("stdin"),
            exit_code,
            stderr_contains: t.str("stderr_contains"),
            interop: t.bool("interop", false),
            roundtrip_identity: t.list("roundtrip_identity"),
            pgp: t.bool("pgp", false),
            ssh_keys: t.list("ssh_keys"),
        };
        case.validate();
        case
    }

    /// Checks that the files the sidecar names exist, so a broken vector is
    /// reported as such rather than as an rsops failure.
    fn validate(&self) {
        let folder = self.dir.file_name().unwrap_or_default().to_string_lossy();
        assert_eq!(
            self.name,
            folder,
            "{}: name does not match its folder",
            self.dir.display()
        );
        let mut needed = vec![&self.plain];
        match self.stage {
            Stage::Decrypt => {
                needed.push(&self.enc);
                assert!(
                    !self.decrypt_argv.is_empty(),
                    "{}: decrypt_argv missing",
                    self.name
                );
                if self.exit_code == 0 {
                    needed.push(&self.expected);
                } else {
                    assert!(
                        !self.stderr_contains.is_empty(),
                        "{}: a negative case needs stderr_contains",
                        self.name
                    );
                }
            }
            Stage::Encrypt => {
                assert!(
                    !self.encrypt_argv.is_empty(),
                    "{}: encrypt_argv missing",
                    self.name
                );
                assert_ne!(
                    self.exit_code, 0,
                    "{}: an encrypt-stage case is a refusal",
                    self.name
                );
            }
        }
        if !self.stdin.is_empty() {
            needed.push(&self.stdin);
        }
        for f in needed {
            assert!(
                !f.is_empty() && self.dir.join(f).is_file(),
                "{}: file {f:?} missing",
                self.name
            );
        }
        if self.interop {
            assert!(
                !self.encrypt_argv.is_empty(),
                "{}: interop needs encrypt_argv",
                self.name
            );
        }
    }

    /// The command line whose outcome the case records.
    pub(crate) fn argv(&self) -> &[String] {
        match self.stage {
            Stage::Decrypt => &self.decrypt_argv,
            Stage::Encrypt => &self.encrypt_argv,
        }
    }

    /// The bytes fed on stdin, if the case uses stdin.
    pub(crate) fn stdin_bytes(&self, work: &Path) -> Option<Vec<u8>> {
        if self.stdin.is_empty() {
            None
        } else {
            Some(std::fs::read(work.join(&self.stdin)).expect("read the stdin file"))
        }
    }

    /// The extension of the encrypted file, which names its store.
    pub(crate) fn enc_ext(&self) -> &str {
        Path::new(&self.enc)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
    }
}

/// Every case of `testdata/vectors/`, sorted by name; `RSOPS_VECTOR=text`
/// keeps only the cases whose name contains `text`.
pub(crate) fn all() -> Vec<Case> {
    let dir = vectors_dir();
    let filter = std::env::var("RSOPS_VECTOR").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| p.join("case.toml").is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(&filter))
        })
        .collect();
    dirs.sort();
    dirs.iter().map(|d| Case::load(d)).collect()
}
