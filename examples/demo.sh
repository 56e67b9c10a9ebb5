#!/usr/bin/env bash
# Builds rsops and runs a real example: a fresh age key, a .sops.yaml with a
# creation rule, a Kubernetes Secret encrypted with encrypted_regex (only
# data/stringData are encrypted), then decrypted and checked byte for byte.
#
# Usage: bash examples/demo.sh        (needs age-keygen: apt-get install age)
#        RSOPS=/path/to/binary bash examples/demo.sh   (skip the build)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${RSOPS:-}" ]; then
    echo "== cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    target=${CARGO_TARGET_DIR:-target}
    case $target in /*) ;; *) target=$ROOT/$target ;; esac
    RSOPS=$target/release/rsops
fi
command -v age-keygen >/dev/null || { echo "demo: age-keygen not found (apt-get install age)" >&2; exit 1; }

# Keys and settings from the caller's environment would change the result.
for v in $(env | sed -n 's/^\(SOPS_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

age-keygen -o key.txt 2>/dev/null
RECIPIENT=$(age-keygen -y key.txt)

cat >.sops.yaml <<EOF
creation_rules:
    - path_regex: \.yaml\$
      encrypted_regex: ^(data|stringData)\$
      age: $RECIPIENT
EOF

# Written the way sops prints YAML (4-space indent), so the round trip is exact.
cat >secret.yaml <<'EOF'
apiVersion: v1
kind: Secret
metadata:
    name: db-credentials
    namespace: demo
type: Opaque
data:
    username: YWRtaW4=
stringData:
    password: correct horse battery staple
EOF

echo "== .sops.yaml"
cat .sops.yaml
echo "== rsops encrypt secret.yaml > secret.enc.yaml"
"$RSOPS" encrypt secret.yaml >secret.enc.yaml
cat secret.enc.yaml
echo "== SOPS_AGE_KEY_FILE=key.txt rsops decrypt secret.enc.yaml"
SOPS_AGE_KEY_FILE=key.txt "$RSOPS" decrypt secret.enc.yaml | tee decrypted.yaml
echo "== rsops decrypt --extract '[\"stringData\"][\"password\"]' secret.enc.yaml"
SOPS_AGE_KEY_FILE=key.txt "$RSOPS" decrypt --extract '["stringData"]["password"]' secret.enc.yaml
echo
cmp -s secret.yaml decrypted.yaml || { echo "demo: round trip differs" >&2; diff secret.yaml decrypted.yaml >&2; exit 1; }
grep -q '^kind: Secret$' secret.enc.yaml || { echo "demo: kind should stay in clear" >&2; exit 1; }
grep -q '^    password: ENC\[AES256_GCM,' secret.enc.yaml || { echo "demo: password should be encrypted" >&2; exit 1; }
echo "== OK: only data/stringData were encrypted, and decryption gave back the exact input"
