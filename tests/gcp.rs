//! GCP Cloud KMS keys against the suite's own Cloud KMS server on 127.0.0.1
//! (spec backends.md §5, cli.md §10.4): the reference sops speaks gRPC to it
//! through the test proxy, rsops REST through `SOPS_GCP_KMS_ENDPOINT`, and
//! each reads the other's files. Credentials: a static token, a
//! service-account key file (path and JSON), Application Default
//! Credentials. Every child runs in a sandbox with the guards of
//! backends.md §7 (`util::gcp::GcpKms::env`). Without the `gcp` feature
//! only the tests that need no GCP call run.
#![cfg_attr(not(feature = "gcp"), allow(dead_code, unused_imports))]

use std::path::{Path, PathBuf};

use crate::util::gcp::{GcpKms, TOKEN};
use crate::util::kms::{both, plain_sandbox, KmsBox, PLAIN};
use crate::util::run::{rsops_bin, Output, Sandbox};
use crate::util;

const KEY: &str = "projects/rsops-test/locations/global/keyRings/sops/cryptoKeys/first";
const OTHER: &str = "projects/rsops-test/locations/europe-west1/keyRings/sops/cryptoKeys/second";
const UNKNOWN: &str = "projects/rsops-test/locations/global/keyRings/sops/cryptoKeys/missing";

/// One sandbox with `plain.yaml`, whose commands talk to `kms`.
struct Gcp<'a> {
    kms: &'a GcpKms,
    sb: Sandbox,
}

impl<'a> Gcp<'a> {
    fn new(kms: &'a GcpKms) -> Gcp<'a> {
        Gcp { kms, sb: plain_sandbox() }
    }

    /// An age identity file (the repo's test key 1) and its recipient.
    fn age_key(&self) -> (PathBuf, String) {
        let path = self.sb.identity(&["key1.txt".to_owned()]);
        let text = std::fs::read_to_string(&path).expect("read key1");
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key line")
            .to_owned();
        (path, recipient)
    }
}

impl KmsBox for Gcp<'_> {
    fn sandbox(&self) -> &Sandbox {
        &self.sb
    }

    /// Runs `program` with the server's environment, then `extra`
    /// (`GOOGLE_OAUTH_ACCESS_TOKEN` = [`TOKEN`] unless `extra` names a
    /// credential variable).
    fn run(&self, program: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = self.sb.command(program).args(args);
        for (k, v) in self.kms.env() {
            cmd = cmd.env(k, v);
        }
        if !extra.iter().any(|(k, _)| k.starts_with("GOOGLE_")) {
            cmd = cmd.env("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN);
        }
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }
}

/// The `enc` of the first entry, decoded: the server's ciphertext format
/// (`0x01`, nonce, AES-GCM of a 32-byte data key).
fn gcp_enc(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let line = text.lines().find(|l| l.trim_start().starts_with("enc:")).expect("an enc line");
    let value = line.trim_start().trim_start_matches("enc:").trim();
    base64::engine::general_purpose::STANDARD.decode(value).expect("enc is standard base64")
}

/// stderr with the failure report's wrapping undone, for `contains`.
fn flat(out: &Output) -> String {
    out.stderr.replace("\n      | ", " ")
}

/// rsops → rsops, rsops → sops and sops → rsops with a static token; the
/// entry has sops's fields; rsops went through REST, sops through gRPC.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_both_ways() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("enc{i}.yaml");
        let text = gcp.encrypt(encryptor, &["--gcp-kms", KEY], &[], &name);
        assert!(
            text.contains(&format!("    gcp_kms:\n        - resource_id: {KEY}\n          created_at: \"")),
            "{text}"
        );
        let enc = gcp_enc(&text);
        assert_eq!((enc[0], enc.len()), (1, 1 + 12 + 32 + 16), "{text}");
        for decryptor in &programs {
            gcp.assert_decrypts(decryptor, &name, &[]);
        }
    }
    let calls = kms.requests();
    let via = |v: &str, m: &str| calls.iter().filter(|c| c.0 == v && c.1 == m && c.2 == KEY).count();
    // rsops: its encrypt and two decrypts over REST; sops: the rest over gRPC.
    assert_eq!((via("rest", "Encrypt"), via("rest", "Decrypt")), (1, 2), "{calls:?}");
    assert_eq!((via("grpc", "Encrypt"), via("grpc", "Decrypt")), (1, 2), "{calls:?}");
    assert!(calls.iter().all(|c| c.3 == "opaque"), "{calls:?}");
}

/// A service-account key in `GOOGLE_CREDENTIALS`, as a path and as the
/// JSON itself, and in `GOOGLE_APPLICATION_CREDENTIALS`: both tools sign
/// their own JWTs (no token endpoint) and read each other's files.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_service_account_credentials() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    let path = kms.service_account.to_string_lossy().into_owned();
    let json = std::fs::read_to_string(&kms.service_account).expect("read the key file");
    let ways: [&[(&str, &str)]; 3] = [
        &[("GOOGLE_CREDENTIALS", &path)],
        &[("GOOGLE_CREDENTIALS", &json), ("GOOGLE_OAUTH_ACCESS_TOKEN", "invalid-would-fail")],
        &[("GOOGLE_APPLICATION_CREDENTIALS", &path)],
    ];
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("sa{i}.yaml");
        gcp.encrypt(encryptor, &["--gcp-kms", KEY], ways[i], &name);
        for decryptor in &programs {
            for way in ways {
                gcp.assert_decrypts(decryptor, &name, way);
            }
        }
    }
    let calls = kms.requests();
    assert!(!calls.is_empty() && calls.iter().all(|c| c.3 == "jwt"), "{calls:?}");
    assert!(calls.iter().any(|c| c.0 == "rest") && calls.iter().any(|c| c.0 == "grpc"), "{calls:?}");
}

/// gcloud's ADC file in the private HOME is found when nothing else is set.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_gcloud_adc_file() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    let dir = gcp.sb.home().join(".config").join("gcloud");
    std::fs::create_dir_all(&dir).expect("mkdir gcloud");
    std::fs::copy(&kms.service_account, dir.join("application_default_credentials.json")).expect("copy");
    // Only the file: an empty token variable counts as unset for both.
    let env = [("GOOGLE_OAUTH_ACCESS_TOKEN", "")];
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("adc{i}.yaml");
        gcp.encrypt(encryptor, &["--gcp-kms", KEY], &env, &name);
        for decryptor in &programs {
            gcp.assert_decrypts(decryptor, &name, &env);
        }
    }
    assert!(kms.requests().iter().all(|c| c.3 == "jwt"));
}

/// Last in the chain, the metadata server (`GCE_METADATA_HOST`, here the
/// test server's metadata routes) supplies the token to both tools.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_metadata_server() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    let host = format!("127.0.0.1:{}", kms.rest_port);
    let env = [("GOOGLE_OAUTH_ACCESS_TOKEN", ""), ("GCE_METADATA_HOST", host.as_str())];
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("mds{i}.yaml");
        gcp.encrypt(encryptor, &["--gcp-kms", KEY], &env, &name);
        for decryptor in &programs {
            gcp.assert_decrypts(decryptor, &name, &env);
        }
    }
    let calls = kms.requests();
    let tokens = calls.iter().filter(|c| c.0 == "metadata" && c.2.ends_with("/default/token")).count();
    assert!(tokens >= 2, "{calls:?}");
    assert!(calls.iter().any(|c| c.0 == "rest") && calls.iter().any(|c| c.0 == "grpc"), "{calls:?}");
}

/// A GCP key and an age key in one group: either alone recovers the data
/// key, in both tools.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_mixed_group_with_age() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    let (identity, recipient) = gcp.age_key();
    let identity = identity.to_string_lossy().into_owned();
    let no_gcp = [("GOOGLE_OAUTH_ACCESS_TOKEN", "invalid-revoked")];
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("mixed{i}.yaml");
        let text = gcp.encrypt(encryptor, &["--gcp-kms", KEY, "--age", &recipient], &[], &name);
        assert!(text.contains("    gcp_kms:\n") && text.contains("    age:\n"), "{text}");
        for decryptor in &programs {
            // GCP only (no age identity).
            gcp.assert_decrypts(decryptor, &name, &[]);
            // age only (the GCP token is refused).
            let age_only = [no_gcp[0], ("SOPS_AGE_KEY_FILE", &identity)];
            gcp.assert_decrypts(decryptor, &name, &age_only);
            // GCP tried first, refused, then age: the failure falls through.
            let out = gcp.run(decryptor, &["decrypt", "--decryption-order", "gcp_kms,age", &name], &age_only);
            assert_eq!(out.success().stdout_text(), PLAIN);
        }
    }
    // Per file and tool: the GCP-only decrypt and the refused first try;
    // the age-only decrypt never asks GCP (age comes first by default).
    let decrypts = kms.requests().iter().filter(|c| c.1 == "Decrypt").count();
    assert_eq!(decrypts, 2 * 2 * 2);
}

/// `SOPS_GCP_KMS_IDS` and a creation rule's `gcp_kms` (comma string, and
/// `key_groups` objects) reach the same keys as `--gcp-kms`.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_env_ids_and_creation_rules() {
    let Some(kms) = GcpKms::start(&[KEY, OTHER]) else { return };
    let Some(programs) = both() else { return };
    let gcp = Gcp::new(&kms);
    let ids = format!("{KEY}, {OTHER}");
    let configs = [
        format!("creation_rules:\n  - path_regex: .*\n    gcp_kms: '{ids}'\n"),
        format!(
            "creation_rules:\n  - path_regex: .*\n    key_groups:\n      - gcp_kms:\n          - resource_id: {KEY}\n          - resource_id: {OTHER}\n"
        ),
    ];
    let entries = format!("        - resource_id: {KEY}\n");
    let second = format!("        - resource_id: {OTHER}\n");
    for (i, encryptor) in programs.iter().enumerate() {
        let name = format!("ids{i}.yaml");
        let text = gcp.encrypt(encryptor, &[], &[("SOPS_GCP_KMS_IDS", &ids)], &name);
        assert!(text.contains(&entries) && text.contains(&second), "{text}");
        for decryptor in &programs {
            gcp.assert_decrypts(decryptor, &name, &[]);
        }
        for (j, config) in configs.iter().enumerate() {
            gcp.write(".sops.yaml", config);
            let name = format!("rule{i}{j}.yaml");
            let text = gcp.encrypt(encryptor, &[], &[], &name);
            assert!(text.contains(&entries) && text.contains(&second), "{text}");
            for decryptor in &programs {
                gcp.assert_decrypts(decryptor, &name, &[]);
            }
        }
        std::fs::remove_file(gcp.sb.work().join(".sops.yaml")).expect("rm config");
    }
}

/// `rotate` wraps a fresh data key with the GCP key, `--add-gcp-kms` and
/// `updatekeys` add one to an age file; sops reads every result.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_rotate_and_updatekeys() {
    let Some(kms) = GcpKms::start(&[KEY, OTHER]) else { return };
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    let gcp = Gcp::new(&kms);
    let (identity, recipient) = gcp.age_key();
    let identity = identity.to_string_lossy().into_owned();
    let age_only = [("SOPS_AGE_KEY_FILE", identity.as_str())];

    let before = gcp.encrypt(&rsops, &["--gcp-kms", KEY], &[], "rot.yaml");
    gcp.run(&rsops, &["rotate", "-i", "--add-gcp-kms", OTHER, "rot.yaml"], &[]).success();
    let after = std::fs::read_to_string(gcp.sb.work().join("rot.yaml")).expect("read");
    assert_ne!(gcp_enc(&before), gcp_enc(&after));
    assert!(after.contains(&format!("        - resource_id: {OTHER}\n")), "{after}");
    gcp.assert_decrypts(&sops, "rot.yaml", &[]);

    gcp.encrypt(&rsops, &["--age", &recipient], &[], "upd.yaml");
    gcp.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: .*\n    gcp_kms: {KEY}\n    age: {recipient}\n"),
    );
    gcp.run(&rsops, &["updatekeys", "-y", "upd.yaml"], &age_only).success();
    let text = std::fs::read_to_string(gcp.sb.work().join("upd.yaml")).expect("read");
    assert!(text.contains(&format!("    gcp_kms:\n        - resource_id: {KEY}\n")), "{text}");
    // sops, with only the GCP key, reads the file updatekeys wrote.
    gcp.assert_decrypts(&sops, "upd.yaml", &[]);
}

/// Failures, compared with sops: exit code and the report's lines.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_errors_match_sops() {
    let Some(kms) = GcpKms::start(&[KEY, OTHER]) else { return };
    let Some(programs) = both() else { return };
    let (rsops, sops) = (&programs[0], &programs[1]);
    let gcp = Gcp::new(&kms);
    let missing = gcp.sb.home().join("nope.json").to_string_lossy().into_owned();
    gcp.encrypt(rsops, &["--gcp-kms", KEY], &[], "good.yaml");
    let good = std::fs::read_to_string(gcp.sb.work().join("good.yaml")).expect("read");
    gcp.write("moved.yaml", &good.replace(KEY, OTHER));

    let same = |what: &str, args: &[&str], extra: &[(&str, &str)], wants: &[&str]| {
        let ours = gcp.run(rsops, args, extra);
        let theirs = gcp.run(sops, args, extra);
        assert_eq!(ours.code, theirs.code, "{what}: {ours}\nsops: {theirs}");
        assert!(ours.stdout.is_empty(), "{what}: {ours}");
        for want in wants {
            assert!(flat(&theirs).contains(want), "{what}: sops's stderr lacks {want:?}: {}", theirs.stderr);
            assert!(flat(&ours).contains(want), "{what}: stderr lacks {want:?}: {}", ours.stderr);
        }
        // Where both texts come from the same words, the whole report matches.
        if !what.contains("(loose)") {
            assert_eq!(ours.stderr, theirs.stderr, "{what}");
        }
    };
    let enc = |id: &str| vec!["encrypt", "--gcp-kms", id, "plain.yaml"].into_iter().map(str::to_owned).collect::<Vec<_>>();
    let unauth = "rpc error: code = Unauthenticated desc = Request had invalid authentication credentials.";
    let bad_token = [("GOOGLE_OAUTH_ACCESS_TOKEN", "invalid-revoked")];
    let run_enc = |what: &str, id: &str, extra: &[(&str, &str)], wants: &[&str]| {
        let args = enc(id);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        same(what, &args, extra, wants);
    };
    run_enc("encrypt, revoked token", KEY, &bad_token, &["failed to encrypt sops data key with GCP KMS key: ", unauth]);
    run_enc(
        "encrypt, unknown key",
        UNKNOWN,
        &[],
        &[&format!("rpc error: code = NotFound desc = CryptoKey {UNKNOWN} not found.")],
    );
    run_enc(
        "encrypt, missing GOOGLE_APPLICATION_CREDENTIALS",
        KEY,
        &[("GOOGLE_APPLICATION_CREDENTIALS", &missing)],
        &[&format!("cannot create GCP KMS service: open {missing}: no such file or directory")],
    );
    run_enc(
        "encrypt, not a resource id",
        "projects/p/keys/k",
        &[],
        &["cannot create GCP KMS service: no valid resource ID found in \"projects/p/keys/k\""],
    );
    run_enc(
        "encrypt, unknown credentials type",
        KEY,
        &[("GOOGLE_CREDENTIALS", r#"{"type":"bogus"}"#)],
        &["cannot create GCP KMS service: credentials: unsupported filetype \"bogus\""],
    );
    same(
        "decrypt, revoked token",
        &["decrypt", "good.yaml"],
        &bad_token,
        &[&format!("{KEY}: FAILED"), "failed to decrypt sops data key with GCP KMS key: ", unauth],
    );
    same(
        "decrypt, entry moved to another key",
        &["decrypt", "moved.yaml"],
        &[],
        &[&format!("{OTHER}: FAILED"), "code = InvalidArgument desc = Decryption failed: verify that 'name' refers to the correct CryptoKey."],
    );
    same(
        "decrypt, missing GOOGLE_APPLICATION_CREDENTIALS",
        &["decrypt", "good.yaml"],
        &[("GOOGLE_APPLICATION_CREDENTIALS", &missing)],
        &[&format!("cannot create GCP KMS service: open {missing}: no such file or directory")],
    );
    let out = gcp.run(rsops, &["decrypt", "good.yaml"], &bad_token);
    assert_eq!(out.code, Some(128), "{out}");
}

/// With no way to reach GCP at all, a file with GCP and age keys (written
/// by sops) still decrypts with age, and `set` re-emits the GCP entry
/// unchanged: what a build without the `gcp` feature must do too, so this
/// test holds in every build.
#[test]
fn gcp_entries_survive_without_gcp_access() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let Some(sops) = util::reference_sops() else { return };
    let gcp = Gcp::new(&kms);
    let rsops = rsops_bin();
    let (identity, recipient) = gcp.age_key();
    let identity = identity.to_string_lossy().into_owned();
    let text = gcp.encrypt(&sops, &["--gcp-kms", KEY, "--age", &recipient], &[], "both.yaml");
    let entry = |t: &str| {
        let at = t.find("    gcp_kms:\n").expect("gcp_kms list");
        t[at..].lines().take(4).collect::<Vec<_>>().join("\n")
    };
    // No credentials of any kind, and a dead endpoint.
    let offline = [
        ("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json"),
        ("SOPS_GCP_KMS_ENDPOINT", "http://127.0.0.1:9"),
        ("SOPS_AGE_KEY_FILE", identity.as_str()),
    ];
    gcp.assert_decrypts(&rsops, "both.yaml", &offline);
    gcp.run(&rsops, &["set", "both.yaml", "[\"secret\"]", "\"changed\""], &offline).success();
    let after = std::fs::read_to_string(gcp.sb.work().join("both.yaml")).expect("read");
    assert_eq!(entry(&after), entry(&text));
    assert_ne!(after, text);
}

/// A build without the `gcp` feature names it when asked to use a key.
#[cfg(not(feature = "gcp"))]
#[test]
fn gcp_kms_feature_off_says_so() {
    let Some(kms) = GcpKms::start(&[KEY]) else { return };
    let gcp = Gcp::new(&kms);
    let out = gcp.run(&rsops_bin(), &["encrypt", "--gcp-kms", KEY, "plain.yaml"], &[]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("rsops was built without the `gcp` feature"), "{out}");
}

/// An endpoint that accepts and never answers: after a few seconds rsops
/// says on stderr what it waits for (whatever stderr is, here a pipe), then
/// fails as a failed call once the connection drops. rsops only: sops's
/// gRPC client goes through the test proxy, not `SOPS_GCP_KMS_ENDPOINT`.
#[cfg(feature = "gcp")]
#[test]
fn gcp_kms_slow_endpoint_prints_waiting() {
    use crate::util::moto::SilentServer;
    let silent = SilentServer::start(std::time::Duration::from_secs(6));
    let sb = plain_sandbox();
    let guards = [
        ("SOPS_GCP_KMS_ENDPOINT", silent.url.as_str()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN),
        ("NO_PROXY", "127.0.0.1,localhost"),
        ("no_proxy", "127.0.0.1,localhost"),
        ("GCE_METADATA_HOST", "127.0.0.1:9"),
        ("NO_GCE_CHECK", "True"),
        ("CLOUDSDK_CONFIG", ""),
    ];
    let mut cmd = sb.command(&rsops_bin()).args(["encrypt", "--gcp-kms", KEY, "plain.yaml"]);
    for (k, v) in guards {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run();
    assert!(!out.timed_out && out.stdout.is_empty(), "{out}");
    assert!(out.stderr.starts_with(&format!("waiting for GCP KMS: Encrypt with {KEY}…\n")), "{out}");
    assert_eq!(out.stderr.matches("waiting for").count(), 1, "{out}");
    assert!(
        flat(&out).contains(&format!(
            "Could not generate data key: [failed to encrypt new data key with master key \"{KEY}\": \
             failed to encrypt sops data key with GCP KMS key: "
        )),
        "{out}"
    );
    assert_eq!(out.code, Some(1), "{out}");
}
