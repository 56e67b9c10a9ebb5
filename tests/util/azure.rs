//! The suite's own Azure Key Vault (`tests/servers/azurekv.py`): HTTPS on
//! 127.0.0.1 with a throwaway CA, reached as `https://sopstest.vault.azure.net`
//! through its CONNECT proxy, plus the App Service managed-identity token
//! endpoint. Started per test, stopped when dropped (its stdin closes and
//! the process is killed by PID).
//!
//! Every child gets the guards of spec backends.md §7 ([`AzureKv::env`]):
//! `AZURE_TOKEN_CREDENTIALS` always, with a credential source (managed
//! identity endpoint or a fake `az`), the proxy that refuses every other
//! host, `NO_PROXY` for loopback, and a `PATH` without any real `az`,
//! `azd` or `pwsh`. A missing python3 or `cryptography` fails the test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

use super::run::which;

/// The vault host the proxy routes to the server.
pub(crate) const VAULT: &str = "https://sopstest.vault.azure.net";

/// How a child authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// App Service managed identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`),
    /// pinned with `AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential`.
    ManagedIdentity,
    /// The fake `az` on `PATH`, pinned with `AzureCLICredential`.
    FakeAzureCli,
    /// Nothing usable: `AzureCLICredential` pinned and no `az` at all.
    Nothing,
}

pub(crate) struct AzureKv {
    child: Child,
    _stdin: ChildStdin,
    dir: TempDir,
    pub(crate) port: u16,
    pub(crate) proxy_port: u16,
    pub(crate) ca: PathBuf,
    identity_header: String,
    token: String,
    /// Versions of each key made at start, oldest first (the last is latest).
    pub(crate) versions: HashMap<String, Vec<String>>,
}

impl AzureKv {
    /// Starts the server with the named keys (two versions each).
    pub(crate) fn start(keys: &[&str]) -> AzureKv {
        let python = which("python3").expect("the Azure Key Vault tests need python3 with `cryptography` (see .ci/run)");
        let script = super::repo_root().join("tests").join("servers").join("azurekv.py");
        let dir = tempfile::Builder::new().prefix("rsops-azurekv-").tempdir().expect("azurekv temp dir");
        let mut cmd = Command::new(python);
        cmd.arg(&script).arg(dir.path().join("tls"));
        for k in keys {
            cmd.args(["--key", k]);
        }
        let mut child = cmd
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", script.display()));
        let stdin = child.stdin.take().expect("server stdin");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if !l.trim().is_empty() => l,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tests/servers/azurekv.py did not print its ready line (is `cryptography` installed? see .ci/run)");
            }
        };
        let port = json_int(&line, "port");
        let proxy_port = json_int(&line, "proxy_port");
        let versions = json_str(&line, "key_versions")
            .split(';')
            .filter(|e| !e.is_empty())
            .map(|e| {
                let (k, v) = e.split_once('=').expect("name=versions");
                (k.to_owned(), v.split(',').map(str::to_owned).collect())
            })
            .collect();
        AzureKv {
            child,
            _stdin: stdin,
            port,
            proxy_port,
            ca: PathBuf::from(json_str(&line, "ca")),
            identity_header: json_str(&line, "identity_header"),
            token: json_str(&line, "token"),
            versions,
            dir,
        }
    }

    /// `https://sopstest.vault.azure.net/keys/<name>` (no version).
    pub(crate) fn url(name: &str) -> String {
        format!("{VAULT}/keys/{name}")
    }

    /// The URL of a key's latest version.
    pub(crate) fn latest_url(&self, name: &str) -> String {
        format!("{VAULT}/keys/{name}/{}", self.latest(name))
    }

    pub(crate) fn latest(&self, name: &str) -> &str {
        self.versions[name].last().expect("a version")
    }

    /// A folder holding only a fake `az` that prints this server's token
    /// for `account get-access-token` (spec backends.md §4).
    fn fake_az_dir(&self) -> PathBuf {
        let dir = self.dir.path().join("fake-az");
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).expect("fake az dir");
            let script = format!(
                "#!/bin/sh\n\
                 case \"$*\" in\n\
                 *'account get-access-token'*)\n\
                 \x20 exp=$(date -d '+1 hour' +%s)\n\
                 \x20 local=$(date -d \"@$exp\" '+%Y-%m-%d %H:%M:%S.000000')\n\
                 \x20 printf '{{\"accessToken\":\"%s\",\"expiresOn\":\"%s\",\"expires_on\":%s,\"subscription\":\"00000000-0000-0000-0000-000000000000\",\"tenant\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\",\"tokenType\":\"Bearer\"}}\\n' '{}' \"$local\" \"$exp\"\n\
                 \x20 ;;\n\
                 *) echo \"fake az: unsupported: $*\" >&2; exit 2 ;;\n\
                 esac\n",
                self.token
            );
            let path = dir.join("az");
            std::fs::write(&path, script).expect("write fake az");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod fake az");
        }
        dir
    }

    /// The environment of every child that talks to this vault: the
    /// sandbox's `HOME` stays; these are added on top.
    pub(crate) fn env(&self, auth: Auth) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("SSL_CERT_FILE", self.ca.display().to_string()),
            ("HTTPS_PROXY", format!("http://127.0.0.1:{}", self.proxy_port)),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
            ("no_proxy", "127.0.0.1,localhost".to_owned()),
        ];
        let mut path_dirs: Vec<PathBuf> = Vec::new();
        match auth {
            Auth::ManagedIdentity => {
                env.push(("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential".to_owned()));
                env.push(("IDENTITY_ENDPOINT", format!("https://127.0.0.1:{}/msi/token", self.port)));
                env.push(("IDENTITY_HEADER", self.identity_header.clone()));
            }
            Auth::FakeAzureCli => {
                env.push(("AZURE_TOKEN_CREDENTIALS", "AzureCLICredential".to_owned()));
                path_dirs.push(self.fake_az_dir());
            }
            Auth::Nothing => env.push(("AZURE_TOKEN_CREDENTIALS", "AzureCLICredential".to_owned())),
        }
        path_dirs.extend(safe_path());
        env.push(("PATH", std::env::join_paths(path_dirs).expect("PATH").to_string_lossy().into_owned()));
        env
    }
}

impl Drop for AzureKv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test process's `PATH` without any directory that holds a real
/// `az`, `azd` or `pwsh` (no developer's login can be used).
fn safe_path() -> Vec<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| d.is_absolute() && !["az", "azd", "pwsh"].iter().any(|p| d.join(p).exists()))
        .collect()
}

/// The string value of `"name": "…"` in the ready line (no escapes there).
fn json_str(line: &str, name: &str) -> String {
    let pat = format!("\"{name}\": \"");
    let start = line.find(&pat).unwrap_or_else(|| panic!("ready line lacks {name}: {line}")) + pat.len();
    let end = line[start..].find('"').expect("closing quote") + start;
    line[start..end].to_owned()
}

fn json_int(line: &str, name: &str) -> u16 {
    let pat = format!("\"{name}\": ");
    let start = line.find(&pat).unwrap_or_else(|| panic!("ready line lacks {name}: {line}")) + pat.len();
    let digits: String = line[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a port")
}

