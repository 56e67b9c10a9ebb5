//! The structure of an encrypted file with its random parts blanked: every
//! `ENC[...]` reduced to its `type:` tag, age and PGP armor, `lastmodified`,
//! `created_at` and `version` values replaced by placeholders.
//!
//! Two encryptions of one plaintext with the same options must then be
//! equal line for line: same keys in the same order, the same values
//! encrypted with the same type tags, the same comments, the same metadata
//! keys in the same order. Works on the text, so it covers YAML, JSON and
//! dotenv alike (the INI store's metadata order is random in sops, so INI
//! files are not compared this way).

use std::sync::OnceLock;

use regex::Regex;

struct Patterns {
    armor: Regex,
    pgp_armor: Regex,
    enc: Regex,
    time: Regex,
    version: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        armor: Regex::new(r"-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----").unwrap(),
        // gpg's and sequoia's messages differ in length and packet format.
        pgp_armor: Regex::new(r"-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----").unwrap(),
        enc: Regex::new(r"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]*,tag:[A-Za-z0-9+/=]*,type:([a-z]+)\]")
            .unwrap(),
        time: Regex::new(r#"((?:lastmodified|created_at)"?\s*[:=]\s*"?)[0-9][0-9T:.Z+-]*"#).unwrap(),
        version: Regex::new(r#"(version"?\s*[:=]\s*"?)[0-9]+\.[0-9]+\.[0-9]+"#).unwrap(),
    })
}

/// The skeleton of an encrypted file, one entry per line.
pub(crate) fn skeleton(text: &str) -> Vec<String> {
    let p = patterns();
    let text = p.armor.replace_all(text, "<age armor>");
    let text = p.pgp_armor.replace_all(&text, "<pgp armor>");
    let text = p.enc.replace_all(&text, "ENC[type:$1]");
    let mut in_sops = false;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if line == "---" {
                in_sops = false;
            } else if line == "sops:"
                || trimmed.starts_with("\"sops\": {")
                || line.starts_with("sops_")
                || line == "[sops]"
            {
                in_sops = true;
            }
            if in_sops || line.starts_with("sops_") {
                let l = p.time.replace_all(line, "${1}<time>");
                p.version.replace_all(&l, "${1}<version>").into_owned()
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// Compares the skeletons of two encrypted files; the error lists the
/// first differing lines.
pub(crate) fn compare(ours: &str, theirs: &str) -> Result<(), String> {
    let a = skeleton(ours);
    let b = skeleton(theirs);
    if a == b {
        return Ok(());
    }
    let mut diffs = Vec::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            diffs.push(format!(
                "line {}: rsops {:?} / sops {:?}",
                i + 1,
                x.map_or("<none>", String::as_str),
                y.map_or("<none>", String::as_str)
            ));
            if diffs.len() == 4 {
                break;
            }
        }
    }
    Err(format!(
        "structure differs ({} vs {} lines): {}",
        a.len(),
        b.len(),
        diffs.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::{compare, skeleton};

    const A: &str = "a: ENC[AES256_GCM,data:AbC=,iv:x+/y,tag:zz==,type:str]\n#ENC[AES256_GCM,data:q,iv:r,tag:s,type:comment]\nsops:\n    age:\n        - recipient: age1xyz\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            AAAA\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2024-01-02T03:04:05Z\"\n    mac: ENC[AES256_GCM,data:m,iv:n,tag:o,type:str]\n    version: 3.11.0\n";

    #[test]
    fn blanks_random_parts_only() {
        let s = skeleton(A);
        assert_eq!(s[0], "a: ENC[type:str]");
        assert_eq!(s[1], "#ENC[type:comment]");
        assert_eq!(s[6], "            <age armor>");
        assert_eq!(s[7], "    lastmodified: \"<time>\"");
        assert_eq!(s[9], "    version: <version>");
        let pgp = "          enc: |-\n            -----BEGIN PGP MESSAGE-----\n\n            hQEMA\n            =abcd\n            -----END PGP MESSAGE-----\n          fp: F\n";
        assert_eq!(skeleton(pgp), ["          enc: |-", "            <pgp armor>", "          fp: F"]);
    }

    #[test]
    fn detects_structural_changes() {
        let other = A
            .replace("2024-01-02T03:04:05Z", "2025-12-31T23:59:59.5Z")
            .replace("data:AbC=", "data:ZZZZ");
        assert!(compare(&other, A).is_ok());
        assert!(compare(&A.replace("type:str]\n#", "type:int]\n#"), A).is_err());
        assert!(compare(
            &A.replace(
                "a: ENC[AES256_GCM,data:AbC=,iv:x+/y,tag:zz==,type:str]",
                "a: clear"
            ),
            A
        )
        .is_err());
        assert!(compare(&A.replace("    version: 3.11.0\n", ""), A).is_err());
        // a user key named version outside the metadata is not blanked
        assert!(compare("version: 1.2.3\n", "version: 1.2.4\n").is_err());
        let json = "{\n\t\"a\": \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:float]\",\n\t\"sops\": {\n\t\t\"lastmodified\": \"2024-01-02T03:04:05Z\",\n\t\t\"version\": \"3.11.0\"\n\t}\n}";
        assert_eq!(skeleton(json)[3], "\t\t\"lastmodified\": \"<time>\",");
        assert_eq!(skeleton(json)[4], "\t\t\"version\": \"<version>\"");
    }
}
