//! What the cloud KMS tests (AWS, GCP, Azure) share: the document they
//! encrypt, a sandbox holding it, "rsops and the reference sops" as the
//! programs to try, and the encrypt / decrypt round trip on top of a
//! backend's own way of running a child ([`KmsBox::run`]).

use std::path::{Path, PathBuf};

use super::run::{rsops_bin, Output, Sandbox};

/// The plaintext every KMS test encrypts, as `plain.yaml`.
pub(crate) const PLAIN: &str = "secret: hunter2\nnested:\n    list:\n        - 1\n        - two\n";

/// A fresh sandbox with [`PLAIN`] in `plain.yaml`.
pub(crate) fn plain_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    std::fs::write(sb.work().join("plain.yaml"), PLAIN).expect("write plain");
    sb
}

/// rsops first, then the reference sops; `None` when interop is skipped
/// (see [`super::reference_sops`]).
pub(crate) fn both() -> Option<Vec<PathBuf>> {
    let sops = super::reference_sops()?;
    Some(vec![rsops_bin(), sops])
}

/// A test's sandbox whose children get a backend's environment.
pub(crate) trait KmsBox {
    fn sandbox(&self) -> &Sandbox;

    /// Runs `program` with the backend's environment, then `extra`.
    fn run(&self, program: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output;

    /// Encrypts `plain.yaml` with `program` (which must print nothing on
    /// stderr), writes the result to `name` and returns it.
    fn encrypt(&self, program: &Path, flags: &[&str], extra: &[(&str, &str)], name: &str) -> String {
        let mut args = vec!["encrypt"];
        args.extend_from_slice(flags);
        args.push("plain.yaml");
        let out = self.run(program, &args, extra).success();
        assert!(out.stderr.is_empty(), "encrypt printed: {}", out.stderr);
        std::fs::write(self.sandbox().work().join(name), &out.stdout).expect("write enc");
        out.stdout_text()
    }

    fn decrypt(&self, program: &Path, name: &str, extra: &[(&str, &str)]) -> Output {
        self.run(program, &["decrypt", name], extra)
    }

    /// `program` decrypts `name` back to [`PLAIN`].
    fn assert_decrypts(&self, program: &Path, name: &str, extra: &[(&str, &str)]) {
        let out = self.decrypt(program, name, extra).success();
        assert_eq!(out.stdout_text(), PLAIN, "{} decrypt of {name}", out.shown);
    }

    /// Writes `text` to `name` in the sandbox's work folder.
    #[cfg_attr(not(feature = "gcp"), allow(dead_code))] // only the GCP tests write configs
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.sandbox().work().join(name), text).expect("write");
    }
}
