//! `publish` (cli.md §4.14, §11) against real local servers: `moto_server`
//! for S3, an `OpenBao` dev server for Vault KV v1/v2, and the suite's GCS
//! JSON-API server (`tests/servers/gcs.py`). rsops and the reference sops
//! publish the same inputs to sibling destinations; the uploads must decrypt
//! with the recreation rule's keys to the same data (S3, GCS), or be the
//! same secret (Vault). Prompts and errors without a server are compared
//! with sops byte for byte. Guards of backends.md §7 on every child.

#![cfg_attr(not(all(feature = "aws", feature = "vault", feature = "gcp")), allow(dead_code, unused_imports))]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::bao::{Bao, Redirector, ROOT_TOKEN};
use crate::util::moto::{guards, Moto};
use crate::util::run::{rsops_bin, Output, Sandbox};
use crate::util::{self, keys_dir};

/// Plaintext with every kind of value sops's Vault map distinguishes: a
/// list holding a mapping and a comment, numbers, a null, and a key with
/// the default unencrypted suffix (encrypted anyway by publish).
const PLAIN: &str = "# top comment
name: alice
num: 42
flt: 1.5
on: true
nothing: null
list:
    - a
    - b: 1
      c: x
    # list comment
    - 3
nested:
    k: v
    secret_unencrypted: plain
";

/// Only strings, so a second publish to Vault finds it up to date.
const STRINGS: &str = "a: x\nb:\n    c: y\n";

fn recipient(key: &str) -> String {
    let text = std::fs::read_to_string(keys_dir().join(key)).expect("read age key");
    text.split_whitespace().find(|w| w.starts_with("age1")).expect("public key line").to_owned()
}

/// One sandbox: `plain.yaml`, files encrypted for key1, and the env every
/// child gets (guards, endpoints, token).
struct Pub {
    sb: Sandbox,
    env: Vec<(String, String)>,
    rsops: PathBuf,
    sops: Option<PathBuf>,
}

impl Pub {
    fn new() -> Pub {
        let sb = Sandbox::new();
        let identity = sb.identity(&["key1.txt".to_owned(), "key2.txt".to_owned()]);
        let mut env = vec![
            ("SOPS_AGE_KEY_FILE".to_owned(), identity.display().to_string()),
            ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
            // Nothing may reach a real cloud (backends.md §7).
            ("AWS_ENDPOINT_URL".to_owned(), "http://127.0.0.1:9".to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "test".to_owned()),
            ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
            ("GCE_METADATA_HOST".to_owned(), "127.0.0.1:9".to_owned()),
            ("NO_GCE_CHECK".to_owned(), "True".to_owned()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN".to_owned(), "test-token".to_owned()),
            ("STORAGE_EMULATOR_HOST".to_owned(), "127.0.0.1:9".to_owned()),
            ("VAULT_ADDR".to_owned(), "http://127.0.0.1:9".to_owned()),
            ("NO_PROXY".to_owned(), "127.0.0.1,localhost".to_owned()),
        ];
        env.sort();
        Pub { sb, env, rsops: rsops_bin(), sops: util::reference_sops() }
    }

    fn set(&mut self, k: &str, v: &str) {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.to_owned(), v.to_owned()));
    }

    fn write(&self, name: &str, text: &str) {
        let p = self.sb.work().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn run_with(&self, program: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.sb.command(program).args(args);
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        if let Some(s) = stdin {
            cmd = cmd.stdin(s.as_bytes().to_vec());
        }
        cmd.run()
    }

    /// Encrypts `text` for key1 with rsops into `name` (format by extension).
    fn encrypted(&self, name: &str, text: &str) {
        let ext = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or("yaml");
        let plain = format!("plain-input.{ext}");
        self.write(&plain, text);
        let out = self.run_with(&self.rsops, &["encrypt", "--age", &recipient("key1.txt"), &plain], None).success();
        self.write(name, &out.stdout_text());
        std::fs::remove_file(self.sb.work().join(plain)).expect("rm");
    }

    fn decrypt(&self, program: &Path, name: &str) -> Output {
        self.run_with(program, &["decrypt", name], None)
    }
}

/// The config: one destination per tool (prefix `rsops/` or `sops/`).
fn config(tool: &str, dest: &str) -> String {
    let r2 = recipient("key2.txt");
    format!(
        "creation_rules:\n  - age: {r1}\ndestination_rules:\n{dest}",
        r1 = recipient("key1.txt"),
        dest = dest.replace("{tool}", tool).replace("{r2}", &r2)
    )
}

/// Publishes with both tools (rsops first), each with its own config.
fn both(p: &Pub, dest: &str, args: &[&str]) -> (Output, Option<Output>) {
    p.write("rsops.sops.yaml", &config("rsops", dest));
    p.write("sops.sops.yaml", &config("sops", dest));
    let mut full = vec!["--config", "rsops.sops.yaml", "publish"];
    full.extend_from_slice(args);
    let ours = p.run_with(&p.rsops, &full, None);
    let theirs = p.sops.as_ref().map(|s| {
        full[1] = "sops.sops.yaml";
        p.run_with(s, &full, None)
    });
    (ours, theirs)
}

/// Fetches an S3 object's bytes from moto with boto3.
fn s3_get(moto: &Moto, bucket: &str, key: &str) -> Vec<u8> {
    let hex = moto.python(
        "import boto3,sys;print(boto3.client('s3').get_object(Bucket=sys.argv[1],Key=sys.argv[2])['Body'].read().hex())",
        &[bucket, key],
    );
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

fn s3_keys(moto: &Moto, bucket: &str) -> Vec<String> {
    let out = moto.python(
        "import boto3,sys;print('\\n'.join(o['Key'] for o in boto3.client('s3').list_objects_v2(Bucket=sys.argv[1]).get('Contents',[])))",
        &[bucket],
    );
    out.lines().map(str::to_owned).collect()
}

/// Decrypts an uploaded file with key2 only (the recreation rule's key).
fn open_with_key2(p: &Pub, name: &str, bytes: &[u8]) -> String {
    std::fs::write(p.sb.work().join(name), bytes).expect("write download");
    let key2 = p.sb.home().join("key2-only.txt");
    std::fs::copy(keys_dir().join("key2.txt"), &key2).expect("copy key2");
    let mut cmd = p.sb.command(&p.rsops).args(["decrypt", name]);
    for (k, v) in &p.env {
        if k != "SOPS_AGE_KEY_FILE" {
            cmd = cmd.env(k, v);
        }
    }
    let out = cmd.env("SOPS_AGE_KEY_FILE", &key2).run();
    assert_eq!(out.code, Some(0), "decrypting the upload {name} with key2: {out}");
    out.stdout_text()
}

const S3_RULES: &str = "  - path_regex: ^s3/
    s3_bucket: bkt
    s3_prefix: {tool}/
    recreation_rule:
      age: {r2}
  - path_regex: ^raw/
    s3_bucket: bkt
    s3_prefix: {tool}-raw/
";

#[test]
#[cfg(feature = "aws")]
fn s3_reencrypts_for_the_recreation_rule_like_sops() {
    let Some(moto) = Moto::start() else { return };
    moto.python("import boto3;boto3.client('s3',region_name='us-east-1').create_bucket(Bucket='bkt')", &[]);
    let mut p = Pub::new();
    for (k, v) in guards(&moto.url) {
        p.set(k, &v);
    }
    p.encrypted("s3/a.yaml", PLAIN);
    p.encrypted("raw/a.json", "{\"k\": \"v\"}");
    let want = p.decrypt(&p.rsops, "s3/a.yaml").success().stdout_text();

    let (ours, theirs) = both(&p, S3_RULES, &["-y", "s3/a.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    let diff = format!(
        "The following changes will be made to the file's key groups:\nGroup 1\n+++ {}\n--- {}\n",
        recipient("key2.txt"),
        recipient("key1.txt")
    );
    assert_eq!(ours.stdout_text(), diff);
    assert_eq!(ours.stderr, "");
    let uploaded = s3_get(&moto, "bkt", "rsops/a.yaml");
    let text = String::from_utf8(uploaded.clone()).expect("utf-8");
    assert!(text.contains(&recipient("key2.txt")) && !text.contains(&recipient("key1.txt")), "{text}");
    assert!(text.contains("    version: 3.11.0\n") && !text.contains("unencrypted_suffix"), "{text}");
    // Everything is encrypted, `_unencrypted` keys too (no rule recorded).
    assert!(!text.contains("plain") && !text.contains("alice"), "{text}");
    if let Some(theirs) = theirs {
        assert_eq!((ours.code, ours.stdout_text(), &ours.stderr), (theirs.code, theirs.stdout_text(), &theirs.stderr));
        let sops_upload = String::from_utf8(s3_get(&moto, "bkt", "sops/a.yaml")).expect("utf-8");
        // Same structure: the same lines once values, IVs, tags and dates are masked.
        assert_eq!(mask(&text), mask(&sops_upload));
        // sops's own upload fails its MAC check under the default suffix
        // rule, and so does rsops's: the same bytes would be needed.
        let sops_bin = p.sops.clone().expect("sops");
        std::fs::write(p.sb.work().join("theirs.yaml"), &sops_upload).expect("write");
        std::fs::write(p.sb.work().join("ours.yaml"), &text).expect("write");
        let a = p.decrypt(&sops_bin, "theirs.yaml");
        let b = p.decrypt(&sops_bin, "ours.yaml");
        assert_eq!((a.code, b.code), (Some(51), Some(51)), "{a}\n{b}");
    }
    // Without the `_unencrypted` key the upload decrypts with key2 alone.
    p.encrypted("s3/b.yaml", "x: 1\nlist:\n    - zz\n");
    let (ours, _) = both(&p, S3_RULES, &["-y", "s3/b.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(open_with_key2(&p, "dl-b.yaml", &s3_get(&moto, "bkt", "rsops/b.yaml")), "x: 1\nlist:\n    - zz\n");
    assert_ne!(want, "");

    // A recreation rule without keys: the file's bytes as they are.
    let (ours, theirs) = both(&p, S3_RULES, &["-y", "raw/a.json"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(ours.stdout, b"");
    let original = std::fs::read(p.sb.work().join("raw/a.json")).expect("read");
    assert_eq!(s3_get(&moto, "bkt", "rsops-raw/a.json"), original);
    if theirs.is_some() {
        assert_eq!(s3_get(&moto, "bkt", "sops-raw/a.json"), original);
    }

    // A missing bucket: the service's reason, exit 1, as sops.
    let missing = "  - s3_bucket: nosuchbucket\n";
    let (ours, theirs) = both(&p, missing, &["-y", "raw/a.json"]);
    assert_eq!(ours.code, Some(1), "{ours}");
    assert!(ours.stderr.starts_with("operation error S3: PutObject, https response error StatusCode: 404"), "{ours}");
    assert!(ours.stderr.contains("api error NoSuchBucket: The specified bucket does not exist"), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs.code, Some(1));
    }
}

/// Replaces every `ENC[…]`, age block line and date with a placeholder.
fn mask(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = match (l.find("ENC["), l.rfind(']')) {
                (Some(a), Some(b)) if b > a => format!("{}ENC[…]{}", &l[..a], &l[b + 1..]),
                _ => l.to_owned(),
            };
            if l.trim_start().starts_with("lastmodified:") {
                "lastmodified: …".to_owned()
            } else if l.starts_with("            ") && !l.contains("-----") {
                "            …".to_owned()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
#[cfg(feature = "aws")]
fn s3_recursive_and_omit_extensions_name_objects_like_sops() {
    let Some(moto) = Moto::start() else { return };
    moto.python("import boto3;boto3.client('s3',region_name='us-east-1').create_bucket(Bucket='bkt')", &[]);
    let mut p = Pub::new();
    for (k, v) in guards(&moto.url) {
        p.set(k, &v);
    }
    p.encrypted("raw/a.yaml", STRINGS);
    p.encrypted("raw/d/b.enc.json", "{\"k\": \"v\"}");
    p.encrypted("raw/c.env", "K=v\n");
    let (ours, theirs) = both(&p, S3_RULES, &["-y", "--recursive", "--omit-extensions", "raw"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    let mut keys = s3_keys(&moto, "bkt");
    keys.sort();
    let ours_keys: Vec<&String> = keys.iter().filter(|k| k.starts_with("rsops-")).collect();
    assert_eq!(ours_keys, ["rsops-raw/a", "rsops-raw/c", "rsops-raw/d/b.enc"]);
    if let Some(theirs) = theirs {
        assert_eq!(theirs.code, Some(0), "{theirs}");
        let sops_keys: Vec<String> =
            keys.iter().filter_map(|k| k.strip_prefix("sops-")).map(str::to_owned).collect();
        let ours_stripped: Vec<String> = ours_keys.iter().map(|k| k["rsops-".len()..].to_owned()).collect();
        assert_eq!(ours_stripped, sops_keys);
    }
    // `omit_extensions: true` in the rule does the same, and a single file
    // is named by its base name.
    let rule = "  - s3_bucket: bkt\n    s3_prefix: {tool}-omit/\n    omit_extensions: true\n";
    let (ours, _) = both(&p, rule, &["-y", "raw/d/b.enc.json"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert!(s3_keys(&moto, "bkt").contains(&"rsops-omit/b.enc".to_owned()));
}

const VAULT_RULES: &str = "  - path_regex: ^v2/
    vault_path: {tool}/team
    vault_address: {addr}
  - path_regex: ^v1/
    vault_path: {tool}/team/
    vault_kv_mount_name: kv1
    vault_kv_version: 1
    vault_address: {addr}
  - path_regex: ^env/
    vault_path: {tool}
";

fn bao_json(bao: &Bao, path: &str) -> serde_json_lite::Json {
    serde_json_lite::parse(&bao.api("GET", path, ""))
}

#[test]
#[cfg(feature = "vault")]
fn vault_kv_v1_and_v2_hold_what_sops_stores() {
    let Some(bao) = Bao::start() else { return };
    bao.api("POST", "/v1/sys/mounts/kv1", r#"{"type":"kv","options":{"version":"1"}}"#);
    let mut p = Pub::new();
    p.set("VAULT_TOKEN", ROOT_TOKEN);
    p.encrypted("v2/a.yaml", PLAIN);
    p.encrypted("v1/a.yaml", PLAIN);
    p.encrypted("v2/s.yaml", STRINGS);
    let rules = VAULT_RULES.replace("{addr}", &bao.addr);
    for file in ["v2/a.yaml", "v1/a.yaml", "v2/s.yaml"] {
        let (ours, theirs) = both(&p, &rules, &["-y", file]);
        assert_eq!((ours.code, ours.stdout_text(), ours.stderr.as_str()), (Some(0), String::new(), ""), "{ours}");
        if let Some(theirs) = theirs {
            assert_eq!(theirs.code, Some(0), "{theirs}");
        }
    }
    let v2 = bao_json(&bao, "/v1/secret/data/rsops/team/a.yaml");
    let data = v2.get("data").get("data");
    assert_eq!(data.get("name").as_str(), Some("alice"));
    assert_eq!(data.get("nested").get("secret_unencrypted").as_str(), Some("plain"));
    // sops's internal types inside lists (cli.md §11): kept as sops stores them.
    assert_eq!(
        data.get("list").raw(),
        r#"["a",[{"Key":"b","Value":1},{"Key":"c","Value":"x"}],{"Value":" list comment"},3]"#
    );
    let v1 = bao_json(&bao, "/v1/kv1/rsops/team/a.yaml");
    assert_eq!(v1.get("data").raw(), data.raw());
    if p.sops.is_some() {
        let theirs = bao_json(&bao, "/v1/secret/data/sops/team/a.yaml");
        assert_eq!(data.raw(), theirs.get("data").get("data").raw());
        let theirs_v1 = bao_json(&bao, "/v1/kv1/sops/team/a.yaml");
        assert_eq!(v1.get("data").raw(), theirs_v1.get("data").raw());
    }

    // Publishing again: strings-only data is up to date (no new version);
    // anything with a number is written again, as with sops.
    let version = |path: &str| bao_json(&bao, path).get("data").get("current_version").raw();
    let (ours, _) = both(&p, &rules, &["-y", "v2/s.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(version("/v1/secret/metadata/rsops/team/s.yaml"), "1");
    let (ours, _) = both(&p, &rules, &["-y", "v2/a.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(version("/v1/secret/metadata/rsops/team/a.yaml"), "2");

    // The address defaults to VAULT_ADDR; the token is VAULT_TOKEN only:
    // `~/.vault-token` is not read, and Vault's 403 reads as sops's.
    p.encrypted("env/e.yaml", STRINGS);
    p.set("VAULT_ADDR", &bao.addr);
    let (ours, _) = both(&p, &rules, &["-y", "env/e.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    assert_eq!(bao_json(&bao, "/v1/secret/data/rsops/e.yaml").get("data").get("data").raw(), r#"{"a":"x","b":{"c":"y"}}"#);
    p.env.retain(|(k, _)| k != "VAULT_TOKEN");
    std::fs::write(p.sb.home().join(".vault-token"), ROOT_TOKEN).expect("token file");
    let (ours, theirs) = both(&p, &rules, &["-y", "v2/s.yaml"]);
    assert_eq!(ours.code, Some(1), "{ours}");
    let want_tail = format!(
        "Error making API request.\n\nURL: PUT {}/v1/secret/data/rsops/team/s.yaml\nCode: 403. Errors:\n\n* permission denied\n",
        bao.addr
    );
    assert!(ours.stderr.ends_with(&want_tail), "{ours}");
    assert!(ours.stderr.contains("level=warning msg=\"Cannot check if destination secret already exists in secret/data/rsops/team/s.yaml. New version will be created even if the data has not been changed.\""), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!(untimed(&ours.stderr), untimed(&theirs.stderr).replace("/sops/", "/rsops/"));
        assert_eq!(ours.code, theirs.code);
    }
}

/// A standby answering 307 for the active node: both tools' KV clients
/// follow it once with the same method and body, so the secret lands on the
/// active node; with `VAULT_DISABLE_REDIRECTS` the empty 307 answers count
/// as success for both and nothing is written.
#[test]
#[cfg(feature = "vault")]
fn vault_kv_follows_a_standby_redirect() {
    let Some(bao) = Bao::start() else { return };
    let standby = Redirector::start(&bao.addr);
    let mut p = Pub::new();
    p.set("VAULT_TOKEN", ROOT_TOKEN);
    p.encrypted("v2/s.yaml", STRINGS);
    let rules = VAULT_RULES.replace("{addr}", &standby.addr);
    let (ours, theirs) = both(&p, &rules, &["-y", "v2/s.yaml"]);
    assert_eq!((ours.code, ours.stderr.as_str()), (Some(0), ""), "{ours}");
    let stored = |tool: &str| bao_json(&bao, &format!("/v1/secret/data/{tool}/team/s.yaml")).get("data").get("data").raw();
    assert_eq!(stored("rsops"), r#"{"a":"x","b":{"c":"y"}}"#);
    if let Some(theirs) = theirs {
        assert_eq!((theirs.code, theirs.stderr.as_str()), (Some(0), ""), "{theirs}");
        assert_eq!(stored("sops"), stored("rsops"));
    }
    p.set("VAULT_DISABLE_REDIRECTS", "true");
    p.encrypted("v2/n.yaml", STRINGS);
    let (ours, theirs) = both(&p, &rules, &["-y", "v2/n.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    let names = |tool: &str| bao_json(&bao, &format!("/v1/secret/metadata/{tool}/team?list=true")).get("data").get("keys").raw();
    assert_eq!(names("rsops"), r#"["s.yaml"]"#);
    if let Some(theirs) = theirs {
        assert_eq!((ours.code, untimed(&ours.stderr)), (theirs.code, untimed(&theirs.stderr)));
        assert_eq!(names("sops"), r#"["s.yaml"]"#);
    }
}

/// A Unix socket that forwards every connection to a TCP address, so the
/// dev server can be reached as `unix://<socket>`.
#[cfg(unix)]
struct UnixProxy {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

#[cfg(unix)]
impl UnixProxy {
    fn start(target: &str) -> UnixProxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vault.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind unix socket");
        let target = target.trim_start_matches("http://").to_owned();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { break };
                let Ok(server) = std::net::TcpStream::connect(&target) else { continue };
                let (mut c_read, mut s_write) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_read, &mut s_write);
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        UnixProxy { path, _dir: dir }
    }
}

/// `unix://` Vault addresses (the Go client's `ParseAddress`): in the rule
/// and in `VAULT_ADDR`, both tools reach the server through the socket; a
/// missing socket fails alike.
#[test]
#[cfg(all(feature = "vault", unix))]
fn vault_kv_over_a_unix_socket() {
    let Some(bao) = Bao::start() else { return };
    let proxy = UnixProxy::start(&bao.addr);
    let unix = format!("unix://{}", proxy.path.display());
    let mut p = Pub::new();
    p.set("VAULT_TOKEN", ROOT_TOKEN);
    p.encrypted("v2/s.yaml", STRINGS);
    p.encrypted("env/e.yaml", STRINGS);
    let rules = VAULT_RULES.replace("{addr}", &unix);
    p.set("VAULT_ADDR", &unix);
    for file in ["v2/s.yaml", "env/e.yaml"] {
        let (ours, theirs) = both(&p, &rules, &["-y", file]);
        assert_eq!((ours.code, ours.stderr.as_str()), (Some(0), ""), "{ours}");
        if let Some(theirs) = theirs {
            assert_eq!((theirs.code, theirs.stderr.as_str()), (Some(0), ""), "{theirs}");
        }
    }
    for tool in ["rsops", "sops"].iter().take(if p.sops.is_some() { 2 } else { 1 }) {
        for path in [format!("{tool}/team/s.yaml"), format!("{tool}/e.yaml")] {
            let data = bao_json(&bao, &format!("/v1/secret/data/{path}")).get("data").get("data").raw();
            assert_eq!(data, r#"{"a":"x","b":{"c":"y"}}"#, "{path}");
        }
    }
    p.set("VAULT_MAX_RETRIES", "0");
    let gone = format!("unix://{}", proxy.path.with_file_name("none.sock").display());
    let (ours, theirs) = both(&p, &VAULT_RULES.replace("{addr}", &gone), &["-y", "v2/s.yaml"]);
    assert_eq!(ours.code, Some(1), "{ours}");
    assert!(ours.stderr.ends_with(&format!(
        "Put \"http://localhost/v1/secret/data/rsops/team/s.yaml\": dial unix {}: connect: no such file or directory\n",
        &gone["unix://".len()..]
    )), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!((ours.code, untimed(&ours.stderr)), (theirs.code, untimed(&theirs.stderr).replace("/sops/", "/rsops/")));
    }
}

/// sops builds its key-service list again for every published file: the
/// warning for a URI that does not parse, and with `--verbose` the info line
/// `Connecting to key service`, repeat per file, in URI order.
#[test]
#[cfg(feature = "vault")]
fn key_service_lines_repeat_per_file() {
    let Some(bao) = Bao::start() else { return };
    let mut p = Pub::new();
    p.set("VAULT_TOKEN", ROOT_TOKEN);
    p.set("VAULT_ADDR", &bao.addr);
    p.encrypted("env/a.yaml", STRINGS);
    p.encrypted("env/b.yaml", STRINGS);
    let rules = VAULT_RULES.replace("{addr}", &bao.addr);
    let cmd_lines = |o: &Output| o.stderr.lines().filter(|l| l.starts_with("[CMD]")).map(untimed).collect::<Vec<_>>();
    let uris = ["--keyservice", "tcp://127.0.0.1:1/x", "--keyservice", "bad uri:1", "--keyservice", "unix:rel.sock"];
    for verbose in [true, false] {
        let mut args = vec!["-y", "--recursive"];
        if verbose {
            args.push("--verbose");
        }
        args.extend_from_slice(&uris);
        args.push("env");
        let (ours, theirs) = both(&p, &rules, &args);
        assert_eq!(ours.code, Some(0), "{ours}");
        let lines = cmd_lines(&ours);
        let per_file = if verbose { 3 } else { 1 };
        assert_eq!(lines.len(), 2 * per_file, "{ours}");
        if verbose {
            assert!(lines[0].ends_with("level=info msg=\"Connecting to key service\" address=\"tcp://127.0.0.1:1\""), "{ours}");
            assert!(lines[2].ends_with("level=info msg=\"Connecting to key service\" address=\"unix://\""), "{ours}");
        }
        if let Some(theirs) = theirs {
            assert_eq!(theirs.code, Some(0), "{theirs}");
            assert_eq!(lines, cmd_lines(&theirs));
        }
    }
}

/// `.sops.yaml` decoded as sops decodes it: a field of the wrong YAML type
/// anywhere in the file fails with go-yaml's list of errors, a bad age
/// recipient in the recreation rule with the age parser's text; same
/// stderr and exit code as sops.
#[test]
fn config_type_errors_match_sops() {
    let p = Pub::new();
    p.encrypted("a.yaml", STRINGS);
    let Some(sops) = p.sops.clone() else { return };
    let configs = [
        "destination_rules:\n  - path_regex: x\n    s3_bucket: b\n  - s3_bucket: [a]\n    s3_prefix: {b: 1}\n",
        "destination_rules:\n  - s3_bucket: b\n    vault_kv_version: abcdefghijklm\n    omit_extensions: 3\n",
        "destination_rules: 3\n",
        "destination_rules:\n  - 3\n  - s3_bucket: b\n",
        "destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      key_groups: 3\n      path_regex:\n        - x\n      shamir_threshold: 'x'\n      mac_only_encrypted: x\n",
        "destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      key_groups:\n        - age: a\n          kms: [{arn: [1], context: {a: [b]}}]\n",
        "creation_rules:\n  - shamir_threshold: [1]\ndestination_rules:\n  - s3_bucket: b\nstores:\n  json: {indent: x}\n",
        "destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      age: notarecipient\n",
        "destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      key_groups:\n        - age: [age1xyz]\n",
        "destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      age: [[a]]\n",
    ];
    let mut failures = Vec::new();
    for config in configs {
        p.write(".sops.yaml", config);
        let args = ["publish", "-y", "a.yaml"];
        let ours = p.run_with(&p.rsops, &args, None);
        let theirs = p.run_with(&sops, &args, None);
        assert_ne!(theirs.code, Some(0), "sops accepted {config:?}");
        if (ours.code, untimed(&ours.stderr)) != (theirs.code, untimed(&theirs.stderr)) {
            failures.push(format!("{config:?}:\n  rsops {ours}\n  sops  {theirs}"));
        }
    }
    // Accepted as go-yaml fills Go fields: any scalar's source text for a
    // string, a float truncated for an int, YAML 1.1 `yes` for a bool. The
    // prompt names the destination; no answer (EOF) ends both runs.
    let accepted = [
        "destination_rules:\n  - s3_bucket: 123\n    s3_prefix: 0x10/\n    omit_extensions: yes\n",
        "destination_rules:\n  - vault_path: 1e3\n    vault_kv_version: 1.5\n    vault_kv_mount_name: 2001-01-01\n    vault_address: http://127.0.0.1:1\n",
    ];
    for config in accepted {
        p.write(".sops.yaml", config);
        let args = ["publish", "a.yaml"];
        let ours = p.run_with(&p.rsops, &args, Some(""));
        let theirs = p.run_with(&sops, &args, Some(""));
        assert!(theirs.stdout_text().starts_with("uploading "), "{theirs}");
        if (ours.code, ours.stdout_text(), untimed(&ours.stderr)) != (theirs.code, theirs.stdout_text(), untimed(&theirs.stderr)) {
            failures.push(format!("{config:?}:\n  rsops {ours}\n  sops  {theirs}"));
        }
    }
    assert!(failures.is_empty(), "{} config(s) differ from sops:\n{}", failures.len(), failures.join("\n"));
}

/// stderr with logrus's `time="…"` fields blanked.
fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| match (l.find("time=\""), l.find("\" level=")) {
            (Some(a), Some(b)) => format!("{}time=…{}", &l[..a], &l[b + 1..]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The suite's GCS server (`tests/servers/gcs.py`), killed on drop.
struct Gcs {
    child: Child,
    host: String,
}

impl Gcs {
    fn start() -> Gcs {
        let script = util::repo_root().join("tests/servers/gcs.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/servers/gcs.py (python3)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
        let port: u16 = line
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("tests/servers/gcs.py did not print its ready line: {line:?}"));
        Gcs { child, host: format!("127.0.0.1:{port}") }
    }

    fn get(&self, path: &str) -> Vec<u8> {
        let mut s = std::net::TcpStream::connect(&self.host).expect("connect gcs");
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.host).expect("request");
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).expect("response");
        let at = resp.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
        assert!(resp.starts_with(b"HTTP/1.0 200") || resp.starts_with(b"HTTP/1.1 200"), "GET {path}: {}", String::from_utf8_lossy(&resp));
        resp[at + 4..].to_vec()
    }
}

impl Drop for Gcs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[cfg(feature = "gcp")]
fn gcs_upload_decrypts_with_the_recreation_keys() {
    let gcs = Gcs::start();
    let mut p = Pub::new();
    p.set("STORAGE_EMULATOR_HOST", &gcs.host);
    p.encrypted("g/a.yaml", "x: 1\nlist:\n    - zz\n");
    let rule = "  - gcs_bucket: gb\n    gcs_prefix: {tool}/\n    recreation_rule:\n      age: {r2}\n";
    let (ours, theirs) = both(&p, rule, &["-y", "g/a.yaml"]);
    assert_eq!(ours.code, Some(0), "{ours}");
    let ours_obj = gcs.get("/storage/v1/b/gb/o/rsops%2Fa.yaml?alt=media");
    assert_eq!(open_with_key2(&p, "dl.yaml", &ours_obj), "x: 1\nlist:\n    - zz\n");
    if let Some(theirs) = theirs {
        assert_eq!((ours.code, ours.stdout_text()), (theirs.code, theirs.stdout_text()));
        let sops_obj = gcs.get("/storage/v1/b/gb/o/sops%2Fa.yaml?alt=media");
        assert_eq!(open_with_key2(&p, "dl-sops.yaml", &sops_obj), "x: 1\nlist:\n    - zz\n");
    }
    // The emulator gets no credentials, as from Go's client.
    let log = String::from_utf8(gcs.get("/_test/log")).expect("utf-8");
    assert!(!log.contains("Bearer"), "{log}");
    assert!(log.contains("uploadType=multipart"), "{log}");

    // A failed upload: sops ignores it and exits 0 (its writer's Close
    // error is dropped); rsops reports it, on purpose (src/publish/gcs.rs).
    p.set("STORAGE_EMULATOR_HOST", "127.0.0.1:9");
    let (ours, theirs) = both(&p, rule, &["-y", "g/a.yaml"]);
    assert_eq!(ours.code, Some(1), "{ours}");
    assert!(ours.stderr.contains("127.0.0.1:9/upload/storage/v1/b/gb/o?") && ours.stderr.contains("connection refused"), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!(theirs.code, Some(0), "sops now reports failed GCS uploads: {theirs}");
    }

    // No emulator: credentials first; a missing ADC file fails before any
    // request, with Go's text (backends.md §7: never a real endpoint).
    p.env.retain(|(k, _)| k != "STORAGE_EMULATOR_HOST" && k != "GOOGLE_OAUTH_ACCESS_TOKEN");
    let missing = p.sb.home().join("no-such-adc.json").display().to_string();
    p.set("GOOGLE_APPLICATION_CREDENTIALS", &missing);
    let (ours, theirs) = both(&p, rule, &["-y", "g/a.yaml"]);
    assert_eq!(ours.code, Some(1), "{ours}");
    assert!(ours.stderr.ends_with(&format!("dialing: open {missing}: no such file or directory\n")), "{ours}");
    if let Some(theirs) = theirs {
        assert_eq!((ours.code, ours.stdout_text(), &ours.stderr), (theirs.code, theirs.stdout_text(), &theirs.stderr));
    }
}

/// Prompts, answers and errors that need no server (nothing is uploaded),
/// compared with sops byte for byte.
#[test]
fn prompts_and_errors_match_sops() {
    let p = Pub::new();
    p.encrypted("s3/a.yaml", STRINGS);
    p.encrypted("s3/d/b.yaml", STRINGS);
    p.encrypted("raw/a.yaml", STRINGS);
    p.encrypted("none/a.yaml", STRINGS);
    p.encrypted("both/a.yaml", STRINGS);
    p.encrypted("elsewhere/a.yaml", STRINGS);
    p.write("raw/plain.yaml", STRINGS);
    let rules = format!(
        "{S3_RULES}  - path_regex: ^none/\n    omit_extensions: true\n  - path_regex: ^both/\n    s3_bucket: x\n    vault_path: y\n  - path_regex: '['\n    s3_bucket: never\n"
    );
    p.write(".sops.yaml", &config("x", &rules));
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["publish", "raw/a.yaml"], None),
        (&["publish", "raw/a.yaml"], Some("n\n")),
        (&["publish", "raw/a.yaml"], Some("x\nn\n")),
        (&["publish", "raw/a.yaml"], Some("\n")),
        (&["publish", "--recursive", "s3"], Some("n\nn\n")),
        (&["publish", "--recursive", "./s3/"], Some("n\nmaybe\n")),
        (&["publish", "-y", "s3"], None),
        (&["publish", "-y", "both/a.yaml"], None),
        (&["publish", "-y", "elsewhere/a.yaml"], None),
        (&["publish", "-y", "none/a.yaml"], None),
        (&["publish", "-y", "raw/plain.yaml"], None),
        (&["publish", "-y", "raw/missing.yaml"], None),
        (&["publish", "-y"], None),
        (&["publish", "-y", "raw/a.yaml", "extra", "--flag"], Some("")),
        (&["--config", "nope.yaml", "publish", "-y", "raw/a.yaml"], None),
    ];
    let Some(sops) = p.sops.clone() else { return };
    let mut failures = Vec::new();
    for (args, stdin) in cases {
        let ours = p.run_with(&p.rsops, args, *stdin);
        let theirs = p.run_with(&sops, args, *stdin);
        if args.ends_with(&["extra", "--flag"]) {
            // Uploads to the dead endpoint: compare only the warnings.
            let w = |s: &str| s.lines().filter(|l| l.contains("level=warning")).map(untimed).collect::<Vec<_>>();
            if w(&ours.stderr) != w(&theirs.stderr) || ours.code != theirs.code {
                failures.push(format!("{args:?}:\n  rsops {ours}\n  sops  {theirs}"));
            }
            continue;
        }
        if (ours.code, ours.stdout_text(), untimed(&ours.stderr)) != (theirs.code, theirs.stdout_text(), untimed(&theirs.stderr)) {
            failures.push(format!("{args:?} stdin {stdin:?}:\n  rsops {}\n  sops  {}", p.sb.redact(&ours.to_string()), p.sb.redact(&theirs.to_string())));
        }
    }
    // No config at all.
    std::fs::remove_file(p.sb.work().join(".sops.yaml")).expect("rm config");
    let ours = p.run_with(&p.rsops, &["publish", "-y", "raw/a.yaml"], None);
    let theirs = p.run_with(&sops, &["publish", "-y", "raw/a.yaml"], None);
    if (ours.code, &ours.stderr) != (theirs.code, &theirs.stderr) {
        failures.push(format!("no config:\n  rsops {ours}\n  sops  {theirs}"));
    }
    assert!(failures.is_empty(), "{} case(s) differ from sops:\n{}", failures.len(), failures.join("\n"));
}

/// A tiny JSON reader for the assertions (the test target has no serde).
mod serde_json_lite {
    /// A JSON text with helpers to walk into objects by key.
    pub(crate) struct Json(String);

    pub(crate) fn parse(text: &str) -> Json {
        Json(text.trim().to_owned())
    }

    impl Json {
        /// The member `key` of this object (`null` if absent).
        pub(crate) fn get(&self, key: &str) -> Json {
            let s = self.0.as_bytes();
            if s.first() != Some(&b'{') {
                return Json("null".into());
            }
            let mut i = 1;
            while i < s.len() {
                i = skip_ws(s, i);
                if s[i] == b'}' {
                    break;
                }
                let k_end = end_of(s, i);
                let k = &self.0[i + 1..k_end - 1];
                i = skip_ws(s, k_end) + 1;
                i = skip_ws(s, i);
                let v_end = end_of(s, i);
                if k == key {
                    return Json(self.0[i..v_end].to_owned());
                }
                i = skip_ws(s, v_end);
                if s[i] == b',' {
                    i += 1;
                }
            }
            Json("null".into())
        }

        pub(crate) fn as_str(&self) -> Option<&str> {
            self.0.strip_prefix('"').and_then(|s| s.strip_suffix('"'))
        }

        /// The value's JSON text as Vault wrote it.
        pub(crate) fn raw(&self) -> String {
            self.0.clone()
        }
    }

    fn skip_ws(s: &[u8], mut i: usize) -> usize {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }

    /// One past the end of the value starting at `i`.
    fn end_of(s: &[u8], i: usize) -> usize {
        match s[i] {
            b'"' => {
                let mut j = i + 1;
                while s[j] != b'"' {
                    j += if s[j] == b'\\' { 2 } else { 1 };
                }
                j + 1
            }
            b'{' | b'[' => {
                let mut depth = 0;
                let mut j = i;
                loop {
                    match s[j] {
                        b'"' => {
                            j = end_of(s, j);
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return j + 1;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let mut j = i;
                while j < s.len() && !b",}] \n".contains(&s[j]) {
                    j += 1;
                }
                j
            }
        }
    }
}
