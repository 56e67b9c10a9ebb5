"""A small Google Cloud Storage JSON API server for rsops's `publish` tests.

Plain HTTP on 127.0.0.1 (sops's Go storage client talks to it through
`STORAGE_EMULATOR_HOST=127.0.0.1:<port>`; rsops through the same variable).
Objects live in memory; buckets exist as soon as something is uploaded.

Routes
------
POST /upload/storage/v1/b/<bucket>/o?uploadType=multipart
    multipart/related: a JSON part with "name", then the content.
POST /upload/storage/v1/b/<bucket>/o?uploadType=media&name=<object>
POST /upload/storage/v1/b/<bucket>/o?uploadType=resumable[&name=...]
    answers 200 with `Location: /upload/storage/v1/b/<bucket>/o?uploadType=resumable&upload_id=<id>`;
    a PUT there with the whole content finishes the upload.
GET  /storage/v1/b/<bucket>/o/<object>?alt=media, /download/storage/v1/..., /<bucket>/<object>
    the content (404 if absent); without alt=media, the object's JSON resource.
GET  /_test/log
    JSON list of {"method", "path", "authorization"} of every upload request.

Ready line on stdout: {"port": <port>}. Stops on SIGTERM/SIGINT.
"""

import json
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OBJECTS = {}
SESSIONS = {}
LOG = []
LOCK = threading.Lock()


def resource(bucket, name, data):
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/1",
        "name": name,
        "bucket": bucket,
        "generation": "1",
        "metageneration": "1",
        "size": str(len(data)),
        "contentType": "application/octet-stream",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def reply(self, code, payload=b"", ctype="application/json", headers=None):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def not_found(self):
        self.reply(404, {"error": {"code": 404, "message": "No such object", "errors": [{"reason": "notFound"}]}})

    def store(self, bucket, name, data):
        with LOCK:
            OBJECTS[(bucket, name)] = data
        self.reply(200, resource(bucket, name, data))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.split("/")
        data = self.body()
        with LOCK:
            LOG.append({"method": "POST", "path": self.path, "authorization": self.headers.get("Authorization")})
        # /upload/storage/v1/b/<bucket>/o
        if len(parts) != 7 or parts[1:5] != ["upload", "storage", "v1", "b"] or parts[6] != "o":
            return self.not_found()
        bucket = urllib.parse.unquote(parts[5])
        kind = q.get("uploadType", "")
        if kind == "media":
            return self.store(bucket, q.get("name", ""), data)
        if kind == "multipart":
            ctype = self.headers.get("Content-Type", "")
            boundary = ctype.split("boundary=", 1)[1].strip('"')
            chunks = data.split(b"--" + boundary.encode())
            meta, content = None, None
            for chunk in chunks[1:]:
                if chunk.startswith(b"--"):
                    break
                head, _, rest = chunk.partition(b"\r\n\r\n")
                rest = rest[:-2] if rest.endswith(b"\r\n") else rest
                if meta is None:
                    meta = json.loads(rest or b"{}")
                else:
                    content = rest
            return self.store(bucket, (meta or {}).get("name") or q.get("name", ""), content or b"")
        if kind == "resumable":
            meta = json.loads(data or b"{}")
            upload_id = uuid.uuid4().hex
            with LOCK:
                SESSIONS[upload_id] = (bucket, meta.get("name") or q.get("name", ""))
            loc = f"http://{self.headers.get('Host')}/upload/storage/v1/b/{parts[5]}/o?uploadType=resumable&upload_id={upload_id}"
            return self.reply(200, b"", headers={"Location": loc})
        self.reply(400, {"error": {"code": 400, "message": "bad uploadType"}})

    def do_PUT(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        data = self.body()
        with LOCK:
            LOG.append({"method": "PUT", "path": self.path, "authorization": self.headers.get("Authorization")})
            session = SESSIONS.get(q.get("upload_id", ""))
        if session is None:
            return self.not_found()
        self.store(session[0], session[1], data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_test/log":
            with LOCK:
                return self.reply(200, list(LOG))
        parts = url.path.split("/", 7)
        media = q.get("alt") == "media"
        if url.path.startswith("/storage/v1/b/") and len(parts) >= 7 and parts[5] == "o":
            bucket, name = parts[4], "/".join(url.path.split("/")[6:])
        elif url.path.startswith("/download/storage/v1/b/"):
            rest = url.path.split("/")
            bucket, name, media = rest[5], "/".join(rest[7:]), True
        else:
            rest = url.path.split("/")
            bucket, name, media = rest[1], "/".join(rest[2:]), True
        key = (urllib.parse.unquote(bucket), urllib.parse.unquote(name))
        with LOCK:
            data = OBJECTS.get(key)
        if data is None:
            return self.not_found()
        if media:
            return self.reply(200, data, ctype="application/octet-stream")
        return self.reply(200, resource(key[0], key[1], data))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
