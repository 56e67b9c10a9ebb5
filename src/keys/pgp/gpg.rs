//! The `gpg` binary fallback, run exactly as sops 3.11 runs it (cli.md
//! §10.2, verified by wrapping `SOPS_GPG_EXEC`):
//!
//! - encrypt: `gpg --no-default-recipient --yes --encrypt -a -r <FP>
//!   --trusted-key <SHORT> --no-encrypt-to`, the data key on stdin, stdout
//!   with surrounding whitespace trimmed is the `enc`;
//! - decrypt: `gpg -d`, the `enc` on stdin, stdout is the data key; empty
//!   output is a failure (`zero bytes returned`).
//!
//! The program is `SOPS_GPG_EXEC` as given (looked up on `PATH` when it has
//! no `/`), else `gpg`. On failure sops reports gpg's stderr, trimmed; a
//! program that cannot be started leaves it empty, so the message ends in
//! `with pgp: ` as sops's does.

use std::io::Write as _;
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::PgpEnv;

/// What one gpg run gave: success with its stdout, or its stderr trimmed.
fn run(env: &PgpEnv, args: &[&str], stdin: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut cmd = Command::new(env.gpg_program());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The child inherits the environment as in sops; the snapshot's
    // GNUPGHOME is passed on explicitly so library callers with their own
    // environment get the same home the built-in path read.
    if let Some(home) = env.gnupg_home.as_ref() {
        cmd.env("GNUPGHOME", home);
    }
    let Ok(mut child) = cmd.spawn() else {
        return Err(String::new());
    };
    if let Some(mut pipe) = child.stdin.take() {
        // gpg may exit before reading everything (e.g. no public key): a
        // broken pipe here is reported through its exit status instead.
        let _ = pipe.write_all(stdin);
    }
    let Ok(out) = child.wait_with_output() else {
        return Err(String::new());
    };
    let stdout = Zeroizing::new(out.stdout);
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// sops's `shortenFingerprint`: the last 16 characters, or the last 17 when
/// the fingerprint ends in `!` (observed with sops 3.11, cli.md §10.2).
fn short_id(fingerprint: &str) -> &str {
    let keep = if fingerprint.ends_with('!') { 17 } else { 16 };
    let chars: Vec<(usize, char)> = fingerprint.char_indices().collect();
    match chars.len().checked_sub(keep) {
        Some(skip) if skip > 0 => &fingerprint[chars[skip].0..],
        _ => fingerprint,
    }
}

/// `gpg --encrypt -a` for one fingerprint; returns the trimmed armour.
pub(super) fn encrypt(env: &PgpEnv, fingerprint: &str, data: &[u8]) -> Result<String, String> {
    let args = [
        "--no-default-recipient",
        "--yes",
        "--encrypt",
        "-a",
        "-r",
        fingerprint,
        "--trusted-key",
        short_id(fingerprint),
        "--no-encrypt-to",
    ];
    match run(env, &args, data) {
        Ok(out) => Ok(String::from_utf8_lossy(&out).trim().to_owned()),
        Err(stderr) => Err(format!("failed to encrypt sops data key with pgp: {stderr}")),
    }
}

/// `gpg -d` of one `enc`; returns the data key.
pub(super) fn decrypt(env: &PgpEnv, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    match run(env, &["-d"], enc.as_bytes()) {
        Ok(out) if out.is_empty() => {
            Err("failed to decrypt sops data key with pgp: zero bytes returned".to_owned())
        }
        Ok(out) => Ok(out),
        Err(stderr) => Err(format!("failed to decrypt sops data key with pgp: {stderr}")),
    }
}

#[cfg(test)]
mod tests {
    use super::short_id;

    #[test]
    fn short_ids_as_sops_cuts_them() {
        assert_eq!(short_id("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"), "3D16CEE4A27381B4");
        assert_eq!(short_id("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4!"), "3D16CEE4A27381B4!");
        assert_eq!(short_id("A27381B4"), "A27381B4");
        assert_eq!(short_id(""), "");
    }
}
