//! Tree paths in sops's `["a"][0]` syntax, used by `--extract`, `set` and
//! `unset` (cli.md §3.6).

use super::{Item, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    Key(String),
    Index(usize),
}

/// Parses a path exactly as sops splits it: on every `[`, each piece must end
/// with `]`; a quoted piece is a key (its first and last characters dropped),
/// anything else an integer index. An empty string is the empty path.
///
/// sops panics on `[]` and on negative indexes; both are errors here.
pub fn parse(s: &str) -> Result<Vec<Component>, String> {
    let mut out = Vec::new();
    for piece in s.split('[').filter(|p| !p.is_empty()) {
        let Some(inner) = piece.strip_suffix(']') else {
            return Err(format!("component {piece} doesn't end with ]"));
        };
        if inner.starts_with('"') || inner.starts_with('\'') {
            // The closing quote is not checked, as in sops.
            let mut chars = inner.chars();
            chars.next();
            chars.next_back();
            out.push(Component::Key(chars.as_str().to_owned()));
        } else if inner.is_empty() {
            return Err("component [] is empty".to_owned());
        } else {
            let digits = inner.strip_prefix(['+', '-']).unwrap_or(inner);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("strconv.Atoi: parsing {inner:?}: invalid syntax"));
            }
            let n: i64 = inner.parse().map_err(|_| format!("strconv.Atoi: parsing {inner:?}: value out of range"))?;
            let n = usize::try_from(n).map_err(|_| format!("component [{n}] is a negative index"))?;
            out.push(Component::Index(n));
        }
    }
    Ok(out)
}

/// Follows a path from a document's items (sops's `Truncate`).
pub fn lookup<'a>(doc: &'a [Item], path: &[Component]) -> Result<&'a Value, String> {
    let mut current: Option<&Value> = None;
    for c in path {
        match c {
            Component::Key(k) => {
                let items: &[Item] = match current {
                    None => doc,
                    Some(Value::Map(items)) => items,
                    Some(_) => return Err(format!("component ['{k}'] not found")),
                };
                current = Some(super::get(items, k).ok_or_else(|| format!("component ['{k}'] not found"))?);
            }
            Component::Index(i) => match current {
                Some(Value::Seq(values)) => {
                    current = Some(values.get(*i).ok_or_else(|| format!("component [{i}] accesses out of bounds"))?);
                }
                _ => return Err(format!("component [{i}] is integer, but tree part is not a slice")),
            },
        }
    }
    current.ok_or_else(|| "empty path".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_syntax() {
        assert_eq!(parse(r#"["a"][0]['b']"#).unwrap(), vec![
            Component::Key("a".into()),
            Component::Index(0),
            Component::Key("b".into())
        ]);
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("a[0]").unwrap_err(), "component a doesn't end with ]");
        assert_eq!(parse("[x]").unwrap_err(), "strconv.Atoi: parsing \"x\": invalid syntax");
        assert!(parse("[]").is_err());
        assert!(parse("[-1]").is_err());
    }

    #[test]
    fn looks_up_values() {
        let doc = vec![Item::pair("a", Value::Seq(vec![Value::Str("x".into())]))];
        let p = parse(r#"["a"][0]"#).unwrap();
        assert!(lookup(&doc, &p).unwrap() == &Value::Str("x".into()));
        assert_eq!(lookup(&doc, &parse(r#"["b"]"#).unwrap()).unwrap_err(), "component ['b'] not found");
        assert_eq!(lookup(&doc, &parse(r#"["a"][3]"#).unwrap()).unwrap_err(), "component [3] accesses out of bounds");
    }
}
