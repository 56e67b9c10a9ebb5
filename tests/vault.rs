//! Vault transit keys (`HashiCorp` Vault, `OpenBao`) against a real dev server
//! that each test starts and stops (`util::bao`): rsops and the reference
//! sops 3.11 encrypt and decrypt each other's files with aes256-gcm96 and
//! rsa-4096 transit keys; the token comes from `VAULT_TOKEN` or
//! `~/.vault-token`; without one the server answers 403 and both tools
//! fail alike (backends.md §3, cli.md §10.6). Over HTTPS with a client
//! certificate, both tools honour the Go client's TLS variables
//! (`VAULT_CACERT[_BYTES]`, `VAULT_CAPATH`, `VAULT_CLIENT_CERT`/`_KEY`,
//! `VAULT_TLS_SERVER_NAME`) and fail alike without them; both follow a
//! standby's 307 unless `VAULT_DISABLE_REDIRECTS` says not to.

#![cfg_attr(not(feature = "vault"), allow(dead_code, unused_imports))]

use std::path::Path;

use crate::util::bao::{Bao, Pki, Redirector, ROOT_TOKEN};
use crate::util::run::{Output, Sandbox};
use crate::util::{self, run::rsops_bin};

/// sops's own YAML layout (4-space indent), so decrypted output must equal it.
const PLAIN: &str = "a: 1\nnested:\n    secret: value\n    list:\n        - x\n        - 2\n";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    std::fs::write(sb.work().join("plain.yaml"), PLAIN).expect("write plain");
    sb
}

fn run(sb: &Sandbox, program: &Path, args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = sb.command(program).args(args);
    if let Some(t) = token {
        cmd = cmd.env("VAULT_TOKEN", t);
    }
    cmd.run()
}

/// Encrypts `plain.yaml` for `uri` with `program` into `name`.
fn encrypt_to(sb: &Sandbox, program: &Path, uri: &str, name: &str, token: Option<&str>) {
    let out = run(sb, program, &["encrypt", "--hc-vault-transit", uri, "plain.yaml"], token).success();
    std::fs::write(sb.work().join(name), &out.stdout).expect("write encrypted file");
}

fn decrypts_to_plain(sb: &Sandbox, program: &Path, name: &str, token: Option<&str>) {
    let out = run(sb, program, &["decrypt", name], token);
    assert_eq!(out.code, Some(0), "{}", sb.redact(&out.to_string()));
    assert_eq!(out.stdout_text(), PLAIN, "{} decrypting {name}", out.shown);
}

/// The metadata entry is sops's (format.md §6.2).
fn check_entry(sb: &Sandbox, name: &str, bao: &Bao, mount: &str, key: &str) {
    let text = std::fs::read_to_string(sb.work().join(name)).expect("read encrypted file");
    for want in [
        "    hc_vault:\n".to_owned(),
        format!("        - vault_address: {}\n", bao.addr),
        format!("          engine_path: {mount}\n"),
        format!("          key_name: {key}\n"),
        "          enc: vault:v1:".to_owned(),
    ] {
        assert!(text.contains(&want), "{name} lacks {want:?}:\n{text}");
    }
    assert!(!text.contains("value"), "{name} holds the plaintext");
}

#[test]
#[cfg(feature = "vault")]
fn transit_keys_round_trip_with_sops() {
    let Some(bao) = Bao::start() else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.transit("sops");
    // A nested mount: the engine path is everything between /v1/ and /keys/.
    bao.api("POST", "/v1/sys/mounts/team/sops", r#"{"type":"transit"}"#);
    bao.api("POST", "/v1/team/sops/keys/aes", "{}");
    let token = Some(ROOT_TOKEN);
    for (mount, key) in [("sops", "aes"), ("sops", "rsa"), ("team/sops", "aes")] {
        let uri = bao.uri(mount, key);
        let sb = sandbox();
        encrypt_to(&sb, &rsops, &uri, "ours.yaml", token);
        check_entry(&sb, "ours.yaml", &bao, mount, key);
        decrypts_to_plain(&sb, &rsops, "ours.yaml", token);
        decrypts_to_plain(&sb, &sops, "ours.yaml", token);
        encrypt_to(&sb, &sops, &uri, "theirs.yaml", token);
        decrypts_to_plain(&sb, &rsops, "theirs.yaml", token);
    }
}

#[test]
#[cfg(feature = "vault")]
fn token_file_and_denied_without_token() {
    let Some(bao) = Bao::start() else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.transit("sops");
    let uri = bao.uri("sops", "aes");
    let sb = sandbox();
    let token_file = sb.home().join(".vault-token");

    // ~/.vault-token, whitespace trimmed, for both tools.
    std::fs::write(&token_file, format!("  {ROOT_TOKEN}\n")).expect("write token file");
    encrypt_to(&sb, &rsops, &uri, "ours.yaml", None);
    decrypts_to_plain(&sb, &sops, "ours.yaml", None);
    decrypts_to_plain(&sb, &rsops, "ours.yaml", None);

    // No token at all: Vault says 403, and rsops says what sops says.
    std::fs::remove_file(&token_file).expect("remove token file");
    let args = ["encrypt", "--hc-vault-transit", uri.as_str(), "plain.yaml"];
    let ours = run(&sb, &rsops, &args, None);
    let theirs = run(&sb, &sops, &args, None);
    assert_eq!(ours.code, Some(1), "{ours}");
    assert!(ours.stdout.is_empty());
    assert!(
        ours.stderr.contains(&format!(
            "Could not generate data key: [failed to encrypt new data key with master key \"{uri}\": \
             failed to encrypt sops data key to Vault transit backend 'sops/encrypt/aes': Error making API request.\n\n\
             URL: PUT {}/v1/sops/encrypt/aes\nCode: 403. Errors:\n\n* permission denied]",
            bao.addr
        )),
        "{ours}"
    );
    assert_eq!(ours.stderr, theirs.stderr, "encrypt without a token: rsops and sops differ");
    assert_eq!(ours.code, theirs.code);

    for program in [&rsops, &sops] {
        let out = run(&sb, program, &["decrypt", "ours.yaml"], None);
        assert_eq!(out.code, Some(128), "{out}");
        assert!(out.stderr.contains("Code: 403. Errors:"), "{out}");
    }
    let ours = run(&sb, &rsops, &["decrypt", "ours.yaml"], None);
    let theirs = run(&sb, &sops, &["decrypt", "ours.yaml"], None);
    assert_eq!(ours.stderr, theirs.stderr, "decrypt without a token: rsops and sops differ");

    // A wrong token is denied the same way.
    let out = run(&sb, &rsops, &["decrypt", "ours.yaml"], Some("not-a-token"));
    assert_eq!(out.code, Some(128), "{out}");
    assert!(out.stderr.contains("* permission denied"), "{out}");
}

#[test]
#[cfg(feature = "vault")]
fn creation_rules_and_env_select_vault_keys() {
    let Some(bao) = Bao::start() else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.transit("sops");
    let token = Some(ROOT_TOKEN);
    let configs = [
        format!("creation_rules:\n  - path_regex: \\.yaml$\n    hc_vault_transit_uri: \"{}\"\n", bao.uri("sops", "aes")),
        format!("creation_rules:\n  - key_groups:\n      - hc_vault:\n          - {}\n", bao.uri("sops", "rsa")),
    ];
    for config in &configs {
        let sb = sandbox();
        std::fs::write(sb.work().join(".sops.yaml"), config).expect("write .sops.yaml");
        let out = run(&sb, &rsops, &["encrypt", "plain.yaml"], token).success();
        std::fs::write(sb.work().join("ours.yaml"), &out.stdout).expect("write");
        assert!(out.stdout_text().contains("enc: vault:v1:"), "{config}");
        decrypts_to_plain(&sb, &sops, "ours.yaml", token);
        decrypts_to_plain(&sb, &rsops, "ours.yaml", token);
    }
    // SOPS_VAULT_URIS, two keys (empty items skipped).
    let sb = sandbox();
    let uris = format!("{},,{}", bao.uri("sops", "aes"), bao.uri("sops", "rsa"));
    let out = sb
        .command(&rsops)
        .args(["encrypt", "plain.yaml"])
        .env("SOPS_VAULT_URIS", &uris)
        .env("VAULT_TOKEN", ROOT_TOKEN)
        .run()
        .success();
    assert_eq!(out.stdout_text().matches("enc: vault:v1:").count(), 2);
    std::fs::write(sb.work().join("ours.yaml"), &out.stdout).expect("write");
    decrypts_to_plain(&sb, &sops, "ours.yaml", token);
}

/// `VAULT_NAMESPACE` is sent as `X-Vault-Namespace` (`OpenBao` has
/// namespaces): a key that exists only in the namespace works with it and
/// fails alike for both tools without it.
#[test]
#[cfg(feature = "vault")]
fn namespace_from_env() {
    let Some(bao) = Bao::start() else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.api("POST", "/v1/sys/namespaces/team1", "{}");
    bao.api_in(Some("team1"), "POST", "/v1/sys/mounts/sops", r#"{"type":"transit"}"#);
    bao.api_in(Some("team1"), "POST", "/v1/sops/keys/nk", "{}");
    let uri = bao.uri("sops", "nk");
    let sb = sandbox();
    let with_ns = |program: &Path, args: &[&str]| {
        sb.command(program).args(args).env("VAULT_TOKEN", ROOT_TOKEN).env("VAULT_NAMESPACE", "team1").run()
    };
    let out = with_ns(&rsops, &["encrypt", "--hc-vault-transit", &uri, "plain.yaml"]).success();
    std::fs::write(sb.work().join("ours.yaml"), &out.stdout).expect("write");
    assert_eq!(with_ns(&sops, &["decrypt", "ours.yaml"]).success().stdout_text(), PLAIN);
    assert_eq!(with_ns(&rsops, &["decrypt", "ours.yaml"]).success().stdout_text(), PLAIN);
    // Without the namespace the mount does not exist at the root.
    let ours = run(&sb, &rsops, &["decrypt", "ours.yaml"], Some(ROOT_TOKEN));
    let theirs = run(&sb, &sops, &["decrypt", "ours.yaml"], Some(ROOT_TOKEN));
    assert_eq!(ours.code, Some(128), "{ours}");
    assert!(ours.stderr.contains("Code: 404. Errors:"), "{ours}");
    assert_eq!(ours.stderr, theirs.stderr, "decrypt outside the namespace: rsops and sops differ");
}

/// Runs `program` with `VAULT_TOKEN` and `env`.
fn run_env(sb: &Sandbox, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = sb.command(program).args(args).env("VAULT_TOKEN", ROOT_TOKEN);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.run()
}

/// rsops and sops fail alike (exit code and the whole stderr).
fn both_fail_alike(sb: &Sandbox, rsops: &Path, sops: &Path, args: &[&str], env: &[(&str, &str)], want: &str) {
    let (ours, theirs) = both_fail(sb, rsops, sops, args, env, want);
    assert_eq!(ours.stderr, theirs.stderr, "{env:?}: rsops and sops differ");
}

/// rsops and sops fail with the same exit code; rsops says `want`.
fn both_fail(sb: &Sandbox, rsops: &Path, sops: &Path, args: &[&str], env: &[(&str, &str)], want: &str) -> (Output, Output) {
    let ours = run_env(sb, rsops, args, env);
    let theirs = run_env(sb, sops, args, env);
    assert_ne!(ours.code, Some(0), "{ours}");
    assert_eq!(ours.code, theirs.code, "{ours}\nsops: {theirs}");
    assert!(ours.stderr.replace("\n      | ", " ").contains(want), "stderr lacks {want:?}: {ours}");
    (ours, theirs)
}

/// HTTPS with a client certificate (`OpenBao`'s listener requires one): the
/// Go client's TLS variables, for both tools, and their failures.
#[test]
#[cfg(feature = "vault")]
fn tls_client_certificates_and_ca_settings() {
    let pki = Pki::new();
    let Some(bao) = Bao::start_tls(&pki) else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.transit("sops");
    let uri = bao.tls_uri("sops", "aes");
    let sb = sandbox();
    let (ca, cert, key) = (pki.ca.to_str().unwrap(), pki.client_cert.to_str().unwrap(), pki.client_key.to_str().unwrap());
    let full = [("VAULT_CACERT", ca), ("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key)];
    let encrypt = ["encrypt", "--hc-vault-transit", uri.as_str(), "plain.yaml"];
    for (program, name) in [(&rsops, "ours.yaml"), (&sops, "theirs.yaml")] {
        let out = run_env(&sb, program, &encrypt, &full).success();
        std::fs::write(sb.work().join(name), &out.stdout).expect("write");
    }
    for program in [&rsops, &sops] {
        for name in ["ours.yaml", "theirs.yaml"] {
            let out = run_env(&sb, program, &["decrypt", name], &full).success();
            assert_eq!(out.stdout_text(), PLAIN, "{}", out.shown);
        }
    }

    // Other ways to name the CA, and another name to verify against.
    let ca_pem = std::fs::read_to_string(&pki.ca).expect("read ca");
    let ca_dir = pki.ca_dir();
    let ca_dir = ca_dir.to_str().unwrap();
    let client = [("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key)];
    for extra in [
        [("VAULT_CACERT_BYTES", ca_pem.as_str()), ("VAULT_TLS_SERVER_NAME", "")],
        [("VAULT_CAPATH", ca_dir), ("VAULT_TLS_SERVER_NAME", "")],
        [("VAULT_CACERT", ca), ("VAULT_TLS_SERVER_NAME", "vault.sops.test")],
        // A file beats the inline bytes, as in go-rootcerts.
        [("VAULT_CACERT", ca), ("VAULT_CACERT_BYTES", "not a certificate")],
    ] {
        let env: Vec<(&str, &str)> = client.iter().chain(extra.iter()).copied().collect();
        let out = run_env(&sb, &rsops, &["decrypt", "theirs.yaml"], &env);
        assert_eq!(out.code, Some(0), "{extra:?}: {out}");
        assert_eq!(out.stdout_text(), PLAIN);
    }

    // Failures, worded as sops words them. No retries: the alert would be
    // retried twice by both tools.
    let fast = [("VAULT_MAX_RETRIES", "0")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> { fast.iter().chain(extra).copied().collect() };
    let leaked = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let (ca, cert, key) = (leaked(ca), leaked(cert), leaked(key));
    // Without a client certificate the server's TLS 1.3 alert races the
    // request: Go reports the alert, a broken pipe or a failed HTTP/2
    // connection, so only the frame and the exit code are compared.
    for args in [&encrypt[..], &["decrypt", "theirs.yaml"]] {
        let (ours, theirs) = both_fail(&sb, &rsops, &sops, args, &with(&[("VAULT_CACERT", ca)]), "Put \"https://127.0.0.1:");
        let text = ours.stderr.replace("\n      | ", " ");
        assert!(text.contains("remote error: tls: certificate required") || text.contains("write: broken pipe"), "{ours}");
        assert!(theirs.stderr.replace("\n      | ", " ").contains("Put \"https://127.0.0.1:"), "{theirs}");
    }
    let cases: [(Vec<(&str, &str)>, &str); 5] = [
        (with(&[("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key)]), "x509: certificate signed by unknown authority"),
        (
            with(&[("VAULT_CACERT", ca), ("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key), ("VAULT_TLS_SERVER_NAME", "wrong.test")]),
            "x509: certificate is valid for localhost, vault.sops.test, not wrong.test",
        ),
        (
            with(&[("VAULT_CACERT", ca), ("VAULT_CLIENT_CERT", cert)]),
            "cannot create Vault client: error encountered setting up default configuration: both client cert and client key must be provided",
        ),
        (
            with(&[("VAULT_CACERT", key), ("VAULT_CLIENT_CERT", cert), ("VAULT_CLIENT_KEY", key)]),
            "Error loading CA File: Couldn't parse PEM in:",
        ),
        (with(&[("VAULT_CACERT_BYTES", "junk")]), "Error appending CA: Couldn't parse PEM"),
    ];
    for (env, want) in &cases {
        both_fail_alike(&sb, &rsops, &sops, &encrypt, env, want);
        both_fail_alike(&sb, &rsops, &sops, &["decrypt", "theirs.yaml"], env, want);
    }
    // A setting the Go client cannot parse fails every call, even plain HTTP.
    let plain_uri = bao.uri("sops", "aes");
    let args = ["encrypt", "--hc-vault-transit", plain_uri.as_str(), "plain.yaml"];
    both_fail_alike(&sb, &rsops, &sops, &args, &[("VAULT_MAX_RETRIES", "x")], "strconv.ParseUint: parsing \"x\": invalid syntax");
    both_fail_alike(&sb, &rsops, &sops, &args, &[("VAULT_SKIP_VERIFY", "maybe")], "could not parse VAULT_SKIP_VERIFY");
}

/// A standby answers 307 with the active node's URL: both tools follow it
/// once, with the same method and body; with `VAULT_DISABLE_REDIRECTS` the
/// empty 307 answer is "transit backend is empty" for both.
#[test]
#[cfg(feature = "vault")]
fn standby_redirects_are_followed() {
    let Some(bao) = Bao::start() else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    bao.transit("sops");
    let standby = Redirector::start(&bao.addr);
    let uri = format!("{}/v1/sops/keys/aes", standby.addr);
    let sb = sandbox();
    let token = Some(ROOT_TOKEN);
    encrypt_to(&sb, &rsops, &uri, "ours.yaml", token);
    encrypt_to(&sb, &sops, &uri, "theirs.yaml", token);
    for program in [&rsops, &sops] {
        for name in ["ours.yaml", "theirs.yaml"] {
            decrypts_to_plain(&sb, program, name, token);
        }
    }
    let text = std::fs::read_to_string(sb.work().join("ours.yaml")).expect("read");
    assert!(text.contains(&format!("vault_address: {}\n", standby.addr)), "{text}");
    let env = [("VAULT_DISABLE_REDIRECTS", "true")];
    both_fail_alike(&sb, &rsops, &sops, &["decrypt", "ours.yaml"], &env, "'sops/decrypt/aes': transit backend is empty");
}

/// A Vault address that accepts and never answers: rsops says on stderr
/// whom it waits for, then fails as sops does once the connection drops.
#[test]
#[cfg(feature = "vault")]
fn slow_server_prints_waiting() {
    use crate::util::moto::SilentServer;
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    let mut codes = Vec::new();
    for program in [&rsops, &sops] {
        let silent = SilentServer::start(std::time::Duration::from_secs(5));
        let sb = sandbox();
        let uri = format!("{}/v1/sops/keys/k", silent.url);
        let out = run_env(&sb, program, &["encrypt", "--hc-vault-transit", &uri, "plain.yaml"], &[("VAULT_MAX_RETRIES", "0")]);
        assert!(!out.timed_out && out.stdout.is_empty(), "{out}");
        assert!(
            out.stderr.contains("failed to encrypt sops data key to Vault transit backend 'sops/encrypt/k': Put \""),
            "{out}"
        );
        if program == &rsops {
            assert!(out.stderr.starts_with(&format!("waiting for {} …\n", silent.url)), "{out}");
        }
        codes.push(out.code);
    }
    assert_eq!(codes, [Some(1), Some(1)]);
}

#[test]
fn version_lists_hc_vault() {
    let sb = Sandbox::new();
    let out = sb.command(&rsops_bin()).arg("--version").run().success();
    assert_eq!(out.stdout_text().contains("hc_vault"), cfg!(feature = "vault"), "{}", out.stdout_text());
}

/// Built without the feature, using a Vault key says so (exit 1, sops's
/// "Could not generate data key" frame); no server is needed.
#[test]
#[cfg(not(feature = "vault"))]
fn without_the_feature_vault_keys_fail_clearly() {
    let sb = sandbox();
    let out = run(&sb, &rsops_bin(), &["encrypt", "--hc-vault-transit", "http://127.0.0.1:9/v1/sops/keys/k", "plain.yaml"], None);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("Could not generate data key: [") && out.stderr.contains("`vault` feature"), "{out}");
}
