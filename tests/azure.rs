//! Azure Key Vault keys against the suite's own vault
//! (`tests/servers/azurekv.py`, spec backends.md §4): rsops and the
//! reference sops read each other's files through the same server, with a
//! managed identity and with a fake `az`; URLs without a version store the
//! latest; key groups mix Azure and age; keys come from flags, the
//! environment and creation rules; failures read as sops's. Every child has
//! the guards of backends.md §7 (`util::azure::AzureKv::env`).

use std::path::Path;

use crate::util::azure::{Auth, AzureKv};
use crate::util::kms::{both, plain_sandbox, PLAIN};
use crate::util::run::{Output, Sandbox};
use crate::util;

/// One sandbox with `plain.yaml`, whose commands talk to `kv`.
struct Azure<'a> {
    kv: &'a AzureKv,
    sb: Sandbox,
}

impl<'a> Azure<'a> {
    fn new(kv: &'a AzureKv) -> Azure<'a> {
        Azure { kv, sb: plain_sandbox() }
    }

    fn run(&self, program: &Path, args: &[&str], auth: Auth, extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.sb.command(program).args(args);
        for (k, v) in self.kv.env(auth) {
            cmd = cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    /// Encrypts `plain.yaml` with `program`, writes it to `name`, returns it.
    fn encrypt(&self, program: &Path, flags: &[&str], auth: Auth, extra: &[(&str, &str)], name: &str) -> String {
        let mut args = vec!["encrypt"];
        args.extend_from_slice(flags);
        args.push("plain.yaml");
        let out = self.run(program, &args, auth, extra).success();
        assert!(out.stderr.is_empty(), "encrypt printed: {}", out.stderr);
        std::fs::write(self.sb.work().join(name), &out.stdout).expect("write enc");
        out.stdout_text()
    }

    fn assert_decrypts(&self, program: &Path, name: &str, auth: Auth, extra: &[(&str, &str)]) {
        let out = self.run(program, &["decrypt", name], auth, extra).success();
        assert_eq!(out.stdout_text(), PLAIN, "{} decrypt of {name}", out.shown);
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.sb.work().join(name), text).expect("write file");
    }
}

/// The value of the first `<field>:` line of the `azure_kv` entry.
fn field(text: &str, name: &str) -> String {
    let start = text.find("    azure_kv:\n").unwrap_or_else(|| panic!("no azure_kv entry: {text}"));
    let pat = format!("{name}: ");
    let line = text[start..].lines().find(|l| l.trim_start().trim_start_matches("- ").starts_with(&pat)).expect("the field");
    line.trim_start().trim_start_matches("- ")[pat.len()..].trim().trim_matches('"').to_owned()
}

/// The `enc` of an entry: base64url without padding of a 2048-bit RSA
/// block (format.md §6.2).
fn assert_enc_shape(text: &str) {
    use base64::Engine as _;
    let enc = field(text, "enc");
    assert!(!enc.contains(['=', '+', '/']), "enc is not unpadded base64url: {enc}");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&enc).expect("enc decodes");
    assert_eq!(raw.len(), 256, "an RSA-2048 result");
}

/// rsops → rsops, rsops → sops and sops → rsops with a managed identity
/// (App Service endpoint) and a versioned key URL; the entry has sops's
/// fields in sops's order.
#[test]
fn azure_kv_both_ways_with_managed_identity() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["sopskey"]);
    let az = Azure::new(&kv);
    let url = kv.latest_url("sopskey");
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("enc{i}.yaml");
        let text = az.encrypt(encryptor, &["--azure-kv", &url], Auth::ManagedIdentity, &[], &name);
        let want = format!(
            "    azure_kv:\n        - vault_url: https://sopstest.vault.azure.net\n          name: sopskey\n          version: {}\n          created_at: ",
            kv.latest("sopskey")
        );
        assert!(text.contains(&want), "{text}");
        assert_enc_shape(&text);
        for decryptor in &programs {
            az.assert_decrypts(decryptor, &name, Auth::ManagedIdentity, &[]);
        }
    }
}

/// The Azure CLI credential: a fake `az` on PATH prints the token; both
/// tools use it for encryption and for each other's files.
#[test]
fn azure_kv_with_fake_azure_cli() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["clikey"]);
    let az = Azure::new(&kv);
    let url = kv.latest_url("clikey");
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("cli{i}.yaml");
        az.encrypt(encryptor, &["--azure-kv", &url], Auth::FakeAzureCli, &[], &name);
        for decryptor in &programs {
            az.assert_decrypts(decryptor, &name, Auth::FakeAzureCli, &[]);
        }
    }
}

/// A URL without a version (also with a trailing slash): the latest
/// version is looked up and stored, by both tools alike; an older version
/// named explicitly is kept.
#[test]
fn azure_kv_url_without_version_stores_the_latest() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["verkey"]);
    let az = Azure::new(&kv);
    let latest = kv.latest("verkey").to_owned();
    let oldest = kv.versions["verkey"][0].clone();
    for (i, program) in programs.iter().enumerate() {
        for (j, url) in [AzureKv::url("verkey"), format!("{}/", AzureKv::url("verkey"))].iter().enumerate() {
            let name = format!("latest{i}{j}.yaml");
            let text = az.encrypt(program, &["--azure-kv", url], Auth::ManagedIdentity, &[], &name);
            assert_eq!(field(&text, "version"), latest, "{}", program.display());
            az.assert_decrypts(&programs[1 - i], &name, Auth::ManagedIdentity, &[]);
        }
        let old = format!("{}/{oldest}", AzureKv::url("verkey"));
        let text = az.encrypt(program, &["--azure-kv", &old], Auth::ManagedIdentity, &[], &format!("old{i}.yaml"));
        assert_eq!(field(&text, "version"), oldest);
        az.assert_decrypts(&programs[1 - i], &format!("old{i}.yaml"), Auth::ManagedIdentity, &[]);
    }
}

/// Azure and age in one key group: each key alone recovers the data key
/// (age without any Azure credential, Azure without the age identity).
#[test]
fn azure_kv_mixed_group_with_age() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["mixkey"]);
    let az = Azure::new(&kv);
    let url = kv.latest_url("mixkey");
    let recipient = age_recipient("key1.txt");
    let identity = util::keys_dir().join("key1.txt");
    let identity = identity.to_str().expect("utf-8 path");
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("mix{i}.yaml");
        let text = az.encrypt(encryptor, &["--azure-kv", &url, "--age", &recipient], Auth::ManagedIdentity, &[], &name);
        assert!(text.contains("    age:\n") && text.contains("    azure_kv:\n"), "{text}");
        for decryptor in &programs {
            az.assert_decrypts(decryptor, &name, Auth::Nothing, &[("SOPS_AGE_KEY_FILE", identity)]);
            az.assert_decrypts(decryptor, &name, Auth::ManagedIdentity, &[]);
        }
    }
}

/// `SOPS_AZURE_KEYVAULT_URLS` and a creation rule's `azure_keyvault`
/// (comma string, version looked up), then `rotate` and `updatekeys`.
#[test]
fn azure_kv_from_env_and_creation_rule() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["envkey", "rulekey"]);
    let az = Azure::new(&kv);
    let env_url = kv.latest_url("envkey");
    for (i, program) in programs.iter().enumerate() {
        let name = format!("env{i}.yaml");
        let text = az.encrypt(program, &[], Auth::ManagedIdentity, &[("SOPS_AZURE_KEYVAULT_URLS", &env_url)], &name);
        assert_eq!(field(&text, "name"), "envkey");
        az.assert_decrypts(&programs[1 - i], &name, Auth::ManagedIdentity, &[]);
    }
    // A `key_groups` object with an empty version is looked up as well.
    az.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: grouped\n    key_groups:\n      - azure_keyvault:\n          - vaultUrl: {}\n            key: envkey\n            version: \"\"\n  - azure_keyvault: {}\n",
            util::azure::VAULT,
            AzureKv::url("rulekey")
        ),
    );
    for (i, program) in programs.iter().enumerate() {
        let name = format!("rule{i}.yaml");
        let text = az.encrypt(program, &[], Auth::ManagedIdentity, &[], &name);
        assert_eq!(field(&text, "name"), "rulekey");
        assert_eq!(field(&text, "version"), kv.latest("rulekey"));
        az.assert_decrypts(&programs[1 - i], &name, Auth::ManagedIdentity, &[]);
        let grouped = format!("grouped{i}.yaml");
        let text = az.encrypt(program, &["--filename-override", &grouped], Auth::ManagedIdentity, &[], &grouped);
        assert_eq!(field(&text, "name"), "envkey");
        assert_eq!(field(&text, "version"), kv.latest("envkey"), "{}", program.display());
        az.assert_decrypts(&programs[1 - i], &grouped, Auth::ManagedIdentity, &[]);
    }
    // rotate --add-azure-kv, then updatekeys back to the rule's key only.
    let rsops = &programs[0];
    let out = az.run(rsops, &["rotate", "-i", "--add-azure-kv", &env_url, "rule0.yaml"], Auth::ManagedIdentity, &[]).success();
    assert!(out.stdout.is_empty(), "{out}");
    let text = std::fs::read_to_string(az.sb.work().join("rule0.yaml")).expect("read rotated");
    assert!(text.contains("name: envkey") && text.contains("name: rulekey"), "{text}");
    az.assert_decrypts(&programs[1], "rule0.yaml", Auth::ManagedIdentity, &[]);
    let out = az.run(rsops, &["updatekeys", "-y", "rule0.yaml"], Auth::ManagedIdentity, &[]).success();
    let text = std::fs::read_to_string(az.sb.work().join("rule0.yaml")).expect("read updated");
    assert!(!text.contains("name: envkey") && text.contains("name: rulekey"), "{out}\n{text}");
    az.assert_decrypts(&programs[1], "rule0.yaml", Auth::ManagedIdentity, &[]);
}

/// What a failure case runs: its name, arguments, credential and extra
/// environment.
type ErrorCase<'a> = (&'a str, Vec<&'a str>, Auth, &'a [(&'a str, &'a str)]);

/// Failures compared with sops: same exit code and same stderr for an
/// unknown key (on encrypt, on the version lookup and on decrypt), an
/// `http://` URL (flag and file), no usable credential, a bad
/// `AZURE_TOKEN_CREDENTIALS`, its `dev` and `prod` groups failing.
#[test]
fn azure_kv_errors_match_sops() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["errkey"]);
    let az = Azure::new(&kv);
    let good = az.encrypt(&programs[1], &["--azure-kv", &kv.latest_url("errkey")], Auth::ManagedIdentity, &[], "good.yaml");
    az.write("unknown.yaml", &good.replace("name: errkey", "name: nokey"));
    az.write("http.yaml", &good.replace("vault_url: https://", "vault_url: http://"));
    let (nokey, errkey, latest) = (AzureKv::url("nokey"), AzureKv::url("errkey"), kv.latest_url("errkey"));
    let none: &[(&str, &str)] = &[];
    // `prod` is the full chain without developer tools: environment and
    // workload identity are not configured, the managed identity refuses
    // a wrong header (its answer is reported); `dev` finds no tool.
    let prod: &[(&str, &str)] = &[("AZURE_TOKEN_CREDENTIALS", "prod"), ("IDENTITY_HEADER", "wrong")];
    let dev: &[(&str, &str)] = &[("AZURE_TOKEN_CREDENTIALS", "dev")];
    let bad: &[(&str, &str)] = &[("AZURE_TOKEN_CREDENTIALS", "DEV")];
    let unknown_versioned = format!("{}/abc", AzureKv::url("nokey"));
    let cases: Vec<ErrorCase<'_>> = vec![
        ("unknown key, versioned", vec!["encrypt", "--azure-kv", &unknown_versioned, "plain.yaml"], Auth::ManagedIdentity, none),
        ("unknown key, version lookup", vec!["encrypt", "--azure-kv", &nokey, "plain.yaml"], Auth::ManagedIdentity, none),
        ("unknown key in the file", vec!["decrypt", "unknown.yaml"], Auth::ManagedIdentity, none),
        ("http:// flag", vec!["encrypt", "--azure-kv", "http://sopstest.vault.azure.net/keys/errkey/abc", "plain.yaml"], Auth::ManagedIdentity, none),
        ("http:// in the file", vec!["decrypt", "http.yaml"], Auth::ManagedIdentity, none),
        ("no credential, encrypt", vec!["encrypt", "--azure-kv", &latest, "plain.yaml"], Auth::Nothing, none),
        ("no credential, lookup", vec!["encrypt", "--azure-kv", &errkey, "plain.yaml"], Auth::Nothing, none),
        ("no credential, decrypt", vec!["decrypt", "good.yaml"], Auth::Nothing, none),
        ("bad AZURE_TOKEN_CREDENTIALS", vec!["decrypt", "good.yaml"], Auth::ManagedIdentity, bad),
        ("dev: no developer tool", vec!["encrypt", "--azure-kv", &latest, "plain.yaml"], Auth::Nothing, dev),
        ("prod: managed identity refuses", vec!["decrypt", "good.yaml"], Auth::ManagedIdentity, prod),
    ];
    let mut failures = Vec::new();
    for (what, argv, auth, extra) in &cases {
        let ours = az.run(&programs[0], argv, *auth, extra);
        let theirs = az.run(&programs[1], argv, *auth, extra);
        assert_ne!(theirs.code, Some(0), "{what}: sops succeeded: {theirs}");
        if ours.code != theirs.code || ours.stderr != theirs.stderr || !ours.stdout.is_empty() {
            failures.push(format!("{what}:\n  rsops: {ours}\n  sops:  {theirs}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The public key of a test age identity.
fn age_recipient(file: &str) -> String {
    let text = std::fs::read_to_string(util::keys_dir().join(file)).expect("age identity");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("a public key line")
        .trim()
        .to_owned()
}

/// `EnvironmentCredential` with a client certificate only (tenant, client
/// id, `AZURE_CLIENT_CERTIFICATE_PATH`): the token comes from the server's
/// token endpoint, which verifies the RS256 assertion against the
/// registered certificate (thumbprint, signature, aud, iss/sub, exp), first
/// reached as `login.microsoftonline.com`, then through
/// `AZURE_AUTHORITY_HOST` with the chain sent (`x5c`, leaf checked). sops
/// cannot be run here: MSAL's instance discovery needs the real authority
/// (backends.md §4); the file rsops wrote is checked with sops through a
/// managed identity instead.
#[test]
fn azure_kv_with_client_certificate() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["certkey"]);
    let az = Azure::new(&kv);
    let rsops = &programs[0];
    let text = az.encrypt(rsops, &["--azure-kv", &kv.latest_url("certkey")], Auth::Certificate, &[], "cert.yaml");
    assert_eq!(field(&text, "version"), kv.latest("certkey"));
    az.assert_decrypts(rsops, "cert.yaml", Auth::Certificate, &[]);
    let authority = kv.authority_host();
    let chain: &[(&str, &str)] = &[("AZURE_AUTHORITY_HOST", &authority), ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true")];
    az.assert_decrypts(rsops, "cert.yaml", Auth::Certificate, chain);
    // A version lookup with the certificate, too.
    az.encrypt(rsops, &["--azure-kv", &AzureKv::url("certkey")], Auth::Certificate, &[], "cert-latest.yaml");
    // sops reads what rsops wrote (and the other way round).
    az.assert_decrypts(&programs[1], "cert.yaml", Auth::ManagedIdentity, &[]);
    az.encrypt(&programs[1], &["--azure-kv", &kv.latest_url("certkey")], Auth::ManagedIdentity, &[], "by-sops.yaml");
    az.assert_decrypts(rsops, "by-sops.yaml", Auth::Certificate, &[]);
}

/// A certificate the token endpoint does not know stops the chain with the
/// endpoint's reason; an unreadable certificate file makes the credential
/// unavailable with azidentity's text; a client secret is tried before the
/// certificate (azidentity's order), so the endpoint then refuses the
/// secret grant.
#[test]
fn azure_kv_client_certificate_failures() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["badcert"]);
    let az = Azure::new(&kv);
    let rsops = &programs[0];
    az.encrypt(&programs[1], &["--azure-kv", &kv.latest_url("badcert")], Auth::ManagedIdentity, &[], "good.yaml");
    let url = kv.latest_url("badcert");
    let encrypt = ["encrypt", "--azure-kv", url.as_str(), "plain.yaml"];
    for (argv, code) in [(&encrypt[..], 1), (&["decrypt", "good.yaml"][..], 128)] {
        let out = az.run(rsops, argv, Auth::WrongCertificate, &[]);
        assert_eq!(out.code, Some(code), "{out}");
        // The decrypt report wraps its lines: compare words.
        let words = |t: &str| t.split_whitespace().filter(|w| *w != "|").collect::<Vec<_>>().join(" ");
        for want in [
            "EnvironmentCredential authentication failed.",
            "/oauth2/v2.0/token",
            "RESPONSE 401: 401 Unauthorized",
            "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered",
        ] {
            assert!(words(&out.stderr).contains(want), "{argv:?} lacks {want:?}: {out}");
        }
        assert!(out.stdout.is_empty(), "{out}");
    }
    let missing: &[(&str, &str)] = &[("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/client.pem")];
    let out = az.run(rsops, &["encrypt", "--azure-kv", &url, "plain.yaml"], Auth::Certificate, missing);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains(
            "EnvironmentCredential: failed to read certificate file \"/nonexistent/client.pem\": open /nonexistent/client.pem: no such file or directory"
        ),
        "{out}"
    );
    let secret: &[(&str, &str)] = &[("AZURE_CLIENT_SECRET", "not-the-certificate")];
    let out = az.run(rsops, &encrypt, Auth::Certificate, secret);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("AADSTS7000218"), "the secret was not tried first: {out}");
}

/// Where sops only validates a creation rule it still loads it, and
/// loading looks up every Azure key version it lacks: legacy edit of an
/// existing file, `-r`, `--set`, and `encrypt`/new-file `edit` whose keys
/// come from flags. The subcommands that read no rule (`rotate`, `set`,
/// `edit` of an existing file) do not. Compared with sops on one server: a
/// rule naming an unknown key fails the same way, a known one passes.
#[test]
fn azure_kv_rule_versions_are_looked_up_where_sops_does() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["rulever"]);
    let az = Azure::new(&kv);
    let recipient = age_recipient("key1.txt");
    let identity = util::keys_dir().join("key1.txt").to_str().expect("utf-8 path").to_owned();
    let age: &[(&str, &str)] = &[("SOPS_AGE_KEY_FILE", &identity), ("EDITOR", "true")];
    az.encrypt(&programs[1], &["--age", &recipient], Auth::ManagedIdentity, age, "file.yaml");
    let file = std::fs::read(az.sb.work().join("file.yaml")).expect("read file");
    let rule = |name: &str| format!("creation_rules:\n  - azure_keyvault: {}\n", AzureKv::url(name));
    let cases: &[(&str, &[&str])] = &[
        ("legacy edit", &["file.yaml"]),
        ("legacy -r", &["-r", "file.yaml"]),
        ("legacy --set", &["--set", "[\"secret\"] \"x\"", "file.yaml"]),
        ("encrypt with key flags", &["encrypt", "--age", &recipient, "plain.yaml"]),
        ("edit a new file with key flags", &["edit", "--age", &recipient, "new.yaml"]),
        ("rotate", &["rotate", "file.yaml"]),
        ("set", &["set", "file.yaml", "[\"secret\"]", "\"x\""]),
        ("edit", &["edit", "file.yaml"]),
    ];
    let mut failures = Vec::new();
    let mut failed_lookups = 0;
    for key in ["nokey", "rulever"] {
        az.write(".sops.yaml", &rule(key));
        for (what, argv) in cases {
            let mut runs = Vec::new();
            for program in &programs {
                std::fs::write(az.sb.work().join("file.yaml"), &file).expect("reset file");
                let _ = std::fs::remove_file(az.sb.work().join("new.yaml"));
                runs.push(az.run(program, argv, Auth::ManagedIdentity, age));
            }
            let (ours, theirs) = (&runs[0], &runs[1]);
            if theirs.stderr.contains("failed to fetch Azure Key to retrieve key version") {
                failed_lookups += 1;
            }
            // Successful runs differ in random bytes; failures must match.
            if ours.code != theirs.code || (theirs.code != Some(0) && ours.stderr != theirs.stderr) {
                failures.push(format!("{key}, {what}:\n  rsops: {ours}\n  sops:  {theirs}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} cases differ:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(failed_lookups, 5, "sops looked up the unknown key in the five rule-loading cases only");
}

/// `groups add --azure-kv` with a URL without a version: the latest is
/// stored; a key that cannot be looked up is logged as sops's "Failed to
/// add key" and skipped, and the group is added without it.
#[test]
fn azure_kv_groups_add_looks_up_or_skips() {
    let Some(programs) = both() else { return };
    let kv = AzureKv::start(&["grpkey"]);
    let az = Azure::new(&kv);
    let recipient = age_recipient("key1.txt");
    let identity = util::keys_dir().join("key1.txt").to_str().expect("utf-8 path").to_owned();
    let age: &[(&str, &str)] = &[("SOPS_AGE_KEY_FILE", &identity)];
    az.encrypt(&programs[1], &["--age", &recipient], Auth::ManagedIdentity, age, "file.yaml");
    let time = regex::Regex::new(r#"time="[^"]*""#).expect("regex");
    for (key, logged) in [("grpkey", false), ("nokey", true)] {
        let url = AzureKv::url(key);
        let argv = ["groups", "add", "--file", "file.yaml", "--azure-kv", &url, "--age", &recipient];
        let mut runs = Vec::new();
        for program in &programs {
            runs.push(az.run(program, &argv, Auth::ManagedIdentity, age));
        }
        let (ours, theirs) = (&runs[0], &runs[1]);
        let (a, b) = (time.replace_all(&ours.stderr, "time=T"), time.replace_all(&theirs.stderr, "time=T"));
        assert_eq!((ours.code, &a), (theirs.code, &b), "{key}:\n  rsops: {ours}\n  sops:  {theirs}");
        assert_eq!(b.contains("msg=\"Failed to add key\""), logged, "{theirs}");
        let text = ours.stdout_text();
        // The added group holds the key at its latest version, or not at all.
        let stored = format!("name: {key}\n              version: {}\n", kv.latest("grpkey"));
        assert_eq!(text.contains(&stored), !logged, "{text}");
        assert_eq!(theirs.stdout_text().contains(&stored), !logged);
        assert_eq!(text.contains("azure_kv"), !logged, "{text}");
    }
}

/// A vault that accepts and never answers: after a few seconds rsops says
/// on stderr what it waits for (whatever stderr is, here a pipe), then
/// fails as a failed call once the connection drops and the retries end.
/// rsops only, and no vault server: nothing is answered anyway.
#[cfg(feature = "azure")]
#[test]
fn azure_kv_slow_vault_prints_waiting() {
    use crate::util::moto::SilentServer;
    let silent = SilentServer::start(std::time::Duration::from_secs(6));
    let key = format!("{}/keys/k/0123456789abcdef0123456789abcdef", silent.url.replace("http://", "https://"));
    let sb = plain_sandbox();
    let out = sb
        .command(&crate::util::run::rsops_bin())
        .args(["encrypt", "--azure-kv", &key, "plain.yaml"])
        .env("AZURE_TOKEN_CREDENTIALS", "AzureCLICredential")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .run();
    assert!(!out.timed_out && out.stdout.is_empty(), "{out}");
    assert!(out.stderr.starts_with(&format!("waiting for Azure Key Vault: encrypt with {key}…\n")), "{out}");
    assert_eq!(out.stderr.matches("waiting for").count(), 1, "{out}");
    assert!(
        out.stderr.contains(&format!(
            "Could not generate data key: [failed to encrypt new data key with master key \"{key}\": \
             failed to encrypt sops data key with Azure Key Vault key '{key}': POST {key}/encrypt: "
        )),
        "{out}"
    );
    assert_eq!(out.code, Some(1), "{out}");
}
