"""A local Azure Key Vault for rsops's tests (spec backends.md §4, §6).

Speaks the parts of the Key Vault REST API sops 3.11 and the Rust SDK use,
over HTTPS on 127.0.0.1 with a throwaway CA, behind a CONNECT proxy that
tunnels only `sopstest.vault.azure.net:443` (and `*.vault.azure.net:443`) to
it, so clients keep default certificate and challenge checks and can never
reach a real vault. It also serves the App Service managed-identity token
endpoint (`GET /msi/token`) and the Microsoft identity platform's token
endpoint for a client certificate (`POST /<tenant>/oauth2/v2.0/token`), also
reached through the proxy as `login.microsoftonline.com:443`.

    python3 azurekv.py DIR [--key NAME]...

DIR receives the CA (`ca.pem`) and server certificate. Each `--key` creates
an RSA-2048 key with two versions (the second is the latest). One JSON line
on stdout says it is ready:

    {"ca": ".../ca.pem", "port": P, "proxy_port": Q, "identity_header": H,
     "token": T, "keys": {"NAME": ["v1", "v2"]}, "key_versions": "NAME=v1,v2",
     "tenant": TENANT, "client_id": C, "client_cert": ".../client.pem",
     "wrong_cert": ".../wrong.pem"}

`client.pem` holds the registered application's RSA key (PKCS#1) and its
certificate, then the certificate of the CA that signed it; `wrong.pem` a
self-signed certificate and key that are not registered.

Bearer tokens accepted: those the two token endpoints issued and `T` (for a
fake `az`). Routes (all `/keys/…` need `api-version` and a bearer token; without
a token: the 401 challenge of the real service):

    GET  /keys/<n>[/][<v>]                 the key (empty version: latest)
    POST /keys/<n>/[<v>]/encrypt|decrypt   RSA-OAEP-256 (RSA-OAEP, RSA1_5 too)
    POST /keys/<n>/create                  a new version (setup)
    GET  /msi/token?resource=R             needs X-IDENTITY-HEADER: H
    POST /<tenant>/oauth2/v2.0/token       client_credentials grant with a
                                           client assertion, VERIFIED: RS256
                                           signature by the certificate that
                                           `x5t` names (registered for C), the
                                           `x5c` leaf if sent, aud = this URL,
                                           iss = sub = client_id = C, nbf/exp,
                                           scope `<resource>/.default`
"""

import base64
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlskit  # noqa: E402

import hashlib  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

VAULT_HOST = "sopstest.vault.azure.net"
LOGIN_HOST = "login.microsoftonline.com"
CLIENT_ID = "5b1b2a2e-6c3f-4d1e-9a7b-0c2d3e4f5a6b"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
NOT_FOUND_HINT = (
    "If you recently deleted this key you may be able to recover it using the correct "
    "recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class Vault:
    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}  # name -> [(version, private key)], oldest first
        self.tokens = set()

    def create(self, name):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        version = secrets.token_hex(16)
        with self.lock:
            self.keys.setdefault(name, []).append((version, key))
        return version

    def find(self, name, version):
        with self.lock:
            versions = self.keys.get(name)
            if not versions:
                return None
            if not version:
                return versions[-1]
            for v, k in versions:
                if v == version:
                    return (v, k)
        return None


PADDINGS = {
    "RSA-OAEP-256": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    "RSA-OAEP": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    "RSA1_5": padding.PKCS1v15,
}


def make_cert(subject, key, issuer=None, issuer_key=None, ca=False):
    return tlskit.make_cert(
        subject, key, issuer, issuer_key, [(x509.BasicConstraints(ca=ca, path_length=None), True)]
    )


def make_client_certs(directory):
    """The registered certificate (signed by its own CA) and a wrong one;
    returns {base64 SHA-1 thumbprint: certificate} of the registered."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = make_cert("rsops client CA", ca_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = make_cert("rsops test app", key, ca.subject, ca_key)
    wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = make_cert("rsops test app", wrong_key)
    pem = serialization.Encoding.PEM
    paths = {}
    for name, k, certs, fmt in (
        ("client.pem", key, [leaf, ca], serialization.PrivateFormat.TraditionalOpenSSL),
        ("wrong.pem", wrong_key, [wrong], serialization.PrivateFormat.PKCS8),
    ):
        path = os.path.abspath(os.path.join(directory, name))
        with open(path, "wb") as f:
            f.write(k.private_bytes(pem, fmt, serialization.NoEncryption()))
            for c in certs:
                f.write(c.public_bytes(pem))
        paths[name] = path
    thumb = base64.b64encode(hashlib.sha1(leaf.public_bytes(serialization.Encoding.DER)).digest()).decode()
    return {thumb: leaf}, paths


def check_assertion(form, url, certs):
    """None when the client assertion is valid for `url`, else (code, AADSTS text)."""
    def field(name):
        return (form.get(name) or [""])[0]
    if field("grant_type") != "client_credentials":
        return "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
    if field("client_assertion_type") != ASSERTION_TYPE:
        return "invalid_request", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    if field("client_id") != CLIENT_ID:
        return "unauthorized_client", "AADSTS700016: Application with identifier '%s' was not found in the directory." % field("client_id")
    if not field("scope").endswith("/.default"):
        return "invalid_scope", "AADSTS1002012: The provided value for scope %s is not valid." % field("scope")
    try:
        head, body, sig = field("client_assertion").split(".")
        header, claims = json.loads(unb64url(head)), json.loads(unb64url(body))
        signature = unb64url(sig)
    except (ValueError, TypeError):
        return "invalid_client", "AADSTS50027: JWT token is invalid or malformed."
    if header.get("alg") != "RS256" or header.get("typ") != "JWT":
        return "invalid_client", "AADSTS5002738: Invalid JWT token. 'RS256' signature algorithm expected."
    cert = certs.get(header.get("x5t", ""))
    if cert is None:
        return "invalid_client", (
            "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered "
            "on application. [Reason - The key was not found., Thumbprint of key used by client: '%s']" % header.get("x5t")
        )
    x5c = header.get("x5c")
    if x5c is not None and (not x5c or base64.b64decode(x5c[0]) != cert.public_bytes(serialization.Encoding.DER)):
        return "invalid_client", "AADSTS700027: The x5c leaf is not the certificate that x5t names."
    try:
        cert.public_key().verify(signature, (head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "invalid_client", "AADSTS700027: Client assertion failed signature validation."
    if claims.get("aud") != url:
        return "invalid_client", "AADSTS700212: No matching federated identity record found for presented assertion audience '%s'." % claims.get("aud")
    if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
        return "invalid_client", "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter."
    now = time.time()
    try:
        exp, nbf = float(claims["exp"]), float(claims.get("nbf", 0))
    except (KeyError, ValueError, TypeError):
        return "invalid_client", "AADSTS700023: Client assertion contains an invalid expiry."
    if not nbf - 300 <= now < exp or exp - now > 3600:
        return "invalid_client", "AADSTS700024: Client assertion is not within its valid time range."
    return None


def make_handler(vault, identity_header, port, certs):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read stdout for the ready line only
            pass

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def reply(self, status, obj, headers=()):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, code, message, headers=()):
            self.reply(status, {"error": {"code": code, "message": message}}, headers)

        def resource(self):
            host = self.headers.get("Host", "")
            if host.split(":")[0].endswith(".vault.azure.net"):
                return "https://vault.azure.net"
            # An IP vault URL: sops checks that the host ends in "." + resource.
            return "https://0.0.1:%d" % port

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

        def do_PUT(self):
            self.route("PUT")

        def route(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/msi/token":
                self.body()
                return self.msi_token(query)
            if method == "POST" and url.path.endswith("/oauth2/v2.0/token"):
                return self.client_token(url.path, self.body())
            parts = url.path.split("/")
            if len(parts) < 3 or parts[1] != "keys":
                self.body()
                return self.error(404, "NotFound", "no such route")
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                self.body()
                challenge = 'Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"' % (
                    TENANT,
                    self.resource(),
                )
                return self.error(
                    401,
                    "Unauthorized",
                    "AKV10000: Request is missing a Bearer or PoP token.",
                    [("WWW-Authenticate", challenge)],
                )
            body = self.body()
            if auth[len("Bearer "):] not in vault.tokens:
                return self.error(401, "Unauthorized", "AKV10032: Invalid issuer.")
            if not query.get("api-version"):
                return self.error(400, "BadParameter", "The api-version parameter is required.")
            rest = parts[2:]
            name = rest[0]
            if method == "POST" and len(rest) == 2 and rest[1] == "create":
                vault.create(name)
                return self.key_json(name, "")
            if method == "GET" and len(rest) <= 2:
                return self.key_json(name, rest[1] if len(rest) == 2 else "")
            if method == "POST" and len(rest) == 3 and rest[2] in ("encrypt", "decrypt"):
                return self.crypt(name, rest[1], rest[2], body)
            return self.error(405, "BadParameter", "unsupported operation")

        def msi_token(self, query):
            if self.headers.get("X-IDENTITY-HEADER") != identity_header:
                return self.error(400, "BadRequest", "missing or wrong X-IDENTITY-HEADER")
            resource = (query.get("resource") or [""])[0]
            if not resource:
                return self.error(400, "BadRequest", "resource is required")
            token = secrets.token_urlsafe(24)
            with vault.lock:
                vault.tokens.add(token)
            self.reply(200, {
                "access_token": token,
                "expires_on": str(int(time.time()) + 3600),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": "00000000-0000-0000-0000-000000000001",
            })

        def client_token(self, path, body):
            tenant = path.split("/")[1]
            if tenant != TENANT:
                return self.reply(400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant '%s' not found." % tenant})
            host = self.headers.get("Host", LOGIN_HOST)
            failure = check_assertion(urllib.parse.parse_qs(body.decode()), "https://%s%s" % (host, path), certs)
            if failure is not None:
                code, text = failure
                return self.reply(401, {"error": code, "error_description": text, "error_codes": [int(text[6:text.index(":")])]})
            token = secrets.token_urlsafe(24)
            with vault.lock:
                vault.tokens.add(token)
            self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})

        def not_found(self, name, version):
            ident = name if not version else "%s/%s" % (name, version)
            self.error(404, "KeyNotFound", "A key with (name/id) %s was not found in this key vault. %s" % (ident, NOT_FOUND_HINT))

        def kid(self, name, version):
            return "https://%s/keys/%s/%s" % (self.headers.get("Host", VAULT_HOST), name, version)

        def key_json(self, name, version):
            found = vault.find(name, version)
            if found is None:
                return self.not_found(name, version)
            v, key = found
            pub = key.public_key().public_numbers()
            now = int(time.time())
            self.reply(200, {
                "key": {
                    "kid": self.kid(name, v),
                    "kty": "RSA",
                    "key_ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
                    "n": b64url(int_bytes(pub.n)),
                    "e": b64url(int_bytes(pub.e)),
                },
                "attributes": {"enabled": True, "created": now, "updated": now, "recoveryLevel": "Recoverable+Purgeable"},
            })

        def crypt(self, name, version, op, body):
            found = vault.find(name, version)
            if found is None:
                return self.not_found(name, version)
            v, key = found
            try:
                req = json.loads(body or b"{}")
                alg, value = req["alg"], unb64url(req["value"])
            except (ValueError, KeyError, TypeError):
                return self.error(400, "BadParameter", "Property 'alg' or 'value' is missing or invalid.")
            if alg not in PADDINGS:
                return self.error(400, "BadParameter", "Invalid algorithm '%s'." % alg)
            try:
                if op == "encrypt":
                    out = key.public_key().encrypt(value, PADDINGS[alg]())
                else:
                    out = key.decrypt(value, PADDINGS[alg]())
            except ValueError:
                return self.error(400, "BadParameter", "Unable to %s the specified value with this key." % op)
            self.reply(200, {"kid": self.kid(name, v), "value": b64url(out)})

    return Handler


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: azurekv.py DIR [--key NAME]...")
    directory, names = args[0], []
    i = 1
    while i < len(args):
        if args[i] == "--key" and i + 1 < len(args):
            names.append(args[i + 1])
            i += 2
        else:
            sys.exit("unknown argument %r" % args[i])
    files = tlskit.make_ca(directory, [VAULT_HOST, LOGIN_HOST])
    certs, cert_paths = make_client_certs(directory)
    vault = Vault()
    static_token = secrets.token_urlsafe(24)
    vault.tokens.add(static_token)
    identity_header = secrets.token_hex(16)
    versions = {}
    for name in names:
        versions[name] = [vault.create(name), vault.create(name)]

    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    port = server.server_address[1]
    server.RequestHandlerClass = make_handler(vault, identity_header, port, certs)
    context = tlskit.server_context(files)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    # A client that drops the connection mid-handshake must not stop the server.
    server.handle_error = lambda *_: None
    threading.Thread(target=server.serve_forever, daemon=True).start()

    proxy = tlskit.ConnectProxy({
        VAULT_HOST + ":443": ("127.0.0.1", port),
        "*.vault.azure.net:443": ("127.0.0.1", port),
        LOGIN_HOST + ":443": ("127.0.0.1", port),
    })
    proxy_port = proxy.start()
    tlskit.ready(
        ca=files.ca,
        port=port,
        proxy_port=proxy_port,
        identity_header=identity_header,
        token=static_token,
        keys=versions,
        # The same as "k=v1,v2;k2=…", for readers without a JSON parser.
        key_versions=";".join("%s=%s" % (k, ",".join(v)) for k, v in sorted(versions.items())),
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_cert=cert_paths["client.pem"],
        wrong_cert=cert_paths["wrong.pem"],
    )
    tlskit.serve_until_stopped(watch_stdin=True)


if __name__ == "__main__":
    main()
