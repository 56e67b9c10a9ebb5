#!/usr/bin/env bash
# Writes the vectors of testdata/vectors/ that need more than an age key
# file -- PGP (pgp-*), key groups (groups-*), SSH keys (age-ssh-*) and the
# test age plugin (age-plugin-*) -- with the real sops 3.11 and gpg,
# leaving every other vector alone.
# tests/gen-vectors.sh runs it at its end, so a full regeneration keeps them.
#
# The PGP keys are sops's own functional-test keys, testdata/keys/pgp/
# (secret keys FBC7… rsa2048 and D722… rsa1024, public-only B611…); each
# sops run gets a fresh GnuPG home with them imported when the case says
# `pgp = true`, an empty one otherwise.
#
# SSH keys are testdata/keys/ssh/ (copied into the run's ~/.ssh/ when the
# case lists them); the plugin is tests/plugin/age-plugin-rsopstest, put on
# PATH for every run, with its identity testdata/keys/age/plugin-rsopstest.txt.
#
# Sidecar fields are those of tests/gen-vectors.sh, plus:
#   pgp            import testdata/keys/pgp/*.asc into GNUPGHOME for every run
#   ssh_keys       files of testdata/keys/ssh/ copied into ~/.ssh/ for every run
#
# Usage: bash tests/gen-key-vectors.sh     (SOPS=/path/to/sops to choose sops)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VEC=$ROOT/testdata/vectors
KEYS=$ROOT/testdata/keys/age
PGP_KEYS=$ROOT/testdata/keys/pgp
SSH_KEYS=$ROOT/testdata/keys/ssh
PATH=$ROOT/tests/plugin:$PATH
SOPS=${SOPS:-sops}
SOPS=$(command -v "$SOPS") || { echo "gen-key-vectors: sops not found" >&2; exit 2; }
command -v gpg >/dev/null || { echo "gen-key-vectors: gpg not found" >&2; exit 2; }
SOPS_VERSION=$("$SOPS" --version --disable-version-check | head -n1 | awk '{print $2}')
case $SOPS_VERSION in
    3.11.*) ;;
    *) echo "gen-key-vectors: need sops 3.11.x, found $SOPS_VERSION" >&2; exit 2 ;;
esac

recipient() { sed -n 's/^# public key: //p' "$KEYS/$1.txt"; }
R1=$(recipient key1)
R2=$(recipient key2)
FP1=FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
FP2=D7229043384BCC60326C6FB9D8720D957C3D3074
FP3=B611A2F9F11D0FF82568805119F9B5DAEA91FF86

SCRATCH=$(mktemp -d)
H=$SCRATCH/home
cleanup() {
    [ -d "$H/gnupg" ] && GNUPGHOME=$H/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

toml_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
toml_list() {
    local out="[" sep="" a
    for a in "$@"; do out+="$sep$(toml_str "$a")"; sep=", "; done
    printf '%s]' "$out"
}

new_case() {
    NAME=$1 FORMAT=$2 DESC=$3
    CDIR=$VEC/$NAME
    rm -rf "$CDIR"
    mkdir -p "$CDIR"
    cd "$CDIR"
    STAGE=decrypt PLAIN="" ENC="" EXPECTED="" STDERR_HAS="" STDERR_FILE="" EXIT=0
    IDENT=() RT_IDENT=() PGP=true INTEROP=true SSH=()
    ENC_ARGV=() DEC_ARGV=()
}

# A fresh home (and GnuPG home) for each sops run, as the test sandbox has.
fresh_home() {
    [ -d "$H/gnupg" ] && GNUPGHOME=$H/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
    rm -rf "$H"
    mkdir -p "$H/.config"
    # Without keys the GnuPG home does not exist, as in the test sandbox.
    if [ "$PGP" = true ]; then
        mkdir -m 700 "$H/gnupg"
        GNUPGHOME=$H/gnupg gpg --batch --quiet --import "$PGP_KEYS"/*.asc 2>/dev/null
    fi
    local k
    for k in "${SSH[@]}"; do
        mkdir -p "$H/.ssh"
        cp "$SSH_KEYS/$k" "$H/.ssh/$k"
        chmod 600 "$H/.ssh/$k"
    done
}

# run_sops STDOUT STDERR [AGE KEYS...] -- ARGV...
run_sops() {
    local out=$1 err=$2; shift 2
    local keys=()
    while [ "$1" != -- ]; do keys+=("$1"); shift; done
    shift
    fresh_home
    local envs=(PATH="$PATH" HOME="$H" XDG_CONFIG_HOME="$H/.config" GNUPGHOME="$H/gnupg")
    if [ ${#keys[@]} -gt 0 ]; then
        local f=$SCRATCH/identity.txt k
        : >"$f"
        for k in "${keys[@]}"; do cat "$KEYS/$k" >>"$f"; done
        envs+=(SOPS_AGE_KEY_FILE="$f")
    fi
    local rc=0
    env -i "${envs[@]}" "$SOPS" "$@" </dev/null >"$out" 2>"$err" || rc=$?
    return $rc
}

encrypt_ok() {
    local out=$1; shift
    ENC=$out ENC_ARGV=("$@")
    local rc=0
    run_sops "$CDIR/$out" "$SCRATCH/err" -- "$@" || rc=$?
    if [ $rc -ne 0 ] || [ -s "$SCRATCH/err" ]; then
        echo "gen-key-vectors: $NAME: encrypt failed ($rc):" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
}

decrypt_ok() {
    EXPECTED=$1; shift
    DEC_ARGV=("$@") EXIT=0
    local rc=0
    run_sops "$CDIR/$EXPECTED" "$SCRATCH/err" "${IDENT[@]}" -- "$@" || rc=$?
    if [ $rc -ne 0 ] || [ -s "$SCRATCH/err" ]; then
        echo "gen-key-vectors: $NAME: decrypt failed ($rc):" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
}

# decrypt_fails CODE SUBSTRING ARGV...: SUBSTRING is one line of sops's
# stderr that rsops must print too (the whole text is kept in
# expected_stderr.txt; its wrapping depends on the length of the paths)
decrypt_fails() {
    local code=$1 has=$2; shift 2
    DEC_ARGV=("$@") EXIT=$code STDERR_HAS=$has
    local rc=0
    run_sops "$SCRATCH/out" "$SCRATCH/err" "${IDENT[@]}" -- "$@" || rc=$?
    local err
    err=$(cat "$SCRATCH/err")
    if [ -s "$SCRATCH/out" ] || [ "$rc" -ne "$code" ] || [[ "$err" != *"$has"* ]]; then
        echo "gen-key-vectors: $NAME: expected exit $code and '$has', got $rc:" >&2
        cat "$SCRATCH/err" >&2
        exit 1
    fi
    STDERR_FILE=expected_stderr.txt
    sed -e "s#$CDIR#[CWD]#g" -e "s#$H#[HOME]#g" "$SCRATCH/err" >"$CDIR/$STDERR_FILE"
}

finish() {
    [ ${#RT_IDENT[@]} -eq 0 ] && RT_IDENT=("${IDENT[@]}")
    {
        echo "# Written by tests/gen-key-vectors.sh with sops $SOPS_VERSION; do not edit."
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
        echo "stdin = \"\""
        echo "exit_code = $EXIT"
        echo "stderr_contains = $(toml_str "$STDERR_HAS")"
        echo "stderr_file = $(toml_str "$STDERR_FILE")"
        echo "edit = \"\""
        echo "interop = $INTEROP"
        echo "roundtrip_identity = $(toml_list "${RT_IDENT[@]}")"
        echo "pgp = $PGP"
        echo "ssh_keys = $(toml_list "${SSH[@]}")"
    } >"$CDIR/case.toml"
    cd "$VEC"
}

SECRETS='db_password: hunter2
api:
    token: abc123
    port: 8080
'

# ---- PGP ---------------------------------------------------------------------

new_case pgp-only yaml "One PGP key (sops's test key 1, rsa2048), decrypted from a GnuPG 2.2 home."
PLAIN=plain.yaml
printf '%s' "$SECRETS" >"$PLAIN"
encrypt_ok enc.yaml encrypt --pgp "$FP1" "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case pgp-two-keys json "Two PGP keys (rsa2048 and rsa1024) in one group."
PLAIN=plain.json
printf '{"password": "hunter2", "n": 3}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --pgp "$FP1,$FP2" "$PLAIN"
decrypt_ok expected.json decrypt enc.json
finish

new_case pgp-and-age yaml "age and PGP in one group; decrypted with the PGP key only (no age identity)."
PLAIN=plain.yaml
printf '%s' "$SECRETS" >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" --pgp "$FP1" "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case pgp-public-only-key yaml "Encrypted to a key whose secret is not in the keyring: both OpenPGP paths fail (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --pgp "$FP3" "$PLAIN"
decrypt_fails 128 "    - | could not decrypt data key with PGP key:" decrypt enc.yaml
finish

new_case pgp-empty-keyring yaml "A PGP file decrypted with an empty GnuPG home: sops's report, gpg's stderr included (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --pgp "$FP1" "$PLAIN"
PGP=false INTEROP=false
decrypt_fails 128 "      | gpg: decryption failed: No secret key" decrypt enc.yaml
finish

new_case pgp-decryption-order-report yaml "age+PGP, no usable key, --decryption-order pgp,age: the report lists PGP first (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$R1" --pgp "$FP3" "$PLAIN"
IDENT=(key3.txt) RT_IDENT=(key1.txt)
decrypt_fails 128 "Group 0: FAILED"$'\n'"  $FP3: FAILED"$'\n'"    - | could not decrypt data key with PGP key:" decrypt --decryption-order pgp,age enc.yaml
finish

# ---- key groups --------------------------------------------------------------

new_case groups-shamir-1-of-1 yaml "One key group (age + PGP) with shamir_threshold 1: a flat key list plus the threshold; decrypted with PGP."
PLAIN=plain.yaml
printf '%s' "$SECRETS" >"$PLAIN"
cat >.sops.yaml <<EOF
creation_rules:
  - shamir_threshold: 1
    key_groups:
      - age:
          - $R1
        pgp:
          - $FP1
EOF
encrypt_ok enc.yaml encrypt "$PLAIN"
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case groups-2of3-age-pgp json "Three groups (age key1, age key2, PGP), threshold 2; decrypted with key2 and PGP."
PLAIN=plain.json
printf '{"password": "hunter2", "list": [1, "two"]}\n' >"$PLAIN"
cat >.sops.yaml <<EOF
creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age:
          - $R1
      - age:
          - $R2
      - pgp:
          - $FP1
EOF
encrypt_ok enc.json encrypt "$PLAIN"
IDENT=(key2.txt)
decrypt_ok expected.json decrypt enc.json
finish

new_case groups-2of3-one-part yaml "Three groups, threshold 2, only key1 at hand: one part recovered, sops's Shamir report (exit 128)."
PLAIN=plain.yaml
printf 'secret: value\n' >"$PLAIN"
cat >.sops.yaml <<EOF
creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age:
          - $R1
      - age:
          - $R2
      - pgp:
          - $FP3
EOF
encrypt_ok enc.yaml encrypt "$PLAIN"
IDENT=(key1.txt) RT_IDENT=(key1.txt)
decrypt_fails 128 "Group 0: SUCCESS"$'\n\n'"Group 1: FAILED" decrypt enc.yaml
finish

new_case groups-default-threshold yaml "Two groups (age, PGP) without shamir_threshold: both are needed; decrypted with key1 and PGP."
PLAIN=plain.yaml
printf '%s' "$SECRETS" >"$PLAIN"
cat >.sops.yaml <<EOF
creation_rules:
  - key_groups:
      - age:
          - $R1
      - pgp:
          - $FP1
EOF
encrypt_ok enc.yaml encrypt "$PLAIN"
IDENT=(key1.txt)
decrypt_ok expected.yaml decrypt enc.yaml
finish

# ---- age: SSH keys and plugins ------------------------------------------------

recipient_line() { cut -d' ' -f1-3 "$SSH_KEYS/$1.pub"; }

new_case age-ssh-ed25519 yaml "An ssh-ed25519 recipient; decrypted with ~/.ssh/id_ed25519."
PLAIN=plain.yaml PGP=false
printf '%s' "$SECRETS" >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$(recipient_line id_ed25519)" "$PLAIN"
SSH=(id_ed25519)
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case age-ssh-rsa json "An ssh-rsa recipient next to an X25519 one; decrypted with ~/.ssh/id_rsa only."
PLAIN=plain.json PGP=false
printf '{"password": "hunter2"}\n' >"$PLAIN"
encrypt_ok enc.json encrypt --age "$(recipient_line id_rsa),$R1" "$PLAIN"
SSH=(id_rsa)
decrypt_ok expected.json decrypt enc.json
finish

new_case age-ssh-wrong-key yaml "Encrypted to the ed25519 SSH key, only ~/.ssh/id_rsa at hand (exit 128)."
PLAIN=plain.yaml PGP=false
printf 'secret: value\n' >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$(recipient_line id_ed25519)" "$PLAIN"
SSH=(id_rsa)
decrypt_fails 128 "    - | failed to create reader for decrypting sops data key with" decrypt enc.yaml
RT_IDENT=() SSH=(id_rsa)
finish

PLUGIN_R=$(sed -n 's/^# public key: //p' "$KEYS/plugin-rsopstest.txt")

new_case age-plugin yaml "A recipient of the test age plugin (age-plugin-rsopstest on PATH); decrypted with its AGE-PLUGIN identity."
PLAIN=plain.yaml PGP=false
printf '%s' "$SECRETS" >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$PLUGIN_R" "$PLAIN"
IDENT=(plugin-rsopstest.txt)
decrypt_ok expected.yaml decrypt enc.yaml
finish

new_case age-plugin-and-x25519 yaml "A plugin recipient and an X25519 one in one group; decrypted with the X25519 key, the plugin never asked."
PLAIN=plain.yaml PGP=false
printf '%s' "$SECRETS" >"$PLAIN"
encrypt_ok enc.yaml encrypt --age "$PLUGIN_R,$R1" "$PLAIN"
IDENT=(key1.txt)
decrypt_ok expected.yaml decrypt enc.yaml
finish

echo "gen-key-vectors: wrote the pgp-*, groups-*, age-ssh-* and age-plugin-* cases with sops $SOPS_VERSION into $VEC"
