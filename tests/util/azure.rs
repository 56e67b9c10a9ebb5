//! The suite's own Azure Key Vault (`tests/servers/azurekv.py`): HTTPS on
//! 127.0.0.1 with a throwaway CA, reached as `https://sopstest.vault.azure.net`
//! through its CONNECT proxy, plus the App Service managed-identity token
//! endpoint and a token endpoint that verifies client-certificate
//! assertions. Started per test, stopped when dropped (its stdin closes and
//! the process is killed by PID: `util::pyserver`).
//!
//! Every child gets the guards of spec backends.md §7 ([`AzureKv::env`]):
//! `AZURE_TOKEN_CREDENTIALS` always, with a credential source (managed
//! identity endpoint or a fake `az`), the proxy that refuses every other
//! host, `NO_PROXY` for loopback, and a `PATH` without any real `az`,
//! `azd` or `pwsh`. A missing python3 or `cryptography` fails the test.

use std::collections::HashMap;
use std::path::PathBuf;

use tempfile::TempDir;

use super::pyserver::PyServer;

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
    /// A service principal with the registered client certificate
    /// (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_CERTIFICATE_PATH`),
    /// pinned with `EnvironmentCredential`; the token comes from the
    /// server's verifying endpoint as `login.microsoftonline.com`.
    Certificate,
    /// The same with a certificate the server does not know.
    WrongCertificate,
}

pub(crate) struct AzureKv {
    /// Before `dir`: the server stops before its folder goes.
    _server: PyServer,
    dir: TempDir,
    pub(crate) port: u16,
    pub(crate) proxy_port: u16,
    pub(crate) ca: PathBuf,
    identity_header: String,
    token: String,
    tenant: String,
    client_id: String,
    client_cert: String,
    wrong_cert: String,
    /// Versions of each key made at start, oldest first (the last is latest).
    pub(crate) versions: HashMap<String, Vec<String>>,
}

impl AzureKv {
    /// Starts the server with the named keys (two versions each).
    pub(crate) fn start(keys: &[&str]) -> AzureKv {
        let dir = tempfile::Builder::new().prefix("rsops-azurekv-").tempdir().expect("azurekv temp dir");
        let mut args = vec![dir.path().join("tls").into_os_string()];
        for k in keys {
            args.extend(["--key".into(), (*k).into()]);
        }
        let server = PyServer::start("azurekv.py", &args, dir.path(), true).unwrap_or_else(|err| {
            panic!("tests/servers/azurekv.py did not print its ready line (is `cryptography` installed? see .ci/run): {err}")
        });
        let versions = server
            .field("key_versions")
            .split(';')
            .filter(|e| !e.is_empty())
            .map(|e| {
                let (k, v) = e.split_once('=').expect("name=versions");
                (k.to_owned(), v.split(',').map(str::to_owned).collect())
            })
            .collect();
        AzureKv {
            port: server.port("port"),
            proxy_port: server.port("proxy_port"),
            ca: PathBuf::from(server.field("ca")),
            identity_header: server.field("identity_header"),
            token: server.field("token"),
            tenant: server.field("tenant"),
            client_id: server.field("client_id"),
            client_cert: server.field("client_cert"),
            wrong_cert: server.field("wrong_cert"),
            _server: server,
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

    /// `https://127.0.0.1:<port>`: the server as `AZURE_AUTHORITY_HOST`.
    pub(crate) fn authority_host(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
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
            Auth::Certificate | Auth::WrongCertificate => {
                env.push(("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential".to_owned()));
                env.push(("AZURE_TENANT_ID", self.tenant.clone()));
                env.push(("AZURE_CLIENT_ID", self.client_id.clone()));
                let cert = if auth == Auth::Certificate { &self.client_cert } else { &self.wrong_cert };
                env.push(("AZURE_CLIENT_CERTIFICATE_PATH", cert.clone()));
            }
        }
        path_dirs.extend(safe_path());
        env.push(("PATH", std::env::join_paths(path_dirs).expect("PATH").to_string_lossy().into_owned()));
        env
    }
}

/// The test process's `PATH` without any directory that holds a real
/// `az`, `azd` or `pwsh` (no developer's login can be used).
fn safe_path() -> Vec<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| d.is_absolute() && !["az", "azd", "pwsh"].iter().any(|p| d.join(p).exists()))
        .collect()
}

