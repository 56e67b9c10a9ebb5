//! The one walker: encryption, decryption and the MAC share it.
//!
//! sops has near-copies of this walk for each operation; here one visitor
//! keeps the path (the AAD, format.md §3), the state of the selection rule
//! (key matches on the path, active comments per level, §4.4) and the MAC
//! (§5.1), and each leaf is either sealed or opened in place.

use std::fmt::Write as _;
use std::collections::HashMap;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Branch, Item, Value};
use crate::crypt::mac::MacHasher;
use crate::crypt::rules::CryptRule;
use crate::crypt::value::{self, ValueType};
use crate::crypt::DataKey;

/// IVs remembered from decryption, keyed by a salted digest of (AAD, value),
/// never by the plaintext itself (format.md §2.6, STYLE §2). `edit`, `set`
/// and `rotate` reuse them so unchanged values keep their ciphertext.
pub struct IvCache {
    salt: [u8; 32],
    ivs: HashMap<[u8; 32], [u8; 32]>,
}

impl Default for IvCache {
    fn default() -> Self {
        let mut salt = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        IvCache { salt, ivs: HashMap::new() }
    }
}

impl IvCache {
    fn digest(&self, aad: &[u8], plain: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update((aad.len() as u64).to_le_bytes());
        h.update(aad);
        h.update(plain);
        h.finalize().into()
    }
}

/// A failure while walking; `message` is sops's text, `path` the leaf's keys.
#[derive(Debug)]
pub struct WalkError {
    pub message: String,
    pub path: Vec<String>,
}

impl WalkError {
    /// The path in `--extract` syntax, e.g. `["db"]["password"]`.
    pub fn path_display(&self) -> String {
        self.path.iter().fold(String::new(), |mut out, k| {
            let _ = write!(out, "[{k:?}]");
            out
        })
    }
}

/// What decryption found besides the values.
pub struct Decrypted {
    /// The MAC recomputed from the decrypted tree.
    pub mac: String,
    /// Non-fatal findings (plain comments in encrypted positions).
    pub warnings: Vec<String>,
}

enum Mode<'a> {
    Encrypt(Option<&'a IvCache>),
    Decrypt(Option<&'a mut IvCache>),
}

struct Walker<'a> {
    key: &'a DataKey,
    rule: &'a CryptRule,
    mac_only: bool,
    mode: Mode<'a>,
    mac: MacHasher,
    /// `key1:key2:` of the current position.
    aad: String,
    /// Where each key of the path starts in `aad`.
    bounds: Vec<usize>,
    /// Per open mapping/sequence: does an active comment match (comment rules)?
    comment_levels: Vec<bool>,
    warnings: Vec<String>,
}

/// Encrypts every selected leaf in place and returns the MAC of the plaintext.
pub fn encrypt(
    docs: &mut [Branch],
    key: &DataKey,
    rule: &CryptRule,
    mac_only: bool,
    ivs: Option<&IvCache>,
) -> Result<String, WalkError> {
    let mut w = Walker::new(key, rule, mac_only, Mode::Encrypt(ivs));
    for doc in docs {
        w.walk_map(doc, false)?;
    }
    Ok(w.mac.finish())
}

/// Decrypts every selected leaf in place and returns the recomputed MAC.
pub fn decrypt(
    docs: &mut [Branch],
    key: &DataKey,
    rule: &CryptRule,
    mac_only: bool,
    ivs: Option<&mut IvCache>,
) -> Result<Decrypted, WalkError> {
    let mut w = Walker::new(key, rule, mac_only, Mode::Decrypt(ivs));
    for doc in docs {
        w.walk_map(doc, false)?;
    }
    Ok(Decrypted { mac: w.mac.finish(), warnings: w.warnings })
}

const UNENCRYPTED_COMMENT_WARNING: &str = "Found possibly unencrypted comment in file. This is to be expected if the file being decrypted was created with an older version of SOPS.";

impl<'a> Walker<'a> {
    fn new(key: &'a DataKey, rule: &'a CryptRule, mac_only: bool, mode: Mode<'a>) -> Self {
        Walker {
            key,
            rule,
            mac_only,
            mode,
            mac: MacHasher::new(mac_only),
            aad: String::new(),
            bounds: Vec::new(),
            comment_levels: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn error(&self, message: String) -> WalkError {
        let mut path = Vec::with_capacity(self.bounds.len());
        for (i, &start) in self.bounds.iter().enumerate() {
            let end = self.bounds.get(i + 1).copied().unwrap_or(self.aad.len()) - 1;
            path.push(self.aad[start..end].to_owned());
        }
        WalkError { message, path }
    }

    fn any_comment_matches(&self) -> bool {
        self.comment_levels.iter().any(|&m| m)
    }

    /// Is a value leaf at the current position encrypted?
    fn value_encrypted(&self, key_matched: bool) -> bool {
        if self.rule.is_comment_rule() {
            self.rule.encrypts(self.any_comment_matches())
        } else {
            self.rule.encrypts(key_matched)
        }
    }

    /// Is a comment at the current position encrypted? Registers the comment
    /// as active first, except that under `encrypted_comment_regex` a comment
    /// never selects itself (format.md §4.4).
    fn comment_encrypted(&mut self, text: &str, key_matched: bool) -> bool {
        if !self.rule.is_comment_rule() {
            return self.rule.encrypts(key_matched);
        }
        let matches = self.rule.comment_matches(text);
        let before = self.any_comment_matches();
        if matches {
            if let Some(level) = self.comment_levels.last_mut() {
                *level = true;
            }
        }
        match self.rule {
            CryptRule::EncryptedCommentRegex(_) => before,
            _ => self.rule.encrypts(before || matches),
        }
    }

    fn end_item(&mut self) {
        if let Some(level) = self.comment_levels.last_mut() {
            *level = false;
        }
    }

    fn walk_map(&mut self, items: &mut [Item], key_matched: bool) -> Result<(), WalkError> {
        self.comment_levels.push(false);
        for item in items {
            match item {
                Item::Comment(text) => {
                    let enc = self.comment_encrypted(text, key_matched);
                    if enc {
                        if let Some(new) = self.transform_comment(text) {
                            *text = new;
                        }
                    }
                }
                Item::Pair(k, v) => {
                    let len = self.aad.len();
                    self.bounds.push(len);
                    self.aad.push_str(k);
                    self.aad.push(':');
                    let matched = key_matched || self.rule.key_matches(k);
                    self.walk_value(v, matched)?;
                    self.aad.truncate(len);
                    self.bounds.pop();
                    self.end_item();
                }
            }
        }
        self.comment_levels.pop();
        Ok(())
    }

    fn walk_value(&mut self, v: &mut Value, key_matched: bool) -> Result<(), WalkError> {
        match v {
            Value::Map(items) => self.walk_map(items, key_matched),
            Value::Seq(values) => {
                self.comment_levels.push(false);
                for elem in values {
                    if let Value::Comment(text) = elem {
                        let enc = self.comment_encrypted(text, key_matched);
                        if enc && text.is_empty() && matches!(self.mode, Mode::Encrypt(_)) {
                            // sops's cipher returns "" for an empty plaintext,
                            // so a bare `#` in a list becomes an empty string
                            // element.
                            *elem = Value::Str(String::new());
                        } else if enc {
                            if let Some(new) = self.transform_comment(text) {
                                // An encrypted comment inside a sequence is an
                                // ordinary string element (format.md §8.1.4);
                                // a decrypted one is a comment again.
                                *elem = match self.mode {
                                    Mode::Encrypt(_) => Value::Str(new),
                                    Mode::Decrypt(_) => Value::Comment(new),
                                };
                            }
                        }
                    } else {
                        self.walk_value(elem, key_matched)?;
                        self.end_item();
                    }
                }
                self.comment_levels.pop();
                Ok(())
            }
            Value::Null => Ok(()),
            Value::Comment(_) => unreachable!("comments are handled by their container"),
            _ => {
                let enc = self.value_encrypted(key_matched);
                self.leaf(v, enc)
            }
        }
    }

    /// Seals or opens a comment's text. `None` keeps it as it is.
    fn transform_comment(&mut self, text: &str) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        // A comment at the top of a document has the empty path, whose AAD
        // is `join([], ":") + ":"`, i.e. a lone colon (format.md §3.3).
        if self.aad.is_empty() {
            self.aad.push(':');
            let out = self.transform_comment(text);
            self.aad.clear();
            return out;
        }
        match &mut self.mode {
            Mode::Encrypt(ivs) => {
                let iv = ivs.and_then(|c| c.ivs.get(&c.digest(self.aad.as_bytes(), text.as_bytes())).copied());
                Some(value::encrypt(self.key, text.as_bytes(), self.aad.as_bytes(), ValueType::Comment, iv))
            }
            Mode::Decrypt(ivs) => {
                if let Ok(Value::Comment(plain)) = value::decrypt(self.key, text, self.aad.as_bytes()) {
                    if let (Some(cache), Some(iv)) = (ivs.as_deref_mut(), value::iv_of(text)) {
                        let d = cache.digest(self.aad.as_bytes(), plain.as_bytes());
                        cache.ivs.insert(d, iv);
                    }
                    Some(plain)
                } else {
                    // sops keeps such a comment in clear and only warns
                    // (format.md §10).
                    if !self.warnings.iter().any(|w| w == UNENCRYPTED_COMMENT_WARNING) {
                        self.warnings.push(UNENCRYPTED_COMMENT_WARNING.to_owned());
                    }
                    None
                }
            }
        }
    }

    fn leaf(&mut self, v: &mut Value, enc: bool) -> Result<(), WalkError> {
        let hash = !self.mac_only || enc;
        match &mut self.mode {
            Mode::Encrypt(ivs) => {
                let (plain, ty) = value::plaintext_of(v).expect("leaf values have plaintext");
                if hash {
                    self.mac.update(&plain);
                }
                if enc && !plain.is_empty() {
                    let iv = ivs.and_then(|c| c.ivs.get(&c.digest(self.aad.as_bytes(), &plain)).copied());
                    *v = Value::Str(value::encrypt(self.key, &plain, self.aad.as_bytes(), ty, iv));
                } else if enc && matches!(v, Value::Bytes(_)) {
                    *v = Value::Str(String::new());
                }
                Ok(())
            }
            Mode::Decrypt(ivs) => {
                if !enc {
                    if hash {
                        let (plain, _) = value::plaintext_of(v).expect("leaf values have plaintext");
                        self.mac.update(&plain);
                    }
                    return Ok(());
                }
                let Value::Str(s) = v else {
                    let kind = match v {
                        Value::Int(_) => "int",
                        Value::Float(_) => "float64",
                        Value::Bool(_) => "bool",
                        Value::Time(_) => "time.Time",
                        _ => "[]byte",
                    };
                    return Err(self.error(format!("Error walking tree: Expected encrypted value as string, but got {kind}")));
                };
                if s.is_empty() {
                    return Ok(());
                }
                let enc_text = std::mem::take(s);
                let decrypted = match value::decrypt(self.key, &enc_text, self.aad.as_bytes()) {
                    Ok(d) => d,
                    Err(e) => {
                        *s = enc_text;
                        return Err(self.error(format!("Error walking tree: Could not decrypt value: {e}")));
                    }
                };
                if let Some((plain, _)) = value::plaintext_of(&decrypted) {
                    // A leaf that decrypts to a comment is never part of the
                    // MAC: the 3.11 rule (format.md §5.8).
                    if hash && !matches!(decrypted, Value::Comment(_)) {
                        self.mac.update(&plain);
                    }
                    if let (Some(cache), Some(iv)) = (ivs.as_deref_mut(), value::iv_of(&enc_text)) {
                        let d = cache.digest(self.aad.as_bytes(), &plain);
                        cache.ivs.insert(d, iv);
                    }
                }
                *v = decrypted;
                Ok(())
            }
        }
    }
}

/// The MAC of a plaintext tree without encrypting it.
pub fn mac_of_plain(docs: &[Branch], rule: &CryptRule, mac_only: bool) -> String {
    // Encrypting a throwaway copy would cost AES work per leaf; instead walk
    // with a key that is never used for output and discard the result.
    let mut copy = docs.to_vec();
    let key = DataKey::generate();
    encrypt(&mut copy, &key, rule, mac_only, None).expect("encryption of a valid tree cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    fn sample() -> Vec<Branch> {
        vec![vec![
            Item::Comment(" top".into()),
            Item::pair("password", s("p")),
            Item::pair("user_unencrypted", s("u")),
            Item::pair(
                "data",
                Value::Map(vec![
                    Item::pair("n", Value::Int(5432)),
                    Item::pair("r", Value::Float(0.5)),
                    Item::pair("b", Value::Bool(true)),
                    Item::pair("e", s("")),
                    Item::pair("z", Value::Null),
                    Item::pair("l", Value::Seq(vec![s("a"), Value::Comment(" in list".into()), s("b")])),
                ]),
            ),
        ]]
    }

    #[test]
    fn round_trip_restores_tree_and_mac() {
        let key = DataKey::generate();
        let rule = CryptRule::default_rule();
        let mut docs = sample();
        let mac = encrypt(&mut docs, &key, &rule, false, None).unwrap();
        // The unencrypted suffix leaves that value in clear.
        assert!(super::super::get(&docs[0], "user_unencrypted") == Some(&s("u")));
        assert!(matches!(super::super::get(&docs[0], "password"), Some(Value::Str(p)) if p.starts_with("ENC[")));
        let out = decrypt(&mut docs, &key, &rule, false, None).unwrap();
        assert_eq!(out.mac, mac);
        assert!(docs == sample());
    }

    #[test]
    fn mac_hashes_values_in_order_without_separators() {
        // format.md §8.1.6: values hashed as their plaintext forms.
        let rule = CryptRule::default_rule();
        let mac = mac_of_plain(&sample(), &rule, false);
        let mut h = MacHasher::new(false);
        for part in ["p", "u", "5432", "0.5", "True", "", "a", "b"] {
            h.update(part.as_bytes());
        }
        assert_eq!(mac, h.finish());
    }

    #[test]
    fn moved_value_fails_with_path() {
        let key = DataKey::generate();
        let rule = CryptRule::default_rule();
        let mut docs = vec![vec![Item::pair("a", s("x")), Item::pair("b", s("y"))]];
        encrypt(&mut docs, &key, &rule, false, None).unwrap();
        let (Item::Pair(_, va), Item::Pair(_, vb)) = (docs[0][0].clone(), docs[0][1].clone()) else { panic!() };
        docs[0][0] = Item::Pair("a".into(), vb);
        docs[0][1] = Item::Pair("b".into(), va);
        let err = decrypt(&mut docs, &key, &rule, false, None).err().unwrap();
        assert!(err.message.contains("message authentication failed"));
        assert_eq!(err.path_display(), "[\"a\"]");
    }

    #[test]
    fn encrypted_comment_regex_keeps_marker_plain() {
        // format.md §4.4 example (first lines).
        let key = DataKey::generate();
        let rule = CryptRule::from_key("encrypted_comment_regex", "sops:enc").unwrap();
        let mut docs = vec![vec![
            Item::Comment(" sops:enc".into()),
            Item::pair("secret", s("s1")),
            Item::pair("normal", s("n1")),
        ]];
        encrypt(&mut docs, &key, &rule, false, None).unwrap();
        assert!(docs[0][0] == Item::Comment(" sops:enc".into()));
        assert!(matches!(&docs[0][1], Item::Pair(_, Value::Str(v)) if v.starts_with("ENC[")));
        assert!(docs[0][2] == Item::pair("normal", s("n1")));
    }

    #[test]
    fn top_level_comment_uses_colon_aad() {
        // format.md §8.1.6: written by sops 3.11 with this data key.
        let hex = "bd77914c742f945fd31bd88a4b4932e2a82b00d15f2ba6ded72132d3ec213ad9";
        let bytes: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let key = DataKey::from_slice(&bytes).unwrap();
        let enc = "ENC[AES256_GCM,data:uMouw/QFU+sLgTlVGTcOHTNL,iv:zpxoe4097Bq9nykNNICDhk4SzfraDNK4kniq/qFCHNg=,tag:jXxBN2QX1MhVtLQzC3hG6g==,type:comment]";
        let mut docs = vec![vec![Item::Comment(enc.into())]];
        let out = decrypt(&mut docs, &key, &CryptRule::default_rule(), false, None).unwrap();
        assert!(out.warnings.is_empty());
        assert!(docs[0][0] == Item::Comment(" database settings".into()));
    }

    #[test]
    fn iv_cache_makes_reencryption_stable() {
        let key = DataKey::generate();
        let rule = CryptRule::default_rule();
        let mut docs = sample();
        encrypt(&mut docs, &key, &rule, false, None).unwrap();
        let first = docs.clone();
        let mut cache = IvCache::default();
        decrypt(&mut docs, &key, &rule, false, Some(&mut cache)).unwrap();
        encrypt(&mut docs, &key, &rule, false, Some(&cache)).unwrap();
        assert!(docs == first);
    }
}
