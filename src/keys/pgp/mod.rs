//! The PGP master-key backend: wrapping the data key for a fingerprint and
//! unwrapping it from an entry's `enc`, the way sops 3.11 does (cli.md
//! §10.2, §9.1; format.md §6.2).
//!
//! sops tries two implementations in turn and reports both failures:
//! a built-in OpenPGP library, then the `gpg` binary. rsops keeps that
//! shape, with a built-in path that reaches further than sops's: where sops
//! only reads the legacy `pubring.gpg`/`secring.gpg` (which GnuPG ≥ 2.1 no
//! longer writes), rsops also reads `pubring.kbx` and the agent's
//! `private-keys-v1.d`, and asks a running gpg-agent for keys it holds
//! protected, so the common cases need no `gpg` process at all.
//!
//! - `enabled.rs` (feature `pgp`): the built-in path on sequoia-openpgp;
//!   `disabled.rs` says the feature is missing. Chosen by `#[path]` so
//!   callers carry no `cfg` (STYLE.md §6).
//! - `gpg.rs`: the `gpg` binary fallback with sops's exact arguments,
//!   compiled in every build.
//!
//! What is byte-for-byte sops: the `enc` text (armoured, no trailing
//! newline), and the error layout `could not {en,de}crypt data key with PGP
//! key: github.com/ProtonMail/go-crypto/openpgp error: <e1>; GnuPG binary
//! error: <e2>` (cli.md §2.3). `<e2>` is gpg's own stderr, as in sops; `<e1>`
//! is sops's text where rsops met the same situation (an empty GnuPG home,
//! a key missing from the keyring) and rsops's own reason otherwise.

// "GnuPG" and "OpenPGP" are names in these docs, not code to backtick.
#![allow(clippy::doc_markdown)]

#[cfg_attr(feature = "pgp", path = "enabled.rs")]
#[cfg_attr(not(feature = "pgp"), path = "disabled.rs")]
mod builtin;
mod gpg;
#[cfg(feature = "pgp")]
mod agent;
#[cfg(feature = "pgp")]
mod keybox;
#[cfg(feature = "pgp")]
mod sexp;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// Whether this build has the built-in OpenPGP path (`--version` lists it).
pub const BUILT_IN: bool = cfg!(feature = "pgp");

/// The environment the PGP backend reads, captured once (cli.md §9.1).
#[derive(Clone, Default)]
pub struct PgpEnv {
    /// `GNUPGHOME`.
    pub gnupg_home: Option<OsString>,
    /// `HOME`, for `~/.gnupg`.
    pub home: Option<OsString>,
    /// `SOPS_GPG_EXEC`: the gpg program, used as given (no splitting).
    pub gpg_exec: Option<OsString>,
    /// `GPG_AGENT_INFO`: the agent socket is the text before the first `:`.
    pub agent_info: Option<OsString>,
    /// `XDG_RUNTIME_DIR`, where GnuPG may keep its sockets.
    pub runtime_dir: Option<OsString>,
}

impl PgpEnv {
    /// Captures the variables through `lookup` (e.g. `std::env::var_os`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> PgpEnv {
        PgpEnv {
            gnupg_home: lookup("GNUPGHOME"),
            home: lookup("HOME"),
            gpg_exec: lookup("SOPS_GPG_EXEC"),
            agent_info: lookup("GPG_AGENT_INFO"),
            runtime_dir: lookup("XDG_RUNTIME_DIR"),
        }
    }

    /// The GnuPG home as gpg itself finds it: `GNUPGHOME` if set and not
    /// empty, else `$HOME/.gnupg`. sops's built-in path takes the home from
    /// the user database instead (cli.md §9.1); rsops reads the files gpg
    /// writes, so it follows gpg.
    pub fn gnupg_home(&self) -> PathBuf {
        match self.gnupg_home.as_ref().filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(self.home.clone().unwrap_or_default()).join(".gnupg"),
        }
    }

    /// The gpg program: `SOPS_GPG_EXEC` if not empty, else `gpg` on `PATH`.
    fn gpg_program(&self) -> OsString {
        self.gpg_exec
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| OsString::from("gpg"))
    }
}

impl fmt::Debug for PgpEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpEnv")
            .field("GNUPGHOME", &self.gnupg_home)
            .field("SOPS_GPG_EXEC", &self.gpg_exec)
            .finish_non_exhaustive()
    }
}

/// A failure of the PGP backend; `Display` is sops's text.
///
/// Holds no secret: the texts are file names, key ids and gpg's stderr
/// (which names keys, never their material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgpError {
    /// `encrypt` or `decrypt`.
    op: &'static str,
    /// The built-in path's reason (`None`: it was not tried).
    builtin: Option<String>,
    /// The gpg binary's reason, already prefixed `failed to … with pgp: `.
    binary: String,
}

impl fmt::Display for PgpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not {} data key with PGP key: ", self.op)?;
        if let Some(e1) = &self.builtin {
            write!(f, "github.com/ProtonMail/go-crypto/openpgp error: {e1}; ")?;
        }
        write!(f, "GnuPG binary error: {}", self.binary)
    }
}

impl std::error::Error for PgpError {}

/// The PGP key source of one run: the environment, and the keyrings read
/// on first use (nothing is opened before a PGP key is needed).
pub struct PgpSource {
    env: PgpEnv,
    builtin: builtin::Keys,
}

impl fmt::Debug for PgpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpSource").field("env", &self.env).finish_non_exhaustive()
    }
}

impl PgpSource {
    pub fn new(env: PgpEnv) -> PgpSource {
        let builtin = builtin::Keys::new(&env);
        PgpSource { env, builtin }
    }

    /// Wraps `data` (a data key or Shamir share) for `fingerprint` and
    /// returns the `enc` text: the built-in path, then `gpg --encrypt`.
    pub fn wrap(&self, fingerprint: &str, data: &[u8]) -> Result<String, PgpError> {
        let builtin = match self.builtin.encrypt(fingerprint, data) {
            Ok(enc) => return Ok(enc),
            Err(e) => e,
        };
        match gpg::encrypt(&self.env, fingerprint, data) {
            Ok(enc) => Ok(enc),
            Err(binary) => Err(PgpError { op: "encrypt", builtin: Some(builtin), binary }),
        }
    }

    /// Unwraps the data key from a PGP entry's `enc`: the built-in path,
    /// then `gpg -d`.
    pub fn unwrap(&self, fingerprint: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, PgpError> {
        let builtin = match self.builtin.decrypt(fingerprint, enc) {
            Ok(key) => return Ok(key),
            Err(e) => e,
        };
        match gpg::decrypt(&self.env, enc) {
            Ok(key) => Ok(key),
            Err(binary) => Err(PgpError { op: "decrypt", builtin: Some(builtin), binary }),
        }
    }
}

#[cfg(test)]
mod tests;
