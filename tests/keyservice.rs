//! The key service (cli.md §3.9, §4.13, §8) against the real sops 3.11,
//! both ways: sops's client talks to `rsops keyservice` and rsops's client
//! talks to `sops keyservice`, over TCP on a free 127.0.0.1 port and over a
//! Unix socket. The server holds the age identity (or the `GnuPG` keyring);
//! the client has none and turns its local key service off, so every
//! wrap and unwrap crosses the wire. Failure texts (unreachable service,
//! no service at all, a server without keys) are compared with sops's.
//!
//! Servers are started and stopped by the tests (SIGTERM), with a private
//! `HOME` and an environment built from scratch.

#![cfg(unix)]
#![cfg_attr(not(feature = "keyservice"), allow(dead_code, unused_imports))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::run::{rsops_bin, Output, Sandbox};
use crate::util::{self, keys_dir};

/// sops's YAML layout, so decrypted output must equal it byte for byte.
const PLAIN: &str = "a: 1\nnested:\n    secret: value\n";
const PGP_FP: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";

fn recipient(key: &str) -> String {
    let text = std::fs::read_to_string(keys_dir().join(key)).expect("read test key");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key line")
        .to_owned()
}

/// Where a server listens.
enum Listen {
    Tcp(u16),
    /// A service name from `/etc/services` and the port it stands for.
    TcpNamed(String, u16),
    Unix(PathBuf),
}

impl Listen {
    fn tcp() -> Listen {
        Listen::Tcp(free_port())
    }

    fn uri(&self) -> String {
        match self {
            Listen::Tcp(port) | Listen::TcpNamed(_, port) => format!("tcp://127.0.0.1:{port}"),
            Listen::Unix(path) => format!("unix://{}", path.display()),
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}

/// A running `keyservice` (rsops's or sops's), stopped with SIGTERM on drop.
struct Server {
    child: Option<Child>,
    listen: Listen,
}

impl Server {
    /// Starts `program keyservice` with `home` as its `HOME` and `env`.
    fn start(program: &Path, home: &Path, listen: Listen, env: &[(&str, &Path)]) -> Server {
        Server::spawn(program, home, listen, env, None, false)
    }

    /// [`Server::start`] with `--verbose`.
    fn start_verbose(program: &Path, home: &Path, listen: Listen, env: &[(&str, &Path)]) -> Server {
        Server::spawn(program, home, listen, env, None, true)
    }

    /// [`Server::start`] with `--prompt`, `answers` on its stdin.
    fn start_prompting(program: &Path, home: &Path, listen: Listen, env: &[(&str, &Path)], answers: &[u8]) -> Server {
        Server::spawn(program, home, listen, env, Some(answers), false)
    }

    fn spawn(
        program: &Path,
        home: &Path,
        listen: Listen,
        env: &[(&str, &Path)],
        answers: Option<&[u8]>,
        verbose: bool,
    ) -> Server {
        let (net, addr) = match &listen {
            Listen::Tcp(port) => ("tcp", format!("127.0.0.1:{port}")),
            Listen::TcpNamed(name, _) => ("tcp", format!("127.0.0.1:{name}")),
            Listen::Unix(path) => ("unix", path.display().to_string()),
        };
        let mut cmd = Command::new(program);
        cmd.args(["keyservice", "--network", net, "--address", &addr])
            .args(answers.map(|_| "--prompt"))
            .args(verbose.then_some("--verbose"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GNUPGHOME", home.join("gnupg"))
            .current_dir(home)
            .stdin(if answers.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        if let Some(bytes) = answers {
            let mut stdin = child.stdin.take().expect("stdin pipe");
            std::io::Write::write_all(&mut stdin, bytes).expect("write the answers");
        }
        let server = Server { child: Some(child), listen };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            let up = match &self.listen {
                Listen::Tcp(port) | Listen::TcpNamed(_, port) => {
                    std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok()
                }
                Listen::Unix(path) => std::os::unix::net::UnixStream::connect(path).is_ok(),
            };
            if up {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "keyservice at {} did not start", self.listen.uri());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn uri(&self) -> String {
        self.listen.uri()
    }

    /// Sends SIGTERM and returns the exit code and stderr.
    fn stop(&mut self) -> (Option<i32>, String) {
        let (code, _, stderr) = self.stop_with_stdout();
        (code, stderr)
    }

    /// [`Server::stop`], also returning what the server printed on stdout.
    fn stop_with_stdout(&mut self) -> (Option<i32>, String, String) {
        let child = self.child.take().expect("running");
        let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let out = child.wait_with_output().expect("wait for the keyservice");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Client flags: only the remote key service.
fn remote_only(uri: &str) -> Vec<String> {
    vec!["--enable-local-keyservice=false".to_owned(), "--keyservice".to_owned(), uri.to_owned()]
}

fn client(sb: &Sandbox, program: &Path, command: &str, flags: &[String], rest: &[&str]) -> Output {
    sb.command(program).arg(command).args(flags).args(rest).run()
}

/// A sandbox for the client side: the plaintext, no keys at all.
fn client_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    std::fs::write(sb.work().join("plain.yaml"), PLAIN).expect("write plain");
    sb
}

/// A server home holding `key1.txt` as its age identity.
fn server_home_with_age(sb: &Sandbox) -> PathBuf {
    sb.identity(&["key1.txt".to_owned()])
}

/// Encrypts with `client_prog` through `server`, then decrypts the result
/// with both clients through it; the client has no key of its own.
fn age_round_trip(sb: &Sandbox, client_prog: &Path, other: &Path, server: &Server) {
    let flags = remote_only(&server.uri());
    let r = recipient("key1.txt");
    let out = client(sb, client_prog, "encrypt", &flags, &["--age", &r, "plain.yaml"]).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let enc = out.stdout_text();
    assert!(enc.contains(&r) && !enc.contains("value"), "{enc}");
    std::fs::write(sb.work().join("enc.yaml"), &enc).expect("write enc");
    for prog in [client_prog, other] {
        let out = client(sb, prog, "decrypt", &flags, &["enc.yaml"]);
        assert_eq!(out.code, Some(0), "{}", sb.redact(&out.to_string()));
        assert_eq!(out.stdout_text(), PLAIN, "{}", out.shown);
        assert!(out.stderr.is_empty(), "{}", out.stderr);
    }
    // Without the key service the client has no key: proof the data key
    // really came over the wire.
    let out = client(sb, client_prog, "decrypt", &[], &["enc.yaml"]);
    assert_eq!(out.code, Some(128), "{}", sb.redact(&out.to_string()));
}

fn both_ways(listen: impl Fn(&Sandbox) -> Listen) {
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    for (server_prog, client_prog) in [(&rsops, &sops), (&sops, &rsops)] {
        let server_sb = Sandbox::new();
        let identity = server_home_with_age(&server_sb);
        let mut server =
            Server::start(server_prog, server_sb.home(), listen(&server_sb), &[("SOPS_AGE_KEY_FILE", &identity)]);
        let sb = client_sandbox();
        age_round_trip(&sb, client_prog, if client_prog == &sops { &rsops } else { &sops }, &server);
        let (code, stderr) = server.stop();
        if server_prog == &rsops {
            assert_eq!(code, Some(0), "rsops keyservice after SIGTERM: {stderr}");
            assert!(stderr.is_empty(), "rsops keyservice logged without --verbose: {stderr}");
            if let Listen::Unix(path) = &server.listen {
                assert!(!path.exists(), "the socket file outlived the server");
            }
        }
    }
}

#[test]
#[cfg(feature = "keyservice")]
fn tcp_both_ways() {
    both_ways(|_| Listen::tcp());
}

#[test]
#[cfg(feature = "keyservice")]
fn unix_socket_both_ways() {
    both_ways(|sb| Listen::Unix(sb.home().join("ks.sock")));
}

/// PGP through the key service: the server's `GnuPG` home has the secret
/// key, the client's has nothing.
#[test]
#[cfg(feature = "keyservice")]
fn pgp_through_the_key_service() {
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    for (server_prog, client_prog) in [(&rsops, &sops), (&sops, &rsops)] {
        let server_sb = Sandbox::new();
        server_sb.import_pgp_keys();
        let server = Server::start(server_prog, server_sb.home(), Listen::tcp(), &[]);
        let sb = client_sandbox();
        let flags = remote_only(&server.uri());
        let out = client(&sb, client_prog, "encrypt", &flags, &["--pgp", PGP_FP, "plain.yaml"]);
        assert_eq!(out.code, Some(0), "{}", sb.redact(&out.to_string()));
        std::fs::write(sb.work().join("enc.yaml"), &out.stdout).expect("write enc");
        for prog in [&rsops, &sops] {
            let out = client(&sb, prog, "decrypt", &flags, &["enc.yaml"]);
            assert_eq!(out.code, Some(0), "{}", sb.redact(&out.to_string()));
            assert_eq!(out.stdout_text(), PLAIN);
        }
    }
}

/// Same command, same sandbox, both tools: exit code and stderr equal.
fn same_failure(sb: &Sandbox, sops: &Path, args: &[String]) -> Output {
    let theirs = sb.command(sops).args(args).run();
    let ours = sb.command(&rsops_bin()).args(args).run();
    assert_ne!(theirs.code, Some(0), "sops succeeded: {}", theirs.shown);
    assert_eq!(ours.code, theirs.code, "{}", sb.redact(&ours.to_string()));
    assert_eq!(ours.stderr, theirs.stderr, "stderr differs for {}", ours.shown);
    ours
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// An age file encrypted locally (the client then has no identity).
fn encrypted_file(sb: &Sandbox) {
    let r = recipient("key1.txt");
    let out = sb.command(&rsops_bin()).args(["encrypt", "--age", &r, "plain.yaml"]).run().success();
    std::fs::write(sb.work().join("enc.yaml"), &out.stdout).expect("write enc");
}

#[test]
#[cfg(feature = "keyservice")]
fn unreachable_and_missing_services_fail_as_sops() {
    let Some(sops) = util::reference_sops() else { return };
    let sb = client_sandbox();
    encrypted_file(&sb);
    let r = recipient("key1.txt");
    let closed = format!("tcp://127.0.0.1:{}", free_port());
    let socket = format!("unix://{}", sb.home().join("none.sock").display());
    // Decrypt: local (no identity) then an unreachable TCP service, then a
    // missing socket: three entries under the key in sops's report.
    let out = same_failure(&sb, &sops, &strings(&["decrypt", "--keyservice", &closed, "--keyservice", &socket, "enc.yaml"]));
    assert!(out.stderr.contains("connect: connection refused"), "{}", out.stderr);
    // Encrypt through only the unreachable ones: every service's error.
    let mut args = strings(&["encrypt", "--age", &r]);
    args.extend(remote_only(&closed));
    args.extend(strings(&["--keyservice", &socket, "plain.yaml"]));
    let out = same_failure(&sb, &sops, &args);
    assert!(out.stderr.starts_with("Could not generate data key: [failed to encrypt"), "{}", out.stderr);
    // No key service at all.
    same_failure(&sb, &sops, &strings(&["encrypt", "--enable-local-keyservice=false", "--age", &r, "plain.yaml"]));
    same_failure(&sb, &sops, &strings(&["decrypt", "--enable-local-keyservice=false", "enc.yaml"]));
    // A scheme that is no network, and a URI with no host.
    same_failure(&sb, &sops, &strings(&["decrypt", "--enable-local-keyservice=false", "--keyservice", "http://127.0.0.1:1", "enc.yaml"]));
    same_failure(&sb, &sops, &strings(&["decrypt", "--enable-local-keyservice=false", "--keyservice", "localhost:1", "enc.yaml"]));
    // gRPC's unix resolver refuses an authority.
    same_failure(&sb, &sops, &strings(&["decrypt", "--enable-local-keyservice=false", "--keyservice", "unix://host/x.sock", "enc.yaml"]));
}

/// A URI Go's parser rejects is skipped with sops's warning.
#[test]
#[cfg(feature = "keyservice")]
fn unparsable_uri_is_skipped_with_a_warning() {
    let sb = client_sandbox();
    encrypted_file(&sb);
    let identity = sb.identity(&["key1.txt".to_owned()]);
    let out = sb
        .command(&rsops_bin())
        .args(["decrypt", "--keyservice", "127.0.0.1:5000", "enc.yaml"])
        .age_keys(Some(&identity))
        .run();
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(out.stdout_text(), PLAIN);
    assert!(
        out.stderr.starts_with("[CMD]\t time=\"")
            && out.stderr.ends_with(" level=warning msg=\"Error parsing URI for keyservice, skipping\" uri=\"127.0.0.1:5000\"\n"),
        "{}",
        out.stderr
    );
}

/// A server without keys: its error reaches the client as gRPC `Unknown`
/// with the key source's text, the same from rsops's server as from sops's.
#[test]
#[cfg(feature = "keyservice")]
fn server_errors_reach_the_client_as_from_sops() {
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    let sb = client_sandbox();
    encrypted_file(&sb);
    // Both servers share one key-less home, so their texts name the same paths.
    let server_sb = Sandbox::new();
    let mut reports = Vec::new();
    for server_prog in [&rsops, &sops] {
        let server = Server::start(server_prog, server_sb.home(), Listen::tcp(), &[]);
        let out = client(&sb, &sops, "decrypt", &remote_only(&server.uri()), &["enc.yaml"]);
        assert_eq!(out.code, Some(128), "{}", sb.redact(&out.to_string()));
        reports.push(out.stderr.replace(&server.uri(), "URI"));
    }
    assert!(reports[0].contains("rpc error: code = Unknown desc = failed to load age"), "{}", reports[0]);
    assert_eq!(reports[0], reports[1], "rsops's server answered other than sops's");
}

/// `--prompt`: the question on the server's stdout, a non-answer asked
/// again, `n` refused with `PermissionDenied`, stdin at its end `EOF`;
/// rsops's server as sops's.
#[test]
#[cfg(feature = "keyservice")]
fn prompt_answers_as_sops() {
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    let sb = client_sandbox();
    encrypted_file(&sb);
    let mut seen = Vec::new();
    for server_prog in [&rsops, &sops] {
        let server_sb = Sandbox::new();
        let identity = server_home_with_age(&server_sb);
        let mut server = Server::start_prompting(
            server_prog,
            server_sb.home(),
            Listen::tcp(),
            &[("SOPS_AGE_KEY_FILE", &identity)],
            b"x\nn\n",
        );
        let mut reports = Vec::new();
        for _ in 0..2 {
            let out = client(&sb, &sops, "decrypt", &remote_only(&server.uri()), &["enc.yaml"]);
            assert_eq!(out.code, Some(128), "{}", sb.redact(&out.to_string()));
            reports.push(out.stderr);
        }
        let (_, stdout, _) = server.stop_with_stdout();
        seen.push((reports, stdout));
    }
    let (reports, stdout) = &seen[0];
    assert!(reports[0].contains("rpc error: code = PermissionDenied desc = Request rejected\n      | by user"), "{}", reports[0]);
    assert!(reports[1].contains("rpc error: code = Unknown desc = EOF"), "{}", reports[1]);
    assert_eq!(
        stdout,
        &"\nReceived decrypt request using Unknown key type. Respond to request? (y/n): ".repeat(3)
    );
    assert_eq!(seen[0], seen[1], "rsops's server answered other than sops's");
}

/// logrus lines with the `time="…"` field blanked.
fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find("time=\""), l.find("\" level=")) {
            (Some(a), Some(b)) => format!("{}time=…{}", &l[..a], &l[b + 1..]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `tcp` service name of `/etc/services` whose port (1024 or more) is
/// free on 127.0.0.1 now, with that port.
fn free_named_port() -> Option<(String, u16)> {
    let text = std::fs::read_to_string("/etc/services").ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split('#').next()?.split_whitespace().collect();
        let (port, proto) = fields.get(1)?.split_once('/')?;
        let port: u16 = port.parse().ok()?;
        let name = fields[0];
        let usable = proto == "tcp"
            && port >= 1024
            && name.len() <= 25
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        usable.then(|| (name.to_owned(), port))
    })
}

/// `--address host:<service name>`: the port is looked up as Go's resolver
/// does (`/etc/services`, case-insensitively); an unknown name fails with
/// sops's text and exit code.
#[test]
#[cfg(feature = "keyservice")]
fn named_ports_resolve_as_go_does() {
    let Some(sops) = util::reference_sops() else { return };
    let rsops = rsops_bin();
    let sb = Sandbox::new();
    let mut seen = Vec::new();
    for program in [&rsops, &sops] {
        let out = sb.command(program).args(["keyservice", "--network", "tcp4", "--address", "127.0.0.1:nosuchservice"]).run();
        seen.push((out.code, untimed(&out.stderr)));
    }
    assert_eq!(seen[0].0, Some(1));
    assert!(seen[0].1.contains("listen tcp4: lookup tcp/nosuchservice: unknown port"), "{}", seen[0].1);
    assert_eq!(seen[0], seen[1]);

    let Some((name, port)) = free_named_port() else { return };
    let server_sb = Sandbox::new();
    let identity = server_home_with_age(&server_sb);
    let named = Listen::TcpNamed(name.to_uppercase(), port);
    let mut server = Server::start(&rsops, server_sb.home(), named, &[("SOPS_AGE_KEY_FILE", &identity)]);
    let sb = client_sandbox();
    age_round_trip(&sb, &sops, &rsops, &server);
    assert_eq!(server.stop().0, Some(0));
}

/// With `--verbose` the server logs each Vault operation as sops does:
/// `Path=` is the transit call's path (`sops/encrypt/aes`), not the key URI.
#[test]
#[cfg(all(feature = "keyservice", feature = "vault"))]
fn vault_log_lines_match_sops() {
    let Some(sops) = util::reference_sops() else { return };
    let Some(bao) = crate::util::bao::Bao::start() else { return };
    bao.transit("sops");
    let rsops = rsops_bin();
    let token = Path::new(crate::util::bao::ROOT_TOKEN);
    let mut seen = Vec::new();
    for server_prog in [&rsops, &sops] {
        let server_sb = Sandbox::new();
        let mut server = Server::start_verbose(server_prog, server_sb.home(), Listen::tcp(), &[("VAULT_TOKEN", token)]);
        let sb = client_sandbox();
        let flags = remote_only(&server.uri());
        for uri in [bao.uri("sops", "aes"), bao.uri("nomount", "k")] {
            let out = client(&sb, &rsops, "encrypt", &flags, &["--hc-vault-transit", &uri, "plain.yaml"]);
            if uri.contains("/sops/") {
                std::fs::write(sb.work().join("enc.yaml"), &out.success().stdout).expect("write enc");
                let out = client(&sb, &rsops, "decrypt", &flags, &["enc.yaml"]).success();
                assert_eq!(out.stdout_text(), PLAIN);
            }
        }
        let (_, stderr) = server.stop();
        let lines: Vec<String> =
            untimed(&stderr).lines().filter(|l| l.starts_with("[VAULT_TRANSIT]")).map(str::to_owned).collect();
        seen.push(lines);
    }
    assert_eq!(seen[0].len(), 3, "{:?}", seen[0]);
    assert!(seen[0][0].ends_with("level=info msg=\"Encryption successful\" Path=sops/encrypt/aes"), "{:?}", seen[0]);
    assert_eq!(seen[0], seen[1]);
}

/// Listen failures are logged and fatal, as sops does.
#[test]
#[cfg(feature = "keyservice")]
fn listen_failure_is_fatal() {
    let sb = Sandbox::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let out = sb.command(&rsops_bin()).args(["keyservice", "--addr", &addr]).run();
    assert_eq!(out.code, Some(1), "{out}");
    let want = format!("Error running keyservice: listen tcp {addr}: bind: address already in use");
    assert!(out.stderr.contains(&format!("level=error msg=\"{want}\"")), "{}", out.stderr);
    assert!(out.stderr.contains("level=fatal msg="), "{}", out.stderr);
}

/// Without the feature both halves say the build lacks it.
#[test]
#[cfg(not(feature = "keyservice"))]
fn build_without_keyservice_says_so() {
    let sb = client_sandbox();
    let out = sb.command(&rsops_bin()).args(["keyservice"]).run();
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("lacks keyservice"), "{}", out.stderr);
    let out = sb.command(&rsops_bin()).args(["decrypt", "--keyservice", "tcp://127.0.0.1:1", "plain.yaml"]).run();
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("lacks keyservice"), "{}", out.stderr);
}

/// A key service that accepts and never answers: after a few seconds rsops
/// says on stderr which service it waits for (sops says nothing), then both
/// fail the same way once the connection drops.
#[test]
#[cfg(feature = "keyservice")]
fn silent_service_prints_waiting() {
    use crate::util::moto::SilentServer;
    let Some(sops) = util::reference_sops() else { return };
    let r = recipient("key1.txt");
    let mut codes = Vec::new();
    for program in [rsops_bin(), sops] {
        let silent = SilentServer::start(Duration::from_secs(5));
        let uri = silent.url.replace("http://", "tcp://");
        let sb = client_sandbox();
        let mut args = strings(&["encrypt", "--age", &r]);
        args.extend(remote_only(&uri));
        args.push("plain.yaml".to_owned());
        let out = sb.command(&program).args(&args).run();
        assert!(!out.timed_out && out.stdout.is_empty(), "{out}");
        assert!(
            out.stderr.contains(&format!("Could not generate data key: [failed to encrypt new data key with master key \"{r}\": ")),
            "{out}"
        );
        if program == rsops_bin() {
            assert!(out.stderr.starts_with(&format!("waiting for key service {uri}: Encrypt…\n")), "{out}");
            assert_eq!(out.stderr.matches("waiting for").count(), 1, "{out}");
        }
        codes.push(out.code);
    }
    assert_ne!(codes[0], Some(0));
    assert_eq!(codes[0], codes[1]);
}
