#!/usr/bin/env bash
# Regenerates testdata/vectors/ with the real sops (3.11.x).
#
# Every enc.* and expected.* file is written by sops itself; the only hand
# edits are the tampering steps of negative cases, done below with perl and
# recorded in the case's `edit` field. The age keys in testdata/keys/age/ are
# test-only; they are created here if missing and kept otherwise, so that a
# regeneration changes ciphertexts and timestamps but not the keys.
#
# Usage: bash tests/gen-vectors.sh            (uses `sops` on PATH)
#        SOPS=/path/to/sops bash tests/gen-vectors.sh
#
# Sidecar fields (case.toml, flat TOML read by tests/util/case.rs):
#   name, description     the folder name; what the case pins
#   format                store of the plaintext: yaml, json, dotenv, ini, binary
#   stage                 "decrypt": the expectation is about decrypt_argv on enc;
#                         "encrypt": about encrypt_argv on plain (enc absent)
#   plain, enc, expected  file names in the folder ("" when absent)
#   identity              age key files (testdata/keys/age/) given to decrypt,
#                         concatenated into SOPS_AGE_KEY_FILE
#   encrypt_argv          the sops arguments that wrote enc from plain (stdout)
#   decrypt_argv          the sops arguments run on enc (in the case folder)
#   stdin                 a file of the folder fed on stdin to the command ("" = none)
#   exit_code             what sops exited with for the stage's command
#   stderr_contains       a substring of sops's stderr (negative cases)
#   stderr_file           sops's whole stderr with [HOME] and [CWD] placeholders
#   edit                  the hand edit applied to enc after encryption, if any
#   interop               whether encrypt_argv can be replayed on plain and the
#                         result decrypted with decrypt_argv (false when enc is
#                         not what encrypt_argv writes)
#   roundtrip_identity    age keys that decrypt a fresh encryption of plain
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VEC=$ROOT/testdata/vectors
KEYS=$ROOT/testdata/keys/age
SOPS=${SOPS:-sops}
SOPS=$(command -v "$SOPS") || { echo "gen-vectors: sops not found" >&2; exit 2; }
command -v perl >/dev/null || { echo "gen-vectors: perl not found" >&2; exit 2; }

SOPS_VERSION=$("$SOPS" --version --disable-version-check | head -n1 | awk '{print $2}')
case $SOPS_VERSION in
    3.11.*) ;;
    *) echo "gen-vectors: need sops 3.11.x, found $SOPS_VERSION" >&2; exit 2 ;;
esac

mkdir -p "$KEYS"
for i in 1 2 3; do
    if [ ! -f "$KEYS/key$i.txt" ]; then
        command -v age-keygen >/dev/null || { echo "gen-vectors: age-keygen not found" >&2; exit 2; }
        age-keygen -o "$KEYS/key$i.txt" 2>/dev/null
    fi
done
recipient() { sed -n 's/^# public key: //p' "$KEYS/$1.txt"; }
R1=$(recipient key1)
R2=$(recipient key2)
R3=$(recipient key3)

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
H=$SCRATCH/home
mkdir -p "$H/.config"

rm -rf "$VEC"
mkdir -p "$VEC"
cat >"$VEC/README.md" <<EOF
# Test vectors

Written by \`tests/gen-vectors.sh\` with sops $SOPS_VERSION; regenerate with
\`bash tests/gen-vectors.sh\` (do not edit by hand). One folder per case:
\`plain.*\` (the input), \`enc.*\` (what sops wrote), \`expected.*\` (the exact
stdout of the decrypt command), \`case.toml\` (how, and what to expect; the
fields are described at the top of the generator), and for negative cases
\`expected_stderr.txt\`. Keys: \`testdata/keys/age/\` (test-only).
EOF
echo "$SOPS_VERSION" >"$VEC/SOPS_VERSION"

# ---- per-case state and helpers ---------------------------------------------

toml_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
toml_list() {
    local out="[" sep="" a
    for a in "$@"; do out+="$sep$(toml_str "$a")"; sep=", "; done
    printf '%s]' "$out"
}

# new_case NAME FORMAT DESCRIPTION
new_case() {
    NAME=$1 FORMAT=$2 DESC=$3
    CDIR=$VEC/$NAME
    mkdir -p "$CDIR"
    cd "$CDIR"
    STAGE=decrypt PLAIN="" ENC="" EXPECTED="" STDIN="" EDIT="" INTEROP=true
    STDERR_HAS="" STDERR_FILE="" EXIT=0
    IDENT=(key1.txt) RT_IDENT=()
    ENC_ARGV=() DEC_ARGV=()
}

# put FILE: the file's bytes from stdin
put() { cat >"$1"; }

# identity file for SOPS_AGE_KEY_FILE
ident_file() {
    local f=$SCRATCH/identity.txt k
    : >"$f"
    for k in "$@"; do cat "$KEYS/$k" >>"$f"; done
    printf '%s' "$f"
}

# run_sops STDOUT STDERR [KEYS...] -- ARGV...: sops in a clean environment
run_sops() {
    local out=$1 err=$2; shift 2
    local keys=()
    while [ "$1" != -- ]; do keys+=("$1"); shift; done
    shift
    local envs=(PATH="$PATH" HOME="$H" XDG_CONFIG_HOME="$H/.config" GNUPGHOME="$H/gnupg")
    [ ${#keys[@]} -gt 0 ] && envs+=(SOPS_AGE_KEY_FILE="$(ident_file "${keys[@]}")")
    local in=/dev/null
    [ -n "$STDIN" ] && in=$CDIR/$STDIN
    local rc=0
    env -i "${envs[@]}" "$SOPS" "$@" <"$in" >"$out" 2>"$err" || rc=$?
    return $rc
}

placeholders() { sed -e "s#$CDIR#[CWD]#g" -e "s#$H#[HOME]#g" "$1"; }

# encrypt_ok OUTFILE ARGV...: sops ARGV > OUTFILE, must succeed
encrypt_ok() {
    local out=$1; shift
    ENC=$out ENC_ARGV=("$@")
    local rc=0
    run_sops "$CDIR/$out" "$SCRATCH/err" -- "$@" || rc=$?
    if [ $rc -ne 0 ] || [ -s "$SCRATCH/err" ]; then
        echo "gen-vectors: $NAME: encrypt failed ($rc):" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
}

# encrypt_fails CODE SUBSTRING ARGV...: sops must refuse plain
encrypt_fails() {
    local code=$1 has=$2; shift 2
    STAGE=encrypt ENC_ARGV=("$@") EXIT=$code STDERR_HAS=$has INTEROP=false
    local rc=0
    run_sops "$SCRATCH/out" "$SCRATCH/err" -- "$@" || rc=$?
    check_failure "$rc" "$code" "$has"
}

# decrypt_ok EXPECTED ARGV...: sops ARGV on enc, stdout -> EXPECTED
decrypt_ok() {
    EXPECTED=$1; shift
    DEC_ARGV=("$@") EXIT=0
    local rc=0
    run_sops "$CDIR/$EXPECTED" "$SCRATCH/err" "${IDENT[@]}" -- "$@" || rc=$?
    if [ $rc -ne 0 ] || [ -s "$SCRATCH/err" ]; then
        echo "gen-vectors: $NAME: decrypt failed ($rc):" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
}

# decrypt_fails CODE SUBSTRING ARGV...
decrypt_fails() {
    local code=$1 has=$2; shift 2
    DEC_ARGV=("$@") EXIT=$code STDERR_HAS=$has
    local rc=0
    run_sops "$SCRATCH/out" "$SCRATCH/err" "${IDENT[@]}" -- "$@" || rc=$?
    if [ -s "$SCRATCH/out" ]; then
        echo "gen-vectors: $NAME: failing decrypt wrote to stdout" >&2
        exit 1
    fi
    check_failure "$rc" "$code" "$has"
}

check_failure() {
    local rc=$1 code=$2 has=$3
    if [ "$rc" -ne "$code" ] || ! grep -qF -- "$has" "$SCRATCH/err"; then
        echo "gen-vectors: $NAME: expected exit $code and '$has', got $rc:" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
    STDERR_FILE=expected_stderr.txt
    placeholders "$SCRATCH/err" >"$CDIR/$STDERR_FILE"
}

# tamper DESCRIPTION PERL-SUBSTITUTION: a recorded hand edit of enc
tamper() {
    EDIT=$1
    cp "$CDIR/$ENC" "$SCRATCH/before"
    perl -0pi -e "$2" "$CDIR/$ENC"
    if cmp -s "$CDIR/$ENC" "$SCRATCH/before"; then
        echo "gen-vectors: $NAME: tamper changed nothing" >&2
        exit 1
    fi
}

# flip the first base64 character of the data of KEY's ENC[] value
flip_data() {
    printf 's/(\\Q%s\\E: ENC\\[AES256_GCM,data:)(.)/$1.($2 eq "A" ? "B" : "A")/e' "$1"
}

finish() {
    [ ${#RT_IDENT[@]} -eq 0 ] && RT_IDENT=("${IDENT[@]}")
    {
        echo "# Written by tests/gen-vectors.sh with sops $SOPS_VERSION; do not edit."
        echo "name = $(toml_str "$NAME")"
        echo "description = $(toml_str "$DESC")"
        echo "format = $(toml_str "$FORMAT")"
        echo "stage = $(toml_str "$STAGE")"
        echo "plain = $(toml_str "$PLAIN")"
        echo "enc = $(toml_str "$ENC")"
        echo "expected = $(toml_str "$EXPECTED")"
        echo "identity = $(toml_list "${IDENT[@]}")"
        echo "encrypt_argv = $(toml_list "${ENC_ARGV[@]}")"
        echo "decrypt_argv = $(toml_list "${DEC_ARGV[@]}")"
        echo "stdin = $(toml_str "$STDIN")"
        echo "exit_code = $EXIT"
        echo "stderr_contains = $(toml_str "$STDERR_HAS")"
        echo "stderr_file = $(toml_str "$STDERR_FILE")"
        echo "edit = $(toml_str "$EDIT")"
        echo "interop = $INTEROP"
        echo "roundtrip_identity = $(toml_list "${RT_IDENT[@]}")"
    } >"$CDIR/case.toml"
    cd "$VEC"
}

# plain_case NAME FORMAT EXT DESCRIPTION: read plain.EXT from stdin, encrypt
# it for key1 and decrypt it with key1 -- the common shape
plain_case() {
    new_case "$1" "$2" "$4"
    PLAIN=plain.$3
    put "$PLAIN"
    encrypt_ok "enc.$3" encrypt --age "$R1" "$PLAIN"
    decrypt_ok "expected.$3" decrypt "enc.$3"
    finish
}

# ---- YAML ----------------------------------------------------------------------

plain_case yaml-scalars yaml yaml "One value of every YAML scalar kind: strings, ints (int64 limits), floats, bools, nulls, empty and quoted strings." <<'EOF'
string: hello world
single_quoted: 'it''s single'
double_quoted: "tab\there \"quoted\" back\\slash"
int: 42
negative: -17
zero: 0
int64_max: 9223372036854775807
int64_min: -9223372036854775808
float: 3.14159
float_small: 0.1
float_exp: 1e10
float_neg_zero: -0.0
float_one: 1.0
bool_true: true
bool_false: false
null_word: null
null_tilde: ~
empty_string: ""
looks_like_int: "123"
looks_like_bool: "true"
yes_word: yes
EOF

plain_case yaml-scalar-forms yaml yaml "Less common scalar spellings: hex/octal/underscored ints, +5, .inf/.nan, exponents, timestamps and dates (type time), Title-case bools, !!str/!!int/!!binary tags." <<'EOF'
hex: 0x1F
octal: 0o17
octal_old: 017
plus: +5
underscored: 1_000
inf: .inf
neg_inf: -.inf
nan: .nan
small: 1.5e-7
exp: 2.0e+3
timestamp: 2024-01-02T03:04:05Z
date: 2024-01-02
timestamp_frac: 2024-01-02T03:04:05.123456789+02:00
bool_title: True
bool_upper: FALSE
null_upper: NULL
tagged_str: !!str 123
tagged_int: !!int "7"
binary: !!binary aGVsbG8=
EOF

plain_case yaml-strings yaml yaml "Strings that need quoting or special emission: leading/trailing spaces, ': ' and ' #', indicators, multi-line quoted, trailing newline, control characters." <<'EOF'
spaces: "  padded  "
colon: "a: b"
hash: "a #b"
star: "*not-an-alias"
amp: "&not-an-anchor"
bang: "!not-a-tag"
percent: "%percent"
at: "@at"
backtick: "`tick`"
dash: "- dash"
question: "? q"
brace: "{a: 1}"
bracket: "[1, 2]"
multi_line: "line one
  line two"
trailing_newline: "ends with newline\n"
control: "bell\a esc\e nul-free"
backslash: 'C:\path\to'
numeric_string: "007"
float_string: "1e3"
null_string: "null"
tilde_string: "~"
EOF

plain_case yaml-nested yaml yaml "Nested maps, lists of scalars, lists of maps, lists of lists, empty map and empty list, flow collections." <<'EOF'
app:
    name: demo
    replicas: 3
    database:
        host: db.internal
        port: 5432
        credentials:
            user: admin
            password: s3cr3t
    tags:
        - web
        - api
        - 7
    servers:
        - name: a
          ip: 10.0.0.1
        - name: b
          ip: 10.0.0.2
          extra:
              - x
              - y
    matrix:
        - - 1
          - 2
        - - 3
          - 4
    empty_map: {}
    empty_list: []
    flow_map: {a: 1, b: [2, 3]}
    flow_list: [one, two, {three: 3}]
EOF

plain_case yaml-comments yaml yaml "Comments everywhere: file head, before keys, inline after values, inside maps and lists, between list items, at the end of the file." <<'EOF'
# head comment line 1
# head comment line 2

# before first key
first: 1 # inline after a value
second:
    # inside a map, before a key
    nested: value # inline nested
    # after the last nested key
list:
    # before the first item
    - a # inline on an item
    # between items
    - b
    - c
    # after the last item
map_of_lists:
    - name: x # inline in a list map
      # inside a list map
      value: y
last: end
# trailing comment at end of file
EOF

plain_case yaml-block-scalars yaml yaml "Block scalars: literal |, strip |-, keep |+, folded >, folded strip >-, explicit indentation |2, and a block with blank lines." <<'EOF'
literal: |
    line one
    line two
literal_strip: |-
    no trailing newline
literal_keep: |+
    keeps trailing newlines


folded: >
    folded lines
    become one
folded_strip: >-
    folded and
    stripped
indent_indicator: |2
      two extra spaces
    kept relative
with_blank_lines: |
    para one

    para two
after: done
EOF

plain_case yaml-unicode yaml yaml "Unicode keys and values: accents, CJK, emoji (astral plane), right-to-left text, combining marks, a non-breaking space." <<'EOF'
café: crème brûlée
日本語: こんにちは世界
emoji_🔑: "🔐 secret 🚀"
עברית: שלום
combining: "e\u0301 vs é"
nbsp: "a\u00a0b"
mixed:
    ключ: значение
EOF

new_case yaml-long-values yaml "A 16 KiB value, a long line of words (no folding), a 300-character key and a long list."
PLAIN=plain.yaml
{
    printf 'big: '
    for i in $(seq 1 1024); do printf '0123456789abcdef'; done
    printf '\nwords: '
    for i in $(seq 1 60); do printf 'word%d ' "$i"; done
    printf 'end\n'
    printf 'k'
    for i in $(seq 1 299); do printf 'x'; done
    printf ': long key\n'
    printf 'many:\n'
    for i in $(seq 1 200); do printf '    - item-%d\n' "$i"; done
} >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

plain_case yaml-multidoc yaml yaml "Three YAML documents with comments; each gets its own encrypted values and a copy of the metadata." <<'EOF'
# first document
a: 1
b: first
---
# second document
c:
    - x
    - y
---
d: third # inline
EOF

plain_case yaml-multidoc-trailing-separator yaml yaml "A document followed by a bare '---': sops writes an empty second document holding only metadata." <<'EOF'
a: 1
---
EOF

plain_case yaml-anchors yaml yaml "Anchors, aliases and merge keys: aliases are expanded, '<<' merges are kept as written by sops." <<'EOF'
defaults: &defaults
    adapter: postgres
    host: localhost
    port: 5432
development:
    <<: *defaults
    database: dev
test:
    <<: *defaults
    database: test
    port: 5433
anchored_scalar: &val shared-value
alias_scalar: *val
list_anchor: &lst
    - one
    - two
list_alias: *lst
EOF

plain_case yaml-empty-values yaml yaml "Empty values: bare key (null), ~, null, \"\", '', empty map, empty list, map of nulls." <<'EOF'
bare:
tilde: ~
null_word: null
empty_double: ""
empty_single: ''
empty_map: {}
empty_list: []
nested:
    inner_bare:
    inner_empty: ""
list_with_nulls:
    - ~
    -
    - ""
EOF

plain_case yaml-key-order yaml yaml "Keys in non-alphabetical order and keys that sort oddly stay in file order." <<'EOF'
zeta: 1
alpha: 2
Mid: 3
_under: 4
"quoted key": 5
"123": 6
"": empty key
a.b.c: dotted
EOF

new_case yaml-empty-file yaml "An empty YAML file is refused by encrypt (exit 92)."
PLAIN=plain.yaml
: >"$PLAIN"
encrypt_fails 92 "File cannot be completely empty, it must contain at least one document" encrypt --age "$R1" "$PLAIN"
finish

new_case yaml-comment-only-file yaml "A YAML file holding only a comment is refused by encrypt (exit 2)."
PLAIN=plain.yaml
printf '# only a comment\n' >"$PLAIN"
encrypt_fails 2 "Error unmarshalling file" encrypt --age "$R1" "$PLAIN"
finish

new_case yaml-top-level-list yaml "A YAML document whose top level is a list is refused by encrypt (exit 2)."
PLAIN=plain.yaml
printf -- '- a\n- b\n' >"$PLAIN"
encrypt_fails 2 "cannot unmarshal !!seq into map[string]interface {}" encrypt --age "$R1" "$PLAIN"
finish

new_case yaml-non-string-key yaml "A mapping key that is an int is refused by encrypt (exit 23)."
PLAIN=plain.yaml
printf 'ok: 1\n1: one\n' >"$PLAIN"
encrypt_fails 23 "Tree contains a non-string key (type int)" encrypt --age "$R1" "$PLAIN"
finish

new_case yaml-uint64-value yaml "An integer above int64 is refused by encrypt (exit 23, unknown type uint64)."
PLAIN=plain.yaml
printf 'big: 9223372036854775808\n' >"$PLAIN"
encrypt_fails 23 "unknown type: uint64" encrypt --age "$R1" "$PLAIN"
finish

new_case yaml-already-encrypted yaml "An encrypted file given to encrypt is refused (exit 203)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$SCRATCH/p.yaml"
cp "$SCRATCH/p.yaml" "$CDIR/first.yaml"
encrypt_ok "$PLAIN" encrypt --age "$R1" first.yaml
rm "$CDIR/first.yaml"
encrypt_fails 203 "The file you have provided contains a top-level entry called 'sops'" encrypt --age "$R1" "$PLAIN"
ENC=""
finish

new_case yaml-plaintext-to-decrypt yaml "A plaintext file given to decrypt: 'sops metadata not found' (exit 1)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
ENC=$PLAIN INTEROP=false
decrypt_fails 1 "sops metadata not found" decrypt "$PLAIN"
finish

# -- selection rules from .sops.yaml ----------------------------------------------

# rule_case NAME DESCRIPTION RULE-LINE(S): plain from stdin, config with the rule
rule_case() {
    new_case "$1" yaml "$2"
    PLAIN=plain.yaml
    put "$PLAIN"
    printf 'creation_rules:\n    - age: %s\n%s\n' "$R1" "$3" >.sops.yaml
    encrypt_ok enc.yaml encrypt "$PLAIN"
    decrypt_ok expected.yaml decrypt enc.yaml
    finish
}

rule_case k8s-secret-encrypted-regex "A Kubernetes Secret with encrypted_regex '^(data|stringData)\$' from .sops.yaml: only data and stringData are encrypted." '      encrypted_regex: ^(data|stringData)$' <<'EOF'
apiVersion: v1
kind: Secret
metadata:
    name: db-credentials
    namespace: prod
    labels:
        app: db
type: Opaque
data:
    username: YWRtaW4=
    password: c3VwZXJzZWNyZXQ=
stringData:
    config.yaml: |
        host: db.internal
        port: 5432
EOF

RULE_PLAIN='# rule test input
name: plain-name
password: hunter2
api_key_secret: abc123
public_unencrypted: visible
nested:
    user: bob
    token_secret: xyz
    note_unencrypted: kept
    # sops:enc
    commented: covered-by-comment
# sops:enc
flagged: yes-encrypt
# keep:clear
clear: not-encrypted
list:
    - one
    # sops:enc
    - two'

rule_case rule-unencrypted-suffix "unencrypted_suffix from .sops.yaml: keys ending in _unencrypted (and everything below them) stay in clear." '      unencrypted_suffix: _unencrypted' <<<"$RULE_PLAIN"
rule_case rule-encrypted-suffix "encrypted_suffix from .sops.yaml: only keys ending in _secret are encrypted." '      encrypted_suffix: _secret' <<<"$RULE_PLAIN"
rule_case rule-unencrypted-regex "unencrypted_regex from .sops.yaml: keys matching ^(name|public.*|nested)\$ stay in clear." '      unencrypted_regex: ^(name|public.*|nested)$' <<<"$RULE_PLAIN"
rule_case rule-encrypted-regex "encrypted_regex from .sops.yaml: only keys matching ^(password|token.*)\$ are encrypted." '      encrypted_regex: ^(password|token.*)$' <<<"$RULE_PLAIN"
rule_case rule-encrypted-comment-regex "encrypted_comment_regex from .sops.yaml: only values under a comment matching sops:enc are encrypted." '      encrypted_comment_regex: sops:enc' <<<"$RULE_PLAIN"
rule_case rule-unencrypted-comment-regex "unencrypted_comment_regex from .sops.yaml: values under a comment matching keep:clear stay in clear." '      unencrypted_comment_regex: keep:clear' <<<"$RULE_PLAIN"
rule_case rule-mac-only-encrypted "mac_only_encrypted with encrypted_suffix from .sops.yaml: the MAC covers only encrypted values." '      encrypted_suffix: _secret
      mac_only_encrypted: true' <<<"$RULE_PLAIN"

new_case rule-mac-only-encrypted-clear-edit yaml "mac_only_encrypted: a clear value edited after encryption still decrypts (the MAC does not cover it)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$RULE_PLAIN"
printf 'creation_rules:\n    - age: %s\n      encrypted_suffix: _secret\n      mac_only_encrypted: true\n' "$R1" >.sops.yaml
encrypt_ok enc.yaml encrypt "$PLAIN"
tamper "changed the clear value of name from plain-name to edited-name" 's/^name: plain-name$/name: edited-name/m'
INTEROP=false
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case rule-two-selectors-refused yaml "Two selection settings in one creation rule: encrypt fails (exit 1)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$RULE_PLAIN"
printf 'creation_rules:\n    - age: %s\n      encrypted_suffix: _secret\n      unencrypted_suffix: _clear\n' "$R1" >.sops.yaml
encrypt_fails 1 "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex" encrypt "$PLAIN"
finish

new_case rule-encrypted-regex-flag yaml "--encrypted-regex on the command line (no config)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$RULE_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" --encrypted-regex '^pass' "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

# -- output options ---------------------------------------------------------------

INDENT_PLAIN='top:
    nested:
        deep: value
    list:
        - a
        - b: c
          d: e
# comment
other: 1'

new_case yaml-indent-2 yaml "--indent 2 (legacy global form) on encrypt and on decrypt."
PLAIN=plain.yaml
put "$PLAIN" <<<"$INDENT_PLAIN"
encrypt_ok enc.yaml --indent 2 -e --age "$R1" "$PLAIN"
decrypt_ok expected.yaml -d --indent 2 enc.yaml
finish

new_case yaml-indent-2-decrypt-only yaml "Encrypted with the default indent, decrypted with -d --indent 2."
PLAIN=plain.yaml
put "$PLAIN" <<<"$INDENT_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.yaml -d --indent 2 enc.yaml
finish

new_case yaml-stores-indent-config yaml "stores: yaml: indent: 2 in .sops.yaml."
PLAIN=plain.yaml
put "$PLAIN" <<<"$INDENT_PLAIN"
printf 'stores:\n    yaml:\n        indent: 2\ncreation_rules:\n    - age: %s\n' "$R1" >.sops.yaml
encrypt_ok enc.yaml encrypt "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case yaml-decrypt-output-json yaml "A YAML file decrypted with --output-type json."
PLAIN=plain.yaml
put "$PLAIN" <<'EOF'
name: demo
count: 3
ratio: 0.5
enabled: true
nothing: null
list:
    - 1
    - two
map:
    html: <b>&</b>
    unicode: café
EOF
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.json decrypt --output-type json enc.yaml
finish

new_case yaml-encrypt-output-json yaml "A YAML file encrypted with --output-type json (enc.json), decrypted as JSON."
PLAIN=plain.yaml
put "$PLAIN" <<'EOF'
name: demo
count: 3
nested:
    key: value
EOF
encrypt_ok enc.json encrypt --age "$R1" --output-type json "$PLAIN"
decrypt_ok expected.json decrypt enc.json
finish

new_case yaml-legacy-decrypt-stdin yaml "helm-secrets style: sops --decrypt --input-type yaml --output-type yaml /dev/stdin."
PLAIN=plain.yaml
put "$PLAIN" <<'EOF'
image:
    tag: v1
secret: from-stdin
EOF
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
STDIN=enc.yaml
decrypt_ok expected.yaml --decrypt --input-type yaml --output-type yaml /dev/stdin
finish

EXTRACT_PLAIN='db:
    user: admin
    port: 5432
    ratio: 0.25
    enabled: true
    hosts:
        - a.example
        - b.example
    options:
        ssl: true
        mode: verify-full'

# extract_case NAME DESCRIPTION PATH [EXT]
extract_case() {
    new_case "$1" yaml "$2"
    PLAIN=plain.yaml
    put "$PLAIN" <<<"$EXTRACT_PLAIN"
    encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
    decrypt_ok "expected.${4:-yaml}" decrypt --extract "$3" enc.yaml
    finish
}
extract_case yaml-extract-string "--extract of a string prints it with no trailing newline." '["db"]["user"]' txt
extract_case yaml-extract-number "--extract of an int prints it through the YAML store." '["db"]["port"]'
extract_case yaml-extract-float "--extract of a float." '["db"]["ratio"]'
extract_case yaml-extract-bool "--extract of a bool." '["db"]["enabled"]'
extract_case yaml-extract-map "--extract of a map." '["db"]["options"]'
extract_case yaml-extract-list "--extract of a list." '["db"]["hosts"]'
extract_case yaml-extract-list-item "--extract of a list item by index." '["db"]["hosts"][1]' txt

new_case yaml-extract-missing yaml "--extract of a key that does not exist (exit 1)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$EXTRACT_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
decrypt_fails 1 "error truncating tree: component ['nope'] not found" decrypt --extract '["db"]["nope"]' enc.yaml
finish

new_case yaml-extract-bad-path yaml "--extract with a malformed path (exit 91)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$EXTRACT_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
decrypt_fails 91 "error parsing --extract path" decrypt --extract '["db"' enc.yaml
finish

# -- keys -------------------------------------------------------------------------

new_case age-three-recipients yaml "Three age recipients (comma-separated --age); decrypted with the third key only."
PLAIN=plain.yaml
printf 'secret: for three\nlist:\n    - 1\n    - 2\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1,$R2,$R3" "$PLAIN"
IDENT=(key3.txt)
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case age-recipients-config-list yaml "Two age recipients as a YAML list in .sops.yaml; decrypted with the second key."
PLAIN=plain.yaml
printf 'secret: from config\n' >"$PLAIN"
printf 'creation_rules:\n    - age:\n        - %s\n        - %s\n' "$R1" "$R2" >.sops.yaml
encrypt_ok enc.yaml encrypt "$PLAIN"
IDENT=(key2.txt)
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case age-wrong-key yaml "Encrypted for key1, decrypted with key3 only: no key can decrypt the data key (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
IDENT=(key3.txt) RT_IDENT=(key1.txt)
decrypt_fails 128 "Failed to get the data key required to decrypt the SOPS file." decrypt enc.yaml
finish

new_case age-no-identity yaml "Encrypted for key1, decrypted with no identity at all (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
IDENT=() RT_IDENT=(key1.txt)
decrypt_fails 128 "failed to load age identities" decrypt enc.yaml
finish

# -- tampering --------------------------------------------------------------------

TAMPER_PLAIN='user: admin
password: hunter2
note_unencrypted: in clear
nested:
    token: abc'

new_case tampered-value yaml "One ciphertext byte changed: AES-GCM authentication fails (exit 25)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "flipped the first base64 character of password's data" "$(flip_data password)"
decrypt_fails 25 "Error decrypting tree" decrypt enc.yaml
finish

new_case tampered-value-ignore-mac yaml "A changed ciphertext still fails with --ignore-mac (exit 25)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "flipped the first base64 character of password's data" "$(flip_data password)"
decrypt_fails 25 "Could not decrypt value" decrypt --ignore-mac enc.yaml
finish

new_case tampered-mac yaml "The MAC's ciphertext changed: 'Cannot decrypt MAC' (exit 51)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "flipped the first base64 character of the mac's data" "$(flip_data mac)"
decrypt_fails 51 "Cannot decrypt MAC" decrypt enc.yaml
finish

new_case tampered-lastmodified yaml "lastmodified changed: the MAC (sealed with it as AAD) cannot be decrypted (exit 51)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "set lastmodified to 2001-02-03T04:05:06Z" 's/lastmodified: "[^"]*"/lastmodified: "2001-02-03T04:05:06Z"/'
decrypt_fails 51 "Cannot decrypt MAC" decrypt enc.yaml
finish

new_case mac-mismatch yaml "A clear (_unencrypted) value changed: MAC mismatch (exit 51)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "changed note_unencrypted from 'in clear' to 'edited'" 's/^note_unencrypted: in clear$/note_unencrypted: edited/m'
decrypt_fails 51 "MAC mismatch. File has" decrypt enc.yaml
finish

new_case mac-mismatch-ignore-mac yaml "The MAC-mismatch file decrypted with --ignore-mac: succeeds with the edited value."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "changed note_unencrypted from 'in clear' to 'edited'" 's/^note_unencrypted: in clear$/note_unencrypted: edited/m'
INTEROP=false
decrypt_ok expected.yaml decrypt --ignore-mac enc.yaml
finish

new_case swapped-values yaml "Two ciphertexts swapped between keys: the AAD (key path) no longer matches (exit 25)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "swapped the ENC[] values of user and password" 's/^user: (ENC\[[^\]]*\])\npassword: (ENC\[[^\]]*\])$/user: $2\npassword: $1/m'
decrypt_fails 25 "Error decrypting tree" decrypt enc.yaml
finish

new_case mac-removed yaml "The mac line removed from the metadata: MAC mismatch against 'no MAC' (exit 51)."
PLAIN=plain.yaml
put "$PLAIN" <<<"$TAMPER_PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" "$PLAIN"
tamper "deleted the '    mac: ...' line" 's/^    mac: ENC\[[^\n]*\n//m'
decrypt_fails 51 "MAC mismatch. File has no MAC" decrypt enc.yaml
finish

# ---- JSON ----------------------------------------------------------------------

plain_case json-types json json "Every JSON value type: strings, ints, negatives, floats, exponents, -0, big ints past 2^53, int64 limits, 1e300, bools, null, empty string, nested objects and arrays." <<'EOF'
{
  "string": "hello",
  "int": 42,
  "negative": -7,
  "zero": 0,
  "float": 3.14,
  "float_trailing_zero": 2.50,
  "exp": 1e10,
  "exp_upper": 2E-3,
  "exp_neg": 1.5e-7,
  "neg_zero": -0.0,
  "big_int": 9007199254740993,
  "int64_max": 9223372036854775807,
  "int64_min": -9223372036854775808,
  "huge": 1e300,
  "tiny": 5e-324,
  "true": true,
  "false": false,
  "null": null,
  "empty": "",
  "nested": {"a": [1, "two", 3.0, null, true, {"b": []}], "empty_obj": {}},
  "list": []
}
EOF

plain_case json-escapes json json "JSON string escapes: quotes, backslash, \\/, \\n \\t \\r \\b \\f, control characters, \\u escapes incl. a surrogate pair, <>& (re-escaped by Go), U+2028." <<'EOF'
{
  "quote": "say \"hi\"",
  "backslash": "C:\\path\\to",
  "slash": "a\/b",
  "whitespace": "line1\nline2\ttab\rcr",
  "bf": "\b\f",
  "control": "\u0001\u001f",
  "nul": "a\u0000b",
  "accent": "caf\u00e9",
  "astral": "\ud83d\ude00",
  "raw_utf8": "日本語 🚀",
  "html": "<a href=\"x\">&amp;</a>",
  "line_sep": "a\u2028b\u2029c",
  "key with \"quotes\"": "v",
  "clé": "unicode key"
}
EOF

plain_case json-nested json json "Deeply nested objects and arrays, arrays of arrays, arrays of objects, key order kept." <<'EOF'
{
  "z": {"y": {"x": {"w": {"v": "deep"}}}},
  "a": [[1, 2], [3, [4, [5]]]],
  "objs": [{"k": "v1", "n": 1}, {"k": "v2", "n": 2, "extra": {"flag": false}}],
  "mixed": [null, "s", 1, 1.5, true, {}, []]
}
EOF

plain_case json-compact json json "A compact one-line JSON file is re-emitted with sops's indentation." <<'EOF'
{"a":1,"b":[true,false],"c":{"d":"e"}}
EOF

new_case json-long-value json "A 16 KiB JSON string value."
PLAIN=plain.json
{
    printf '{"big": "'
    for i in $(seq 1 1024); do printf '0123456789abcdef'; done
    printf '", "after": 1}\n'
} >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.json decrypt enc.json
finish

new_case json-indent-2 json "--indent 2 (legacy global form) on JSON encrypt and decrypt."
PLAIN=plain.json
printf '{"a": {"b": [1, 2, {"c": "d"}]}, "e": "f"}\n' >"$PLAIN"
encrypt_ok enc.json --indent 2 -e --age "$R1" "$PLAIN"
decrypt_ok expected.json -d --indent 2 enc.json
finish

new_case json-stores-indent-config json "stores: json: indent: 3 in .sops.yaml."
PLAIN=plain.json
printf '{"a": {"b": [1, 2, {"c": "d"}]}, "e": "f"}\n' >"$PLAIN"
printf 'stores:\n    json:\n        indent: 3\ncreation_rules:\n    - age: %s\n' "$R1" >.sops.yaml
encrypt_ok enc.json encrypt "$PLAIN"
decrypt_ok expected.json decrypt enc.json
finish

new_case json-decrypt-output-yaml json "A JSON file decrypted with --output-type yaml."
PLAIN=plain.json
printf '{"name": "demo", "n": 3, "f": 1.5, "list": [1, "a"], "obj": {"k": null}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.yaml decrypt --output-type yaml enc.json
finish

new_case json-extract-string json "--extract of a JSON string: raw, no newline."
PLAIN=plain.json
printf '{"db": {"user": "admin", "port": 5432, "hosts": ["a", "b"], "opts": {"ssl": true}}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.txt decrypt --extract '["db"]["user"]' enc.json
finish

new_case json-extract-number json "--extract of a JSON number (JSON store, no newline)."
PLAIN=plain.json
printf '{"db": {"user": "admin", "port": 5432, "hosts": ["a", "b"], "opts": {"ssl": true}}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.json decrypt --extract '["db"]["port"]' enc.json
finish

new_case json-extract-map json "--extract of a JSON object."
PLAIN=plain.json
printf '{"db": {"user": "admin", "port": 5432, "hosts": ["a", "b"], "opts": {"ssl": true}}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.json decrypt --extract '["db"]["opts"]' enc.json
finish

new_case json-extract-list json "--extract of a JSON array."
PLAIN=plain.json
printf '{"db": {"user": "admin", "port": 5432, "hosts": ["a", "b"], "opts": {"ssl": true}}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.json decrypt --extract '["db"]["hosts"]' enc.json
finish

new_case json-unencrypted-regex-flag json "--unencrypted-regex on a JSON file."
PLAIN=plain.json
printf '{"public": "yes", "secret": "no", "nested": {"public_too": 1, "hidden": 2}}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" --unencrypted-regex '^public' "$PLAIN"
decrypt_ok expected.json decrypt enc.json
finish

new_case json-top-level-array json "A JSON file whose top level is an array is refused by encrypt (exit 2)."
PLAIN=plain.json
printf '[1, 2, 3]\n' >"$PLAIN"
encrypt_fails 2 "Expected JSON object start" encrypt --age "$R1" "$PLAIN"
finish

new_case json-empty-file json "An empty JSON file is refused by encrypt (exit 2)."
PLAIN=plain.json
: >"$PLAIN"
encrypt_fails 2 "Error unmarshalling file" encrypt --age "$R1" "$PLAIN"
finish

new_case json-number-overflow json "A JSON number beyond float64 (1e400) is refused by encrypt (exit 2)."
PLAIN=plain.json
printf '{"a": 1e400}\n' >"$PLAIN"
encrypt_fails 2 "cannot unmarshal number 1e400" encrypt --age "$R1" "$PLAIN"
finish

new_case json-already-encrypted json "An encrypted JSON file given to encrypt is refused (exit 203)."
PLAIN=plain.json
printf '{"secret": "value"}\n' >"$CDIR/first.json"
encrypt_ok "$PLAIN" encrypt --age "$R1" first.json
rm "$CDIR/first.json"
encrypt_fails 203 "The file you have provided contains a top-level entry called 'sops'" encrypt --age "$R1" "$PLAIN"
ENC=""
finish

new_case json-plaintext-to-decrypt json "A plaintext JSON file given to decrypt (exit 1)."
PLAIN=plain.json
printf '{"secret": "value"}\n' >"$PLAIN"
ENC=$PLAIN INTEROP=false
decrypt_fails 1 "sops metadata not found" decrypt "$PLAIN"
finish

new_case json-tampered-value json "A changed JSON ciphertext (exit 25)."
PLAIN=plain.json
printf '{"user": "admin", "password": "hunter2"}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$R1" "$PLAIN"
tamper "flipped the first base64 character of password's data" 's/("password": "ENC\[AES256_GCM,data:)(.)/$1.($2 eq "A" ? "B" : "A")/e'
decrypt_fails 25 "Error decrypting tree" decrypt enc.json
finish

# ---- dotenv, INI, binary (later issues) ----------------------------------------

plain_case dotenv-basic dotenv env "dotenv: plain, quoted and empty values, comments, a value with '=' and spaces (kept verbatim)." <<'EOF'
# database settings
DB_USER=admin
DB_PASSWORD=hunter2
QUOTED="double quoted"
SINGLE='single quoted'
EMPTY=
WITH_EQUALS=a=b=c
WITH_SPACES=one two  three
# trailing comment
EOF

new_case dotenv-unencrypted-suffix dotenv "dotenv with --unencrypted-suffix _PUBLIC."
PLAIN=plain.env
printf 'NAME_PUBLIC=visible\nSECRET=hidden\n' >"$PLAIN"
encrypt_ok enc.env encrypt --age "$R1" --unencrypted-suffix _PUBLIC "$PLAIN"
decrypt_ok expected.env decrypt enc.env
finish

plain_case ini-sections ini ini "INI: a default section, two named sections, ; and # comments, quoted values, unaligned '='." <<'EOF'
top = level
; semicolon comment
[database]
user = admin
password = "quoted secret"
# hash comment
port=5432

[server]
host = example.com
empty =
EOF

new_case binary-text binary "A text file with an unknown extension: the binary store wraps it as one 'data' value."
PLAIN=plain.txt
printf 'line one\nline two\n' >"$PLAIN"
encrypt_ok enc.bin encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.txt decrypt --input-type binary --output-type binary enc.bin
finish

new_case binary-non-utf8 binary "Bytes that are not UTF-8 (0x00, 0xff, 0x80...) in the binary store."
PLAIN=plain.bin
printf '\x00\x01\xff\xfe\x80abc\n\xc3\x28' >"$PLAIN"
encrypt_ok enc.bin encrypt --age "$R1" "$PLAIN"
decrypt_ok expected.bin decrypt enc.bin
finish

# The PGP, key-group, SSH and plugin cases (they need gpg and more keys).
SOPS=$SOPS bash "$ROOT/tests/gen-key-vectors.sh"

echo "gen-vectors: wrote $(find "$VEC" -name case.toml | wc -l) cases with sops $SOPS_VERSION into $VEC"
