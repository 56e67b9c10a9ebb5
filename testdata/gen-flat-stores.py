#!/usr/bin/env python3
"""Regenerates testdata/{dotenv,ini,binary}/ with the real sops (3.11.x).

Every input is written here by hand to hit one parsing or emission rule;
every other file is what sops printed. See the README.md of each folder.

Usage: python3 testdata/gen-flat-stores.py     (uses `sops` on PATH, or $SOPS)
"""
import os
import pathlib
import random
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent
SOPS = os.environ.get("SOPS", "sops")
KEY = ROOT / "keys" / "age" / "key1.txt"
RECIPIENT = next(l.split()[-1] for l in KEY.read_text().splitlines() if l.startswith("# public key:"))

DOTENV = {
    "basic": b"A=1\nB=two\n",
    "empty-value": b"EMPTY=\nB=x\n",
    "equals-in-value": b"A=b=c==\nB===\n",
    "hash-in-value": b"A=x#y\nURL=https://example.com/#anchor\n",
    "comment-space": b"# a comment\nA=1\n",
    "comment-nospace": b"#nospace\nA=1\n",
    "comment-empty": b"#\nA=1\n#\n",
    "comment-after-value": b"A=1 # not a comment\n",
    "indented-hash-is-key": b"  # x=1\nA=1\n",
    "double-quotes": b'Q="double quoted value"\n',
    "single-quotes": b"S='single quoted'\n",
    "mixed-quotes": b"M=\"it's\"\nN='say \"hi\"'\n",
    "export": b"export API_TOKEN=tok_123\nexport B=2\n",
    "spaces-around": b"A = 1\n B=2 \n",
    "key-with-space": b"MY KEY=1\n",
    "escaped-newline": b"MULTI=line1\\nline2\\n\n",
    "double-backslash-n": b"A=a\\\\nb\n",
    "trailing-backslash": b"A=abc\\\nB=\\\n",
    "backslash-only": b"A=C:\\path\\to\n",
    "unicode-value": b"U=na\xc3\xafve caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\n",
    "unicode-key": b"\xc3\x9cBER=1\n",
    "crlf": b"A=1\r\nB=2\r\n",
    "cr-only": b"A=1\rB=2\n",
    "blank-lines": b"\n\nA=1\n\n\nB=2\n\n",
    "no-final-newline": b"A=1\nB=2",
    "empty": b"",
    "only-comments": b"# one\n# two\n",
    "empty-key": b"=value\n",
    "only-equals": b"=\n",
    "duplicates": b"A=1\nA=2\nA=1\n",
    "unencrypted-suffix": b"A_unencrypted=plain\nB=secret\n",
    "trailing-spaces": b"A=x  \nB=\t\n",
    "tab-in-value": b"A=a\tb\n",
    "json-value": b'J={"a":1,"b":[true,null]}\n',
    "query-url": b"DB=postgres://u:p@h:5432/db?sslmode=require&x=1\n",
    "base64": b"K=YWJjZA==\n",
    "pem": b"KEY=-----BEGIN PRIVATE KEY-----\\nMIIBVQ==\\n-----END PRIVATE KEY-----\\n\n",
    "non-utf8-value": b"A=\xff\xfe\x80abc\nB=ok\n",
    "cr-in-value": b"A=x\ry\n",
    "hash-in-key": b"A#B=1\n",
    "long-value": b"L=" + b"x" * 10000 + b"\n",
    "many-keys": b"".join(b"K%03d=v%d\n" % (i, i) for i in range(200)),
    "nil-looking": b"N=<nil>\nT=true\nI=42\nF=1.5\n",
    "comments-between": b"# head\nA=1\n# mid\nB=2\n# tail\n",
    "lone-cr-line": b"A=1\n\r\nB=2\n",
    "no-equals": b"A=1\nNOEQUALS\n",
    "spaces-only-line": b"A=1\n   \n",
    "export-alone": b"export\n",
    "sops-prefixed": b"A=1\nsops_foo=bar\n",
}

INI = {
    "basic": b"[s]\na = 1\nb = two\n",
    "default-keys": b"top = 1\n[s]\na = 2\n",
    "explicit-default": b"[DEFAULT]\na = 1\n[s]\nb = 2\n",
    "default-later": b"[s]\na = 1\n[DEFAULT]\nb = 2\n",
    "lowercase-default": b"[default]\na = 1\n",
    "duplicate-sections": b"[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n",
    "duplicate-keys": b"[s]\na = 1\nb = 2\na = 3\n",
    "duplicate-key-comment": b"[s]\n; first\na = 1\nb = 2\n; second\na = 3\n",
    "semicolon-comment": b"[s]\n; about a\na = 1\n",
    "hash-comment": b"[s]\n# about a\na = 1\n",
    "inline-comment": b"[s]\na = 1 ; one\nb = 2 # two\n",
    "inline-no-space": b"[s]\nurl = http://x/#anchor\nb = x;y\n",
    "double-quoted": b'[s]\na = "x y"\nb = "  padded  "\n',
    "single-quoted": b"[s]\na = 'x y'\n",
    "quote-inside": b'[s]\na = "a"b"\nb = "q;x"\n',
    "triple-quoted": b'[s]\na = """line1\nline2"""\nb = """one line"""\n',
    "backquoted": b"[s]\na = `x;y`\nb = `has # hash` ; c\n",
    "colon-delimiter": b"[s]\na: 1\nb : 2\n",
    "continuation": b"[s]\na = one \\\n  two \\\n  three\nb = 2\n",
    "empty-value": b"[s]\na =\nb = \n",
    "equals-in-value": b"[s]\nexpr = a=b=c\n",
    "unicode": b"[s\xc3\xa9]\n\xc3\xbc = \xc3\xbcn\xc3\xaf \xe6\x97\xa5\n",
    "crlf": b"[s]\r\na = 1\r\n; c\r\nb = 2\r\n",
    "bom": b"\xef\xbb\xbf[s]\na = 1\n",
    "section-comment": b"; about s\n[s]\na = 1\n",
    "section-inline-comment": b"[s] ; about s\na = 1\n",
    "two-line-comment": b"[s]\n; one\n; two\na = 1\n",
    "mixed-comment-block": b"[s]\n# one\n; two\na = 1\n",
    "trailing-comment": b"[s]\na = 1\n; lost\n",
    "section-space": b"[feature flags]\nnew_ui = true\n",
    "section-padded": b"[ padded ]\na = 1\n",
    "key-space": b"[s]\nmy key = 1\n",
    "indented": b"  [s]\n    a = 1\n\t b = 2\n",
    "quoted-keys": b'[s]\n`a:b` = 1\n"q=k" = 2\n',
    "backquote-key": b'[s]\n"a`b" = 1\n',
    "auto-increment": b"[s]\n- = a\n- = b\n[t]\n- = c\n",
    "empty": b"",
    "only-comments": b"; one\n# two\n",
    "empty-sections": b"[a]\n[b]\n[c]\na = 1\n",
    "numbers": b"[s]\nnum = 42\nf = 1.5\nb = true\n",
    "alignment": b"[s]\na = 1\nlonger_key = 2\nmid = 3\n[t]\nx = 1\n",
    "unencrypted-suffix": b"[s]\na_unencrypted = plain\nb = secret\n",
    "non-utf8": b"[s]\na = \xff\xfe\x80\n",
    "tab-value": b"[s]\na = x\ty\n",
    "default-comment": b"; top\nk = v\n[s]\na = 1\n",
    "comment-before-default-section": b"; only a comment\n[s]\na = 1\n",
    "value-with-quotes-needed": b"[s]\na = `x` \n",
    "hash-only-comment": b"[s]\na = 1\n#\nb = 2\n",
    "no-delimiter": b"[s]\nnoeq\n",
    "unclosed-section": b"[a\n",
    "empty-section-name": b"[]\na = 1\n",
    "empty-key-name": b"[s]\n= 1\n",
    "unterminated-triple": b'[s]\na = """abc\n',
    "sops-section": b"[s]\na = 1\n[sops]\nversion = 1\n",
}


def binary_cases():
    rng = random.Random(4)
    return {
        "empty": b"",
        "text": b"secret\n",
        "no-final-newline": b"secret",
        "all-bytes": bytes(range(256)) * 2,
        "invalid-utf8": b"a\xff\xfe\xc3(\xe2\x28\xa1\x80b",
        "nul": b"\x00\x00a\x00",
        "single-byte": b"x",
        "crlf": b"line1\r\nline2\r\n",
        "bom": b"\xef\xbb\xbfhello\n",
        "json-looking": b'{"data": "x", "sops": {}}\n',
        "unicode": "h\u00e9llo \u65e5\u672c \U0001f600\n".encode(),
        "html": b"<a href='x'>&amp;</a>\n",
        "random-4k": bytes(rng.getrandbits(8) for _ in range(4096)),
    }


def run(args, stdin=None, env=None):
    return subprocess.run([SOPS, *args], capture_output=True, env=env, input=stdin)


def gen(store, ext, cases):
    d = ROOT / store
    for sub in ("plain", "encrypted"):
        shutil.rmtree(d / sub, ignore_errors=True)
        (d / sub).mkdir(parents=True)
    env = dict(os.environ, SOPS_AGE_KEY_FILE=str(KEY))
    for name, data in cases.items():
        plain = d / "plain" / f"{name}.{ext}"
        plain.write_bytes(data)
        typ = ["--input-type", store, "--output-type", store]
        enc = run(["encrypt", *typ, "--age", RECIPIENT, str(plain)], env=env)
        if enc.returncode != 0:
            (d / "plain" / f"{name}.err").write_bytes(enc.stderr)
            continue
        encfile = d / "encrypted" / f"{name}.{ext}"
        encfile.write_bytes(enc.stdout)
        dec = run(["decrypt", *typ, str(encfile)], env=env)
        if dec.returncode != 0:
            # sops wrote a file it cannot read back (e.g. INI `-` keys).
            (d / "plain" / f"{name}.decerr").write_bytes(dec.stderr)
            continue
        (d / "plain" / f"{name}.out").write_bytes(dec.stdout)


def gen_large_binary():
    """A 1 MiB file that the tests rebuild (`large_plain` in binary.rs), so
    only sops's encryption of it is stored."""
    data = bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(1 << 20))
    d = ROOT / "binary"
    tmp = d / "large.bin"
    tmp.write_bytes(data)
    env = dict(os.environ, SOPS_AGE_KEY_FILE=str(KEY))
    enc = run(["encrypt", "--input-type", "binary", "--output-type", "binary", "--age", RECIPIENT, str(tmp)], env=env)
    tmp.unlink()
    assert enc.returncode == 0, enc.stderr
    (d / "encrypted" / "large-1mib.bin").write_bytes(enc.stdout)


if __name__ == "__main__":
    gen("dotenv", "env", DOTENV)
    gen("ini", "ini", INI)
    gen("binary", "bin", binary_cases())
    gen_large_binary()
