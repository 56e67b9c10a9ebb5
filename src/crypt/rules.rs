//! Which leaves are encrypted: the six selection rules (format.md §4), one
//! enum compiled once, instead of sops's six optional strings re-checked per
//! leaf.

use regex::Regex;

/// The active encryption-selection rule of a file.
#[derive(Clone, Debug)]
pub enum CryptRule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

/// The metadata key names, in the order sops writes them (format.md §6.4).
pub const RULE_KEYS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// sops's default when no rule is chosen.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

impl CryptRule {
    /// Builds a rule from its metadata key and value. Regexes use RE2 syntax,
    /// which the `regex` crate follows, and are unanchored searches.
    pub fn from_key(key: &str, value: &str) -> Result<Self, String> {
        let re = || Regex::new(value).map_err(|e| format!("can not compile regexp: {e}"));
        Ok(match key {
            "unencrypted_suffix" => CryptRule::UnencryptedSuffix(value.to_owned()),
            "encrypted_suffix" => CryptRule::EncryptedSuffix(value.to_owned()),
            "unencrypted_regex" => CryptRule::UnencryptedRegex(re()?),
            "encrypted_regex" => CryptRule::EncryptedRegex(re()?),
            "unencrypted_comment_regex" => CryptRule::UnencryptedCommentRegex(re()?),
            "encrypted_comment_regex" => CryptRule::EncryptedCommentRegex(re()?),
            other => return Err(format!("unknown encryption rule {other}")),
        })
    }

    pub fn default_rule() -> Self {
        CryptRule::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_owned())
    }

    /// The metadata key under which the rule is recorded.
    pub fn key(&self) -> &'static str {
        match self {
            CryptRule::UnencryptedSuffix(_) => RULE_KEYS[0],
            CryptRule::EncryptedSuffix(_) => RULE_KEYS[1],
            CryptRule::UnencryptedRegex(_) => RULE_KEYS[2],
            CryptRule::EncryptedRegex(_) => RULE_KEYS[3],
            CryptRule::UnencryptedCommentRegex(_) => RULE_KEYS[4],
            CryptRule::EncryptedCommentRegex(_) => RULE_KEYS[5],
        }
    }

    /// The recorded value (suffix or regex source).
    pub fn value(&self) -> &str {
        match self {
            CryptRule::UnencryptedSuffix(s) | CryptRule::EncryptedSuffix(s) => s,
            CryptRule::UnencryptedRegex(r)
            | CryptRule::EncryptedRegex(r)
            | CryptRule::UnencryptedCommentRegex(r)
            | CryptRule::EncryptedCommentRegex(r) => r.as_str(),
        }
    }

    /// Whether a mapping key on the path "matches" for a key-based rule.
    /// Comment rules never match keys.
    pub fn key_matches(&self, key: &str) -> bool {
        match self {
            CryptRule::UnencryptedSuffix(s) | CryptRule::EncryptedSuffix(s) => key.ends_with(s.as_str()),
            CryptRule::UnencryptedRegex(r) | CryptRule::EncryptedRegex(r) => r.is_match(key),
            CryptRule::UnencryptedCommentRegex(_) | CryptRule::EncryptedCommentRegex(_) => false,
        }
    }

    /// Whether a comment text "matches" for a comment rule.
    pub fn comment_matches(&self, text: &str) -> bool {
        match self {
            CryptRule::UnencryptedCommentRegex(r) | CryptRule::EncryptedCommentRegex(r) => r.is_match(text),
            _ => false,
        }
    }

    pub fn is_comment_rule(&self) -> bool {
        matches!(self, CryptRule::UnencryptedCommentRegex(_) | CryptRule::EncryptedCommentRegex(_))
    }

    /// Given whether any key on the path matched (key rules) or any active
    /// comment matched (comment rules), is the leaf encrypted?
    pub fn encrypts(&self, matched: bool) -> bool {
        match self {
            CryptRule::UnencryptedSuffix(_) | CryptRule::UnencryptedRegex(_) | CryptRule::UnencryptedCommentRegex(_) => {
                !matched
            }
            CryptRule::EncryptedSuffix(_) | CryptRule::EncryptedRegex(_) | CryptRule::EncryptedCommentRegex(_) => {
                matched
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_unanchored_search() {
        let r = CryptRule::from_key("encrypted_regex", "ass").unwrap();
        assert!(r.key_matches("password"));
        assert!(r.encrypts(true) && !r.encrypts(false));
    }

    #[test]
    fn suffix_is_byte_suffix() {
        let r = CryptRule::default_rule();
        assert!(r.key_matches("b_unencrypted"));
        assert!(!r.key_matches("b_unencrypted_not"));
        assert_eq!(r.key(), "unencrypted_suffix");
    }
}
