//! Tests of the public age API. Each expected message was compared with
//! what real sops 3.11 prints in the same situation (its home directory in
//! place of the temporary one used here).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use super::identities::Platform;
use super::*;

const KEY1: &str = include_str!("../../../testdata/keys/age/test1.txt");
const KEY2: &str = include_str!("../../../testdata/keys/age/test2.txt");
const KEY3: &str = include_str!("../../../testdata/keys/age/test3.txt");
/// An `enc` written by sops 3.11 for test1's recipient, and the data key
/// inside it as `age -d -i test1.txt` prints it.
const SOPS_ENC: &str = include_str!("../../../testdata/keys/age/sops-enc-test1.age");
const SOPS_DATA_KEY_HEX: &str =
    include_str!("../../../testdata/keys/age/sops-enc-test1.datakey.hex");

/// An ECDSA public key line (a type sops does not take as a recipient).
const ECDSA_PUB: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCSzFuQ/YUhVR3s8Mn+EXdnEaRj0+mklA4HUV+0oEd5AbGXxuKY8KFNQPMXImCi16aXT9bCsV93MBDpXHDs2nF4= ec";
/// `test1.txt` encrypted with `age -p`, and its passphrase.
const TEST1_PASSPHRASE_FILE: &str = include_str!("../../../testdata/keys/age/test1-passphrase.age");
const TEST_PASSPHRASE: &str = "rsops test passphrase";

/// A test SSH key file of `testdata/keys/ssh/`.
fn ssh_key(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/keys/ssh").join(name))
        .unwrap()
}

/// A prompt that answers `answer` and records each question.
fn answering(answer: &'static str, asked: &std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Box<prompt::Prompt> {
    let asked = std::sync::Arc::clone(asked);
    Box::new(move |q: &str| {
        asked.lock().unwrap().push(q.to_owned());
        Ok(age_core::secrecy::SecretString::from(answer.to_owned()))
    })
}

fn public(key_file: &str) -> &str {
    key_file
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
}

fn secret(key_file: &str) -> &str {
    key_file
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{b:02x}"));
        out
    })
}

/// A private home directory and an explicit environment: nothing of the
/// machine running the tests leaks in (STYLE.md §8).
struct TestEnv {
    dir: tempfile::TempDir,
    vars: HashMap<String, OsString>,
}

impl TestEnv {
    fn new() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        let mut env = TestEnv {
            dir,
            vars: HashMap::new(),
        };
        let home = env.home();
        env.set("HOME", home.to_str().unwrap());
        if let Some(path) = std::env::var_os("PATH") {
            env.vars.insert("PATH".into(), path);
        }
        env
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn h(&self) -> String {
        self.home().to_str().unwrap().to_owned()
    }

    fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    fn unset(&mut self, name: &str) -> &mut Self {
        self.vars.remove(name);
        self
    }

    /// Writes a file under the temporary directory and returns its path.
    fn write(&self, relative: &str, content: &str) -> String {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Identities that never prompt (a test must not wait for a person).
    fn identities(&self) -> AgeIdentities {
        self.identities_with(Box::new(prompt::never))
    }

    fn identities_with(&self, ask: Box<prompt::Prompt>) -> AgeIdentities {
        let vars = self.vars.clone();
        AgeIdentities::with_platform(
            AgeEnv::from_lookup(move |k| vars.get(k).cloned()),
            Platform::Unix,
        )
        .with_prompt(ask)
    }

    fn unwrap_sops(&self) -> Result<Zeroizing<Vec<u8>>, AgeError> {
        unwrap(&self.identities(), public(KEY1), SOPS_ENC)
    }

    fn error(&self) -> String {
        match self.unwrap_sops() {
            Ok(_) => panic!("decrypted"),
            Err(e) => e.to_string(),
        }
    }
}

// ---- recipients --------------------------------------------------------

#[test]
fn parse_recipients_splits_and_trims() {
    let list = format!(" {} ,{}\t", public(KEY1), public(KEY2));
    assert_eq!(
        parse_recipients(&list).unwrap(),
        [public(KEY1), public(KEY2)]
    );
    assert_eq!(parse_recipients("").unwrap(), Vec::<String>::new());
}

#[test]
fn parse_recipients_errors_are_sops_texts() {
    let err = |list: &str| parse_recipients(list).unwrap_err().to_string();
    let r = public(KEY1);
    assert_eq!(
        err("notakey"),
        r#"failed to parse input, unknown recipient type: "notakey""#
    );
    // sops does not skip empty items.
    assert_eq!(
        err(&format!("{r},")),
        r#"failed to parse input, unknown recipient type: """#
    );
    assert_eq!(
        err(&format!(",{r}")),
        r#"failed to parse input, unknown recipient type: """#
    );
    assert_eq!(
        err(" "),
        r#"failed to parse input, unknown recipient type: """#
    );
    assert_eq!(
        err(&r.to_uppercase()),
        format!(
            r#"failed to parse input, unknown recipient type: "{}""#,
            r.to_uppercase()
        )
    );
    assert_eq!(
        err("age1bad"),
        r#"failed to parse input as Bech32-encoded age public key: malformed recipient "age1bad": separator '1' at invalid position: pos=3, len=7"#
    );
    let bad_sum = format!("{}q", &r[..r.len() - 1]);
    assert_eq!(
        err(&bad_sum),
        format!(
            r#"failed to parse input as Bech32-encoded age public key: malformed recipient "{bad_sum}": invalid checksum"#
        )
    );
    let bad_char = format!("{}b", &r[..r.len() - 1]);
    assert_eq!(
        err(&bad_char),
        format!(
            r#"failed to parse input as Bech32-encoded age public key: malformed recipient "{bad_char}": invalid character data part: s[57]=98"#
        )
    );
    // SSH and plugin recipients, as sops 3.11 words their errors.
    assert_eq!(
        err("ssh-ed25519"),
        r#"failed to parse input as age-ssh public key: malformed SSH recipient: "ssh-ed25519": ssh: no key found"#
    );
    assert_eq!(
        err("age1test1qqqqqqqqq"),
        "failed to parse input as age key from age plugin: invalid recipient encoding: invalid checksum"
    );
    assert!(err(ECDSA_PUB).starts_with("failed to parse input, unknown recipient type: \"ecdsa-sha2-nistp256 "));
}

// ---- wrap and unwrap ---------------------------------------------------

#[test]
fn wrap_then_unwrap_round_trips_keys_and_shares() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", secret(KEY2));
    let ids = env.identities();
    for len in [32u8, 33] {
        let data: Vec<u8> = (0..len).map(|i| i ^ 0x5a).collect();
        let enc = wrap(public(KEY2), &data).unwrap();
        assert_eq!(*unwrap(&ids, public(KEY2), &enc).unwrap(), data);
    }
}

#[test]
fn wrap_writes_the_shape_sops_writes() {
    let enc = wrap(public(KEY1), &[9u8; 32]).unwrap();
    let lines: Vec<&str> = enc.split_inclusive('\n').collect();
    let shape: Vec<usize> = lines.iter().map(|l| l.len()).collect();
    let sops_shape: Vec<usize> = SOPS_ENC.split_inclusive('\n').map(str::len).collect();
    assert_eq!(shape, sops_shape);
    assert_eq!(lines[0], "-----BEGIN AGE ENCRYPTED FILE-----\n");
    assert_eq!(lines[lines.len() - 1], "-----END AGE ENCRYPTED FILE-----\n");
    // "age-encryption.org/v1\n-> X25519 " in base64 starts every line 1 (the
    // next character mixes in the ephemeral key).
    assert!(lines[1].starts_with("YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOS"));
    assert_ne!(
        enc,
        wrap(public(KEY1), &[9u8; 32]).unwrap(),
        "fresh randomness per wrap"
    );
}

#[test]
fn wrap_rejects_untrimmed_recipients_like_sops() {
    let err = wrap(&format!(" {}", public(KEY1)), &[0; 32]).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("failed to parse input, unknown recipient type"));
}

#[test]
fn unwraps_an_enc_written_by_sops() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY_FILE", &env.write("key1.txt", KEY1));
    let key = env.unwrap_sops().unwrap();
    assert_eq!(hex(&key), SOPS_DATA_KEY_HEX.trim());
}

#[test]
fn a_missing_recipient_field_still_decrypts() {
    // observed.md: sops decrypts an age entry without `recipient`.
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", secret(KEY1));
    assert!(unwrap(&env.identities(), "", SOPS_ENC).is_ok());
}

#[cfg(unix)]
#[test]
fn the_age_cli_decrypts_what_wrap_writes() {
    use std::process::Command;
    let Ok(status) = Command::new("age").arg("--version").output() else {
        eprintln!("age CLI not installed; skipping");
        return;
    };
    assert!(status.status.success());
    let env = TestEnv::new();
    let key_path = env.write("key1.txt", KEY1);
    let data: Vec<u8> = (0..32).collect();
    let enc_path = env.write("enc.age", &wrap(public(KEY1), &data).unwrap());
    let out = Command::new("age")
        .args(["-d", "-i", &key_path, &enc_path])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, data);
}

// ---- where identities come from ---------------------------------------

#[cfg(unix)]
#[test]
fn nothing_found_lists_every_location() {
    let env = TestEnv::new();
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Did not find keys in locations \
             'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', and '{h}/.config/sops/age/keys.txt'."
        )
    );
}

#[cfg(unix)]
#[test]
fn an_empty_sops_age_key_is_listed_last() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", "");
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Did not find keys in locations \
             'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', and 'SOPS_AGE_KEY'."
        )
    );
}

#[cfg(unix)]
#[test]
fn a_wrong_key_names_the_identity_error() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY_FILE", &env.write("key2.txt", KEY2));
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: identity did not match \
             any of the recipients: incorrect identity for recipient block. Did not find keys in \
             locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', and 'SOPS_AGE_KEY_CMD'."
        )
    );
    // Two identities: Go age no longer quotes the single cause.
    env.set("SOPS_AGE_KEY", secret(KEY3));
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: no identity matched \
             any of the recipients. Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', \
             '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', and 'SOPS_AGE_KEY_CMD'."
        )
    );
}

#[cfg(unix)]
#[test]
fn sources_are_combined() {
    // Right key in one source, wrong keys in all others: sops finds it.
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", secret(KEY2));
    env.set("SOPS_AGE_KEY_FILE", &env.write("key3.txt", KEY3));
    env.write("home/.config/sops/age/keys.txt", KEY1);
    assert!(env.unwrap_sops().is_ok());

    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", secret(KEY2));
    env.set("SOPS_AGE_KEY_CMD", &format!("echo {}", secret(KEY1)));
    assert!(env.unwrap_sops().is_ok());

    let mut env = TestEnv::new();
    env.set(
        "SOPS_AGE_KEY",
        &format!("# comment\n\n{}\r\n{}\n", secret(KEY2), secret(KEY1)),
    );
    assert!(env.unwrap_sops().is_ok());
}

#[cfg(unix)]
#[test]
fn default_key_file_follows_xdg_config_home() {
    let mut env = TestEnv::new();
    let xdg = env.dir.path().join("xdg");
    env.set("XDG_CONFIG_HOME", &format!("{}/", xdg.to_str().unwrap()));
    env.write("xdg/sops/age/keys.txt", KEY1);
    assert!(env.unwrap_sops().is_ok());

    let mut env = TestEnv::new();
    env.set("XDG_CONFIG_HOME", "");
    env.write("home/.config/sops/age/keys.txt", KEY1);
    assert!(env.unwrap_sops().is_ok());

    // An empty default file is listed like a missing one, but last.
    let mut env = TestEnv::new();
    env.write("home/.config/sops/age/keys.txt", "");
    env.set("SOPS_AGE_KEY_FILE", &env.write("key2.txt", KEY2));
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: identity did not match \
             any of the recipients: incorrect identity for recipient block. Did not find keys in \
             locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', 'SOPS_AGE_KEY_CMD', and '{h}/.config/sops/age/keys.txt'."
        )
    );
}

#[cfg(unix)]
#[test]
fn key_file_errors() {
    let mut env = TestEnv::new();
    let missing = env.dir.path().join("nonexistent");
    env.set("SOPS_AGE_KEY_FILE", missing.to_str().unwrap());
    let (h, m) = (env.h(), missing.display());
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to open \
             SOPS_AGE_KEY_FILE file: open {m}: no such file or directory. Did not find keys in \
             locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', 'SOPS_AGE_KEY_CMD', and '{h}/.config/sops/age/keys.txt'."
        )
    );

    env.set("SOPS_AGE_KEY_FILE", "");
    assert!(env.error().contains(
        "Errors while loading age identities: failed to open SOPS_AGE_KEY_FILE file: open : no such file or directory."
    ));

    // A directory opens, reads nothing, and counts as an empty source.
    let dir = env.dir.path().to_str().unwrap().to_owned();
    env.set("SOPS_AGE_KEY_FILE", &dir);
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Did not find keys in locations \
             'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', 'SOPS_AGE_KEY_CMD', and 'SOPS_AGE_KEY_FILE'."
        )
    );
}

#[cfg(unix)]
#[test]
fn identity_parse_errors_name_the_source() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", &format!(" {}", secret(KEY1)));
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to parse \
             'SOPS_AGE_KEY' age identities: unknown identity type. Did not find keys in locations \
             'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY_FILE', and 'SOPS_AGE_KEY_CMD'."
        )
    );

    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", &format!("{}X", secret(KEY1)));
    assert!(env.error().contains(
        "failed to parse 'SOPS_AGE_KEY' age identities: malformed secret key: invalid checksum."
    ));

    let env = TestEnv::new();
    env.write("home/.config/sops/age/keys.txt", "junk\n");
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to parse \
             '{h}/.config/sops/age/keys.txt' age identities: unknown identity type. Did not find \
             keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', \
             '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', and 'SOPS_AGE_KEY_CMD'."
        )
    );
}

#[cfg(unix)]
#[test]
fn home_and_config_dir_errors() {
    let mut env = TestEnv::new();
    env.unset("HOME");
    assert_eq!(
        env.error(),
        "failed to load age identities. Errors while loading age identities: $HOME is not defined; \
         user config directory could not be determined: neither $XDG_CONFIG_HOME nor $HOME are \
         defined. Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_KEY', \
         'SOPS_AGE_KEY_FILE', and 'SOPS_AGE_KEY_CMD'."
    );

    let mut env = TestEnv::new();
    env.set("XDG_CONFIG_HOME", "rel");
    let missing = env.dir.path().join("nonexistent");
    env.set("SOPS_AGE_KEY_FILE", missing.to_str().unwrap());
    let (h, m) = (env.h(), missing.display());
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to open \
             SOPS_AGE_KEY_FILE file: open {m}: no such file or directory; user config directory \
             could not be determined: path in $XDG_CONFIG_HOME is relative. Did not find keys in \
             locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', and 'SOPS_AGE_KEY_CMD'."
        )
    );

    // With another source present the config dir error is not reported.
    env.set("SOPS_AGE_KEY", secret(KEY2));
    assert!(!env.error().contains("user config directory"));
}

#[cfg(unix)]
#[test]
fn key_cmd_errors() {
    let mut env = TestEnv::new();
    let h = env.h();
    let locations = format!(
        "Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', \
         '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', and '{h}/.config/sops/age/keys.txt'."
    );
    let cases = [
        ("false", "failed to execute command false from SOPS_AGE_KEY_CMD: exit status 1"),
        (
            "nosuchcmd-rsops",
            "failed to execute command nosuchcmd-rsops from SOPS_AGE_KEY_CMD: exec: \"nosuchcmd-rsops\": executable file not found in $PATH",
        ),
        (
            "echo 'unterminated",
            "failed to parse command echo 'unterminated from SOPS_AGE_KEY_CMD: EOF found when expecting closing quote",
        ),
        (
            "echo foo\\",
            "failed to parse command echo foo\\ from SOPS_AGE_KEY_CMD: EOF found after escape character",
        ),
        ("", "failed to execute command  from SOPS_AGE_KEY_CMD: exec: no command"),
    ];
    for (cmd, error) in cases {
        env.set("SOPS_AGE_KEY_CMD", cmd);
        assert_eq!(
            env.error(),
            format!("failed to load age identities. Errors while loading age identities: {error}. {locations}"),
            "SOPS_AGE_KEY_CMD={cmd:?}"
        );
    }

    env.set("SOPS_AGE_KEY_CMD", "echo hello");
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to parse \
             'SOPS_AGE_KEY_CMD' age identities: unknown identity type. Did not find keys in \
             locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', and 'SOPS_AGE_KEY_FILE'."
        )
    );

    env.set("SOPS_AGE_KEY_CMD", "true");
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Did not find keys in locations \
             'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', and 'SOPS_AGE_KEY_CMD'."
        )
    );
}

#[cfg(unix)]
#[test]
fn key_cmd_gets_the_recipient_and_runs_once_per_recipient() {
    let mut env = TestEnv::new();
    let log = env.dir.path().join("runs.log");
    let keys = env.write("keys.txt", KEY1);
    let script = env.write(
        "keycmd.sh",
        &format!(
            "#!/bin/sh\necho \"$SOPS_AGE_RECIPIENT\" >> '{}'\n\
             [ \"$SOPS_AGE_RECIPIENT\" = '{}' ] && cat '{keys}'\nexit 0\n",
            log.display(),
            public(KEY1)
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.set("SOPS_AGE_KEY_CMD", &script);
    let ids = env.identities();
    assert!(unwrap(&ids, public(KEY1), SOPS_ENC).is_ok());
    assert!(unwrap(&ids, public(KEY1), SOPS_ENC).is_ok());
    // Another recipient gets nothing from the script.
    assert!(matches!(
        unwrap(&ids, public(KEY2), SOPS_ENC),
        Err(AgeError::NoIdentities { .. })
    ));
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs, format!("{}\n{}\n", public(KEY1), public(KEY2)));
}

#[cfg(unix)]
#[test]
fn ssh_key_files_hold_their_place() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", secret(KEY2));
    env.write("home/.ssh/id_ed25519", "garbage\n");
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: identity did not match \
             any of the recipients: incorrect identity for recipient block. Errors while loading age \
             identities: malformed SSH identity in \"{h}/.ssh/id_ed25519\": ssh: no key found. Did \
             not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_rsa', \
             'SOPS_AGE_KEY_FILE', and 'SOPS_AGE_KEY_CMD'."
        )
    );

    // A damaged OpenSSH key is reported with Go's text; the error names
    // the file, and the other sources still count.
    env.write(
        "home/.ssh/id_rsa",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    let missing = env.dir.path().join("nonexistent");
    env.set("SOPS_AGE_SSH_PRIVATE_KEY_FILE", missing.to_str().unwrap());
    let m = missing.display();
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: identity did not match \
             any of the recipients: incorrect identity for recipient block. Errors while loading age \
             identities: failed to open file: open {m}: no such file or directory; malformed SSH \
             identity in \"{h}/.ssh/id_ed25519\": ssh: no key found; malformed SSH identity in \
             \"{h}/.ssh/id_rsa\": ssh: invalid openssh private key format. Did not find keys in \
             locations 'SOPS_AGE_KEY_FILE' and 'SOPS_AGE_KEY_CMD'."
        )
    );
    // The right age key still wins.
    env.set("SOPS_AGE_KEY", secret(KEY1));
    assert!(env.unwrap_sops().is_ok());
}

#[cfg(unix)]
#[test]
fn ssh_key_file_read_error() {
    let mut env = TestEnv::new();
    let dir = env.dir.path().to_str().unwrap().to_owned();
    env.set("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &dir);
    let h = env.h();
    assert_eq!(
        env.error(),
        format!(
            "failed to load age identities. Errors while loading age identities: failed to read \
             file: read {dir}: is a directory. Did not find keys in locations '{h}/.ssh/id_ed25519', \
             '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', and \
             '{h}/.config/sops/age/keys.txt'."
        )
    );
}

#[cfg(unix)]
#[test]
fn passphrase_protected_identity_files_prompt_once_needed() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY_FILE", &env.write("enc.txt", TEST1_PASSPHRASE_FILE));
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let ids = env.identities_with(answering(TEST_PASSPHRASE, &asked));
    let key = unwrap(&ids, public(KEY1), SOPS_ENC).expect("unlocked with the passphrase");
    assert_eq!(hex(&key), SOPS_DATA_KEY_HEX.trim());
    // Unlocked once, kept for the other keys of the run.
    unwrap(&ids, public(KEY1), SOPS_ENC).unwrap();
    assert_eq!(*asked.lock().unwrap(), ["Enter passphrase for identity 'SOPS_AGE_KEY_FILE':"]);

    let h = env.h();
    let tail = format!(
        ". Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', \
         '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', and 'SOPS_AGE_KEY_CMD'."
    );
    let wrong = env.identities_with(answering("wrong", &asked));
    assert_eq!(
        unwrap(&wrong, public(KEY1), SOPS_ENC).unwrap_err().to_string(),
        format!("failed to create reader for decrypting sops data key with age: incorrect passphrase{tail}")
    );
    // Without a terminal: sops 3.11's text, observed with no tty.
    assert_eq!(
        env.error(),
        format!(
            "failed to create reader for decrypting sops data key with age: failed to decrypt identity \
             file: could not read passphrase: standard input is not a terminal, and /dev/tty is not \
             available: open /dev/tty: no such device or address{tail}"
        )
    );
    // A native identity that matches is tried first, as Go age sorts them:
    // no question is asked.
    env.set("SOPS_AGE_KEY", secret(KEY1));
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    unwrap(&env.identities_with(answering("unused", &asked)), public(KEY1), SOPS_ENC).unwrap();
    assert!(asked.lock().unwrap().is_empty());
}

// ---- SSH keys ----------------------------------------------------------

#[cfg(unix)]
#[test]
fn ssh_keys_decrypt_what_sops_wrote() {
    for (name, default_path) in [("id_ed25519", "home/.ssh/id_ed25519"), ("id_rsa", "home/.ssh/id_rsa")] {
        let enc = ssh_key(&format!("sops-enc-{name}.age"));
        let want = ssh_key(&format!("sops-enc-{name}.datakey.hex"));
        let recipient = ssh_key(&format!("{name}.pub"));
        // As the default ~/.ssh key, and through SOPS_AGE_SSH_PRIVATE_KEY_FILE.
        let env = TestEnv::new();
        env.write(default_path, &ssh_key(name));
        let key = unwrap(&env.identities(), recipient.trim(), &enc).expect(name);
        assert_eq!(hex(&key), want.trim(), "{name}");
        let mut env = TestEnv::new();
        env.set("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &env.write("k", &ssh_key(name)));
        assert_eq!(hex(&unwrap(&env.identities(), "", &enc).unwrap()), want.trim());
    }
}

#[cfg(unix)]
#[test]
fn ssh_recipients_round_trip_and_the_age_cli_reads_them() {
    for name in ["id_ed25519", "id_rsa"] {
        let line = ssh_key(&format!("{name}.pub"));
        // The recipient is the whole line, comment included, trimmed.
        assert_eq!(parse_recipients(&format!(" {} ", line.trim())).unwrap(), [line.trim()]);
        let data: Vec<u8> = (0..33).collect();
        let enc = wrap(line.trim(), &data).unwrap();
        let env = TestEnv::new();
        let key_path = env.write(name, &ssh_key(name));
        let tag = if name == "id_rsa" { "ssh-rsa" } else { "ssh-ed25519" };
        // One stanza of the SSH kind, as Go age writes for this recipient.
        let head = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, enc.lines().nth(1).unwrap())
            .unwrap();
        assert!(head.starts_with(format!("age-encryption.org/v1\n-> {tag} ").as_bytes()), "{name}");
        env.write(&format!("home/.ssh/{name}"), &ssh_key(name));
        assert_eq!(*unwrap(&env.identities(), line.trim(), &enc).unwrap(), data);
        if let Ok(out) = std::process::Command::new("age")
            .args(["-d", "-i", &key_path])
            .arg(env.write("enc.age", &enc))
            .output()
        {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.stdout, data);
        }
    }
}

#[cfg(unix)]
#[test]
fn encrypted_ssh_keys_prompt_only_for_their_stanzas() {
    let enc = ssh_key("sops-enc-encrypted_ed25519.age");
    let mut env = TestEnv::new();
    let path = env.write("enc_key", &ssh_key("encrypted_ed25519"));
    env.set("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &path);
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let ids = env.identities_with(answering(TEST_PASSPHRASE, &asked));
    assert_eq!(unwrap(&ids, "", &enc).unwrap().len(), 32);
    assert_eq!(*asked.lock().unwrap(), [format!("Enter passphrase for \"{path}\":")]);

    // A file for another key: no question, Go age's "did not match".
    let other = ssh_key("sops-enc-id_ed25519.age");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let err = unwrap(&env.identities_with(answering(TEST_PASSPHRASE, &asked)), "", &other).unwrap_err();
    assert!(asked.lock().unwrap().is_empty());
    assert!(err.to_string().starts_with(
        "failed to create reader for decrypting sops data key with age: identity did not match any of the \
         recipients: incorrect identity for recipient block."
    ));

    // No terminal: sops 3.11's text, observed with no tty.
    let h = env.h();
    assert_eq!(
        unwrap(&env.identities(), "", &enc).unwrap_err().to_string(),
        format!(
            "failed to create reader for decrypting sops data key with age: failed to obtain passphrase: \
             could not read passphrase for \"{path}\": standard input is not a terminal, and /dev/tty is \
             not available: open /dev/tty: no such device or address. Did not find keys in locations \
             '{h}/.ssh/id_ed25519', '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', and \
             'SOPS_AGE_KEY_CMD'."
        )
    );
    let wrong = env.identities_with(answering("wrong", &asked));
    assert!(unwrap(&wrong, "", &enc).unwrap_err().to_string().contains("failed to decrypt SSH key file"));
}

#[cfg(unix)]
#[test]
fn unsupported_ssh_key_types_name_the_go_type() {
    let mut env = TestEnv::new();
    let path = env.write("ec", &ssh_key("id_ecdsa"));
    env.set("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &path);
    let err = env.error();
    assert!(
        err.contains(&format!("malformed SSH identity in \"{path}\": unsupported SSH identity type: *ecdsa.PrivateKey.")),
        "{err}"
    );
}

#[test]
fn loading_is_lazy() {
    let mut env = TestEnv::new();
    let ids = {
        env.set(
            "SOPS_AGE_KEY_FILE",
            &env.dir.path().join("later.txt").to_string_lossy(),
        );
        env.identities()
    };
    // Written after the identities were created, before first use.
    env.write("later.txt", KEY1);
    assert!(unwrap(&ids, public(KEY1), SOPS_ENC).is_ok());
}

// ---- damaged `enc` values ---------------------------------------------

#[cfg(unix)]
#[test]
fn damaged_enc_errors_are_sops_texts() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY_FILE", &env.write("key1.txt", KEY1));
    let ids = env.identities();
    let h = env.h();
    let locations = format!(
        "Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', '{h}/.ssh/id_ed25519', \
         '{h}/.ssh/id_rsa', 'SOPS_AGE_KEY', and 'SOPS_AGE_KEY_CMD'."
    );
    let err = |enc: &str| unwrap(&ids, public(KEY1), enc).unwrap_err().to_string();
    let reader = "failed to create reader for decrypting sops data key with age";
    let copy = "failed to copy age decrypted data into bytes.Buffer";

    assert_eq!(
        err(""),
        format!("{reader}: failed to read header: parsing age header: failed to read intro: invalid armor: unexpected EOF. {locations}")
    );
    assert_eq!(
        err(&SOPS_ENC.replace("-----BEGIN", "-----BEGIn")),
        format!("{reader}: failed to read header: parsing age header: failed to read intro: invalid armor: invalid first line: \"-----BEGIn AGE ENCRYPTED FILE-----\". {locations}")
    );
    assert_eq!(
        err(&SOPS_ENC.replace("YWdlLWVu", "YWdlLWV!")),
        format!("{reader}: failed to read header: parsing age header: failed to read intro: invalid armor: illegal base64 data at input byte 7. {locations}")
    );
    assert_eq!(
        err(&format!("{SOPS_ENC}garbage\n")),
        format!("{copy}: invalid armor: trailing data after armored file")
    );
    assert_eq!(
        err(&SOPS_ENC.replace("-----END AGE ENCRYPTED FILE-----\n", "")),
        format!("{copy}: invalid armor: unexpected EOF")
    );
    assert_eq!(
        err(&SOPS_ENC.replace("uA==", "uR==")),
        format!("{copy}: invalid armor: illegal base64 data at input byte 54")
    );
    assert_eq!(
        err(&SOPS_ENC.replace("1eVq4pEq", "1eVq4pEr")),
        format!("{copy}: failed to decrypt and authenticate payload chunk, file may be corrupted or tampered with")
    );
    // Line 3 starts inside the stanza body: the identity no longer fits.
    assert_eq!(
        err(&SOPS_ENC.replace("aC9yaEhs", "aC9yaEht")),
        format!("{reader}: identity did not match any of the recipients: incorrect identity for recipient block. {locations}")
    );
    // Line 4 starts inside the header MAC.
    assert_eq!(
        err(&SOPS_ENC.replace("eFRoMGd1", "eFRoMGd2")),
        format!("{reader}: bad header MAC. {locations}")
    );
    // Variants Go's armour reader accepts still decrypt.
    for ok in [
        format!("\n\n{SOPS_ENC}"),
        SOPS_ENC.replace('\n', "\r\n"),
        SOPS_ENC.trim_end().to_owned(),
    ] {
        assert!(unwrap(&ids, public(KEY1), &ok).is_ok(), "{ok:?}");
    }
}

#[test]
fn errors_and_debug_carry_no_secret() {
    let mut env = TestEnv::new();
    env.set("SOPS_AGE_KEY", &format!("{}X", secret(KEY1)));
    let ids = env.identities();
    let err = unwrap(&ids, public(KEY1), SOPS_ENC).unwrap_err();
    let body = &secret(KEY1)["AGE-SECRET-KEY-1".len()..];
    for text in [err.to_string(), format!("{err:?}"), format!("{ids:?}")] {
        assert!(!text.contains(body), "{text}");
    }
}

#[test]
fn identities_can_be_shared_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<AgeIdentities>();
}
