//! The one document tree every store parses into and emits from.
//!
//! A file is a list of [`Branch`]es (YAML documents; every other store has one).
//! A branch is an ordered list of [`Item`]s: key/value pairs and comments, in file
//! order. Values are typed the way sops types them (format.md §1, §2.4), so the
//! walker can turn each leaf into the exact plaintext bytes sops encrypts.
//!
//! The tree knows nothing about encryption or any store's syntax; `walk.rs` owns
//! paths, AAD and the MAC, and each store owns its text form.

pub mod number;
pub mod path;
pub mod walk;

/// One document: an ordered mapping whose items may be comments.
pub type Branch = Vec<Item>;

/// An entry of a mapping.
#[derive(Clone, PartialEq)]
pub enum Item {
    /// `key: value`. Keys are always strings (sops refuses other keys, §8.1.1).
    Pair(String, Value),
    /// A comment line between entries; the text excludes the leading `#`/`;`.
    Comment(String),
}

impl Item {
    pub fn pair(key: impl Into<String>, value: Value) -> Self {
        Item::Pair(key.into(), value)
    }
}

/// A node of the tree.
///
/// `Comment` appears only as an element of a [`Value::Seq`]; inside mappings
/// comments are [`Item::Comment`]s. sops keeps the two apart the same way
/// (an encrypted comment inside a sequence becomes a plain string element,
/// format.md §8.1.4).
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// A string that is not valid UTF-8 (binary, dotenv and INI pass such bytes
    /// through). Encrypted with `type:str` like any string.
    Bytes(Vec<u8>),
    /// A YAML timestamp, held in the form Go's `time.MarshalText` writes
    /// (RFC 3339, nanoseconds with trailing zeros trimmed).
    Time(String),
    Map(Vec<Item>),
    Seq(Vec<Value>),
    /// A comment that is an element of a sequence.
    Comment(String),
}

impl Value {
    /// The entries of a mapping, or `None`.
    pub fn as_map(&self) -> Option<&Vec<Item>> {
        match self {
            Value::Map(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The name sops uses for this value's type in messages (`int`, `string`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::Bytes(_) => "string",
            Value::Time(_) => "time.Time",
            Value::Map(_) => "map",
            Value::Seq(_) => "slice",
            Value::Comment(_) => "comment",
        }
    }

    /// Go's `%T` of the value sops would hold (`<nil>`, `sops.TreeBranch`,
    /// `[]interface {}`, ...), for the messages that print it.
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Null => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::Bytes(_) => "string",
            Value::Time(_) => "time.Time",
            Value::Map(_) => "sops.TreeBranch",
            Value::Seq(_) => "[]interface {}",
            Value::Comment(_) => "sops.Comment",
        }
    }
}

/// Looks up `key` among the pairs of a mapping (first match, as sops does).
pub fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a Value> {
    items.iter().find_map(|item| match item {
        Item::Pair(k, v) if k == key => Some(v),
        _ => None,
    })
}

/// Removes every top-level pair named `key` and returns the first one's value.
pub fn take(items: &mut Vec<Item>, key: &str) -> Option<Value> {
    let mut found = None;
    items.retain_mut(|item| match item {
        Item::Pair(k, v) if k == key => {
            if found.is_none() {
                found = Some(std::mem::replace(v, Value::Null));
            }
            false
        }
        _ => true,
    });
    found
}

// Debug is written by hand so that a stray `{:?}` can never print a plaintext
// value (STYLE §4): the shape is shown, the contents are not.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Map(items) => f.debug_list().entries(items).finish(),
            Value::Seq(values) => f.debug_list().entries(values).finish(),
            other => write!(f, "<{}>", other.kind_name()),
        }
    }
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Pair(k, v) => write!(f, "{k:?}: {v:?}"),
            Item::Comment(_) => f.write_str("<comment>"),
        }
    }
}
