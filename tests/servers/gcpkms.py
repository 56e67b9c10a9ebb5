"""A local GCP Cloud KMS for rsops's tests (spec backends.md §5, §6).

One process, three listeners on 127.0.0.1, one key scheme:

1. gRPC over TLS (throwaway CA; certificate for `cloudkms.googleapis.com`,
   `localhost`, `127.0.0.1`) speaking the real
   `google.cloud.kms.v1.KeyManagementService` `Encrypt`/`Decrypt` wire
   format (messages from PyPI `google-cloud-kms`), for the real sops;
2. a CONNECT proxy that tunnels only `cloudkms.googleapis.com:443` to (1),
   so sops runs unchanged with `HTTPS_PROXY` + `SSL_CERT_FILE` and can never
   reach Google;
3. plain-HTTP REST (`POST /v1/<name>:encrypt|:decrypt`, proto3 JSON), the
   mapping Google's Rust client uses, for rsops (`SOPS_GCP_KMS_ENDPOINT`).

    python3 gcpkms.py DIR [--key NAME]...

DIR receives the CA (`ca.pem`), the server certificate and a throwaway
service-account key file (`service-account.json`, RSA-2048; clients sign
their own JWTs with it, so no token endpoint is needed). Each `--key` is a
CryptoKey name (`projects/P/locations/L/keyRings/R/cryptoKeys/K`) that
exists; others are NOT_FOUND. One JSON line on stdout says it is ready:

    {"ca": ".../ca.pem", "grpc_port": G, "proxy_port": P, "rest_port": R,
     "service_account": ".../service-account.json"}

Behaviour (as real Cloud KMS, verified through sops): a bearer token is
required (UNAUTHENTICATED / 401; any non-empty token is accepted except
those starting with `invalid`, which stand for a revoked one); `name` must
be a CryptoKey (Encrypt also takes `…/cryptoKeyVersions/N`); request CRC32C
fields are checked when sent; responses carry CRC32C, `name`
`<key>/cryptoKeyVersions/1`, protection level SOFTWARE. Ciphertext is
stateless and bound to the key name: `0x01 || nonce(12) || AES-256-GCM`
under `HMAC-SHA256(secret, key name)`, so another key's name fails with
INVALID_ARGUMENT as in real KMS, and both listeners share it.

The REST listener is also a GCE metadata server (point `GCE_METADATA_HOST`
at it): `GET /computeMetadata/v1/instance/service-accounts/default/token`
(needs `Metadata-Flavor: Google`) issues the bearer `metadata-token`, and
`…/universe/universe-domain` answers `googleapis.com`.

`GET /requests` on the REST listener lists the calls served so far, as
`{"via": "grpc"|"rest"|"metadata", "method", "name", "bearer": "jwt"|"opaque"}`.
"""

import base64
import json
import os
import re
import secrets
import sys
import threading
import urllib.parse
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlskit  # noqa: E402

import grpc  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402
from cryptography.hazmat.primitives import hashes, hmac, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from google.cloud.kms_v1 import types as kms  # noqa: E402

HOST = "cloudkms.googleapis.com"
SERVICE = "google.cloud.kms.v1.KeyManagementService"
KEY_RE = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
VERSION_RE = re.compile(r"^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/[0-9]+$")
SOFTWARE = 1  # ProtectionLevel.SOFTWARE
UNAUTHENTICATED_MSG = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)

# (grpc status, HTTP status, canonical name)
CODES = {
    "INVALID_ARGUMENT": (grpc.StatusCode.INVALID_ARGUMENT, 400),
    "UNAUTHENTICATED": (grpc.StatusCode.UNAUTHENTICATED, 401),
    "NOT_FOUND": (grpc.StatusCode.NOT_FOUND, 404),
}


class KmsError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


class Keys:
    """The key scheme shared by both listeners."""

    def __init__(self, names):
        self.names = set(names)
        self.secret = secrets.token_bytes(32)
        self.log = []
        self.lock = threading.Lock()

    def _key(self, name):
        mac = hmac.HMAC(self.secret, hashes.SHA256())
        mac.update(name.encode())
        return mac.finalize()

    def _resolve(self, name, allow_version):
        if KEY_RE.match(name):
            key = name
        else:
            m = VERSION_RE.match(name) if allow_version else None
            if not m:
                raise KmsError("INVALID_ARGUMENT", f"Invalid resource name '{name}'.")
            key = m.group(1)
        if key not in self.names:
            raise KmsError("NOT_FOUND", f"CryptoKey {key} not found.")
        return key

    def record(self, via, method, name, bearer):
        with self.lock:
            self.log.append({
                "via": via, "method": method, "name": name,
                "bearer": "jwt" if bearer.count(".") == 2 and bearer.startswith("eyJ") else "opaque",
            })

    def encrypt(self, name, plaintext, plaintext_crc=None):
        key = self._resolve(name, allow_version=True)
        if plaintext_crc is not None and plaintext_crc != crc32c(plaintext):
            raise KmsError("INVALID_ARGUMENT", "The checksum in field plaintext_crc32c did not match the data in field plaintext.")
        nonce = secrets.token_bytes(12)
        ciphertext = b"\x01" + nonce + AESGCM(self._key(key)).encrypt(nonce, plaintext, None)
        return key + "/cryptoKeyVersions/1", ciphertext

    def decrypt(self, name, ciphertext, ciphertext_crc=None):
        key = self._resolve(name, allow_version=False)
        if ciphertext_crc is not None and ciphertext_crc != crc32c(ciphertext):
            raise KmsError("INVALID_ARGUMENT", "The checksum in field ciphertext_crc32c did not match the data in field ciphertext.")
        bad = KmsError("INVALID_ARGUMENT", "Decryption failed: verify that 'name' refers to the correct CryptoKey.")
        if len(ciphertext) < 1 + 12 + 16 or ciphertext[0] != 1:
            raise bad
        try:
            return AESGCM(self._key(key)).decrypt(ciphertext[1:13], ciphertext[13:], None)
        except InvalidTag:
            raise bad from None


# -- 1. gRPC -----------------------------------------------------------------

def grpc_server(keys, tls):
    def bearer_of(context):
        for k, v in context.invocation_metadata():
            if k.lower() == "authorization" and v.startswith("Bearer ") and len(v) > 7:
                return v[7:]
        return None

    def call(method, handler):
        def run(request, context):
            bearer = bearer_of(context)
            keys.record("grpc", method, request.name, bearer or "")
            if bearer is None or bearer.startswith("invalid"):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MSG)
            try:
                return handler(request)
            except KmsError as e:
                context.abort(CODES[e.status][0], e.message)
        return run

    def encrypt(req):
        crc = req.plaintext_crc32c if "plaintext_crc32c" in req else None
        name, ct = keys.encrypt(req.name, bytes(req.plaintext), crc)
        return kms.EncryptResponse(
            name=name, ciphertext=ct, ciphertext_crc32c=crc32c(ct),
            verified_plaintext_crc32c=crc is not None,
            verified_additional_authenticated_data_crc32c=False,
            protection_level=SOFTWARE,
        )

    def decrypt(req):
        crc = req.ciphertext_crc32c if "ciphertext_crc32c" in req else None
        pt = keys.decrypt(req.name, bytes(req.ciphertext), crc)
        return kms.DecryptResponse(
            plaintext=pt, plaintext_crc32c=crc32c(pt), used_primary=True, protection_level=SOFTWARE,
        )

    handlers = {
        "Encrypt": grpc.unary_unary_rpc_method_handler(
            call("Encrypt", encrypt),
            request_deserializer=kms.EncryptRequest.deserialize,
            response_serializer=kms.EncryptResponse.serialize,
        ),
        "Decrypt": grpc.unary_unary_rpc_method_handler(
            call("Decrypt", decrypt),
            request_deserializer=kms.DecryptRequest.deserialize,
            response_serializer=kms.DecryptResponse.serialize,
        ),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    with open(tls.key, "rb") as f:
        key_pem = f.read()
    with open(tls.cert, "rb") as f:
        cert_pem = f.read()
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    return server, port


# -- 3. REST -----------------------------------------------------------------

def rest_server(keys):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def fail(self, status, message):
            _, http_status = CODES[status]
            self.reply(http_status, {"error": {"code": http_status, "message": message, "status": status}})

        def text(self, status, body, content_type="application/text"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.partition("?")[0]
            if path == "/requests":
                with keys.lock:
                    return self.reply(200, list(keys.log))
            if path.startswith("/computeMetadata/"):
                keys.record("metadata", "GET", path, "")
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self.text(403, "Missing Metadata-Flavor:Google header.")
                if path == "/computeMetadata/v1/instance/service-accounts/default/token":
                    token = {"access_token": "metadata-token", "expires_in": 3599, "token_type": "Bearer"}
                    return self.text(200, json.dumps(token), "application/json")
                if path == "/computeMetadata/v1/universe/universe-domain":
                    return self.text(200, "googleapis.com")
                if path in ("/computeMetadata/v1/project/project-id", "/computeMetadata/v1/"):
                    return self.text(200, "rsops-test")
                return self.text(404, "Not found")
            self.fail("NOT_FOUND", "Not found.")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            params = urllib.parse.parse_qs(urllib.parse.unquote(query).replace(";", "&"))
            ints = "int" in params.get("enum-encoding", [])
            m = re.match(r"^/v1/(.+):(encrypt|decrypt)$", urllib.parse.unquote(path))
            if not m:
                return self.fail("NOT_FOUND", f"Unknown route {path}.")
            name, method = m.group(1), m.group(2)
            auth = self.headers.get("Authorization") or ""
            bearer = auth[7:] if auth.startswith("Bearer ") else ""
            keys.record("rest", method.capitalize(), name, bearer)
            if not bearer or bearer.startswith("invalid"):
                return self.fail("UNAUTHENTICATED", UNAUTHENTICATED_MSG)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.fail("INVALID_ARGUMENT", "Invalid JSON payload received.")
            level = SOFTWARE if ints else "SOFTWARE"
            try:
                if method == "encrypt":
                    pt = base64.b64decode(body.get("plaintext", ""))
                    crc = body.get("plaintextCrc32c")
                    out_name, ct = keys.encrypt(name, pt, None if crc is None else int(crc))
                    return self.reply(200, {
                        "name": out_name,
                        "ciphertext": base64.b64encode(ct).decode(),
                        "ciphertextCrc32c": str(crc32c(ct)),
                        "verifiedPlaintextCrc32c": crc is not None,
                        "verifiedAdditionalAuthenticatedDataCrc32c": False,
                        "protectionLevel": level,
                    })
                ct = base64.b64decode(body.get("ciphertext", ""))
                crc = body.get("ciphertextCrc32c")
                pt = keys.decrypt(name, ct, None if crc is None else int(crc))
                return self.reply(200, {
                    "plaintext": base64.b64encode(pt).decode(),
                    "plaintextCrc32c": str(crc32c(pt)),
                    "usedPrimary": True,
                    "protectionLevel": level,
                })
            except KmsError as e:
                return self.fail(e.status, e.message)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def write_service_account(directory):
    """A service-account key file of the form Google issues."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = "sops-test@rsops-test.iam.gserviceaccount.com"
    doc = {
        "type": "service_account",
        "project_id": "rsops-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/" + email,
        "universe_domain": "googleapis.com",
    }
    path = os.path.abspath(os.path.join(directory, "service-account.json"))
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit("usage: gcpkms.py DIR [--key NAME]...")
    directory, names, rest = argv[0], [], argv[1:]
    while rest:
        if rest[0] == "--key" and len(rest) > 1:
            if not KEY_RE.match(rest[1]):
                sys.exit(f"not a CryptoKey name: {rest[1]}")
            names.append(rest[1])
            rest = rest[2:]
        else:
            sys.exit(f"unknown argument {rest[0]}")
    keys = Keys(names)
    tls = tlskit.make_ca(directory, [HOST])
    grpc_srv, grpc_port = grpc_server(keys, tls)
    proxy_port = tlskit.ConnectProxy({f"{HOST}:443": ("127.0.0.1", grpc_port)}).start()
    rest_srv, rest_port = rest_server(keys)
    account = write_service_account(directory)
    tlskit.ready(ca=tls.ca, grpc_port=grpc_port, proxy_port=proxy_port, rest_port=rest_port,
                 service_account=account)
    tlskit.serve_until_stopped()
    rest_srv.shutdown()
    grpc_srv.stop(0)


if __name__ == "__main__":
    main(sys.argv[1:])
