"""Shared pieces of rsops's local cloud test servers (spec backends.md §6).

A throwaway certificate authority, a CONNECT proxy that only tunnels the
routes a test names, and the ready line every server prints. The servers in
this directory import it with `sys.path.insert(0, os.path.dirname(__file__))`.

API
---
make_cert(subject, key, issuer, issuer_key, extensions) -> Certificate
    One certificate, valid from an hour ago for two days.

make_ca(directory, names) -> TlsFiles
    Writes `ca.pem` (self-signed EC P-256 CA: CA:true, keyCertSign) and a
    server certificate `server.pem` + key `server-key.pem` signed by it, with
    SANs `localhost`, IP `127.0.0.1` and each DNS name in `names`, EKU
    serverAuth. Clients trust it with `SSL_CERT_FILE=<ca.pem>` (Go and
    rustls-platform-verifier both read it; it REPLACES the system bundle).
    Returns TlsFiles(ca, cert, key) with absolute paths.

server_context(files) -> ssl.SSLContext
    A server-side TLS context loaded with that certificate (h2 and
    http/1.1 offered through ALPN when `alpn` is given).

ConnectProxy(routes).start() -> port
    An HTTP CONNECT proxy on 127.0.0.1 (thread per connection). `routes`
    maps `host:port` or `*.domain:port` to a local `(ip, port)`; any other
    CONNECT target, and any non-CONNECT request, gets `403 Forbidden`, so a
    client pointed at it can never reach a real cloud. TLS stays end to end.
    `.requests` lists the `host:port` targets it accepted (for assertions).

ready(**fields)
    Prints the server's one JSON ready line on stdout and flushes.

serve_until_stopped()
    Blocks until SIGTERM or SIGINT (or stdin closing when `watch_stdin`),
    so a test killing the process by PID stops everything.
"""

import datetime
import ipaddress
import json
import os
import select
import signal
import socket
import ssl
import sys
import threading
from collections import namedtuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TlsFiles = namedtuple("TlsFiles", "ca cert key")


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_cert(subject, key, issuer=None, issuer_key=None, extensions=()):
    """A certificate for `key` with common name `subject`, signed by
    `issuer_key` as `issuer` (an x509.Name; self-signed when omitted), valid
    from an hour ago for two days, with `extensions` as (extension, critical)
    pairs. The servers here that need other certificates use it too."""
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _key_usage(ca):
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca,
        crl_sign=ca, encipher_only=False, decipher_only=False,
    )


def make_ca(directory, names=()):
    os.makedirs(directory, exist_ok=True)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = make_cert("rsops test CA", ca_key, extensions=[
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(ca=True), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    ])

    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    sans += [x509.DNSName(n) for n in names if n != "localhost"]
    cert = make_cert(names[0] if names else "localhost", key, ca_cert.subject, ca_key, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(ca=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(sans), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    ])

    files = TlsFiles(
        os.path.abspath(os.path.join(directory, "ca.pem")),
        os.path.abspath(os.path.join(directory, "server.pem")),
        os.path.abspath(os.path.join(directory, "server-key.pem")),
    )
    with open(files.ca, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(files.cert, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(files.key, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return files


def server_context(files, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files.cert, files.key)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class ConnectProxy:
    def __init__(self, routes):
        self.routes = dict(routes)
        self.requests = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self.port

    def _route(self, target):
        if target in self.routes:
            return self.routes[target]
        host, _, port = target.rpartition(":")
        for pattern, dest in self.routes.items():
            if not pattern.startswith("*."):
                continue
            phost, _, pport = pattern.rpartition(":")
            if pport == port and host.endswith(phost[1:]):
                return dest
        return None

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
                if len(head) > 65536:
                    return
            header, rest = head.split(b"\r\n\r\n", 1)
            request_line = header.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split()
            dest = None
            if len(parts) == 3 and parts[0].upper() == "CONNECT":
                dest = self._route(parts[1])
            if dest is None:
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            self.requests.append(parts[1])
            upstream = socket.create_connection(dest)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _pipe(conn, upstream)
        except OSError:
            pass
        finally:
            conn.close()


def _pipe(a, b):
    socks = [a, b]
    try:
        while True:
            readable, _, _ = select.select(socks, [], [], 300)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    finally:
        b.close()


def ready(**fields):
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def serve_until_stopped(watch_stdin=False):
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if watch_stdin:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch, daemon=True).start()
    while not stop.wait(0.5):
        pass


if __name__ == "__main__":
    # Self-check: `python3 tlskit.py DIR` makes a CA and proves a TLS
    # handshake through the proxy with that CA as the only trust root.
    import tempfile
    import urllib.request  # noqa: F401  (stdlib presence)

    directory = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="tlskit-")
    files = make_ca(directory, ["example.test"])
    ctx = server_context(files)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    sport = srv.getsockname()[1]

    def serve():
        c, _ = srv.accept()
        with ctx.wrap_socket(c, server_side=True) as s:
            s.sendall(b"hello")

    threading.Thread(target=serve, daemon=True).start()
    proxy = ConnectProxy({"example.test:443": ("127.0.0.1", sport)})
    pport = proxy.start()
    raw = socket.create_connection(("127.0.0.1", pport))
    raw.sendall(b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
    resp = raw.recv(4096)
    assert resp.startswith(b"HTTP/1.1 200"), resp
    cctx = ssl.create_default_context(cafile=files.ca)
    with cctx.wrap_socket(raw, server_hostname="example.test") as s:
        assert s.recv(5) == b"hello"
    bad = socket.create_connection(("127.0.0.1", pport))
    bad.sendall(b"CONNECT www.google.com:443 HTTP/1.1\r\n\r\n")
    assert bad.recv(4096).startswith(b"HTTP/1.1 403")
    print("tlskit ok", directory)
