//! The YAML store: sops 3.11's YAML files, read and written byte for byte as
//! go-yaml v3 (module `go.yaml.in/yaml/v3` 3.0.4) does (format.md §8.1).
//!
//! Reading goes text → tokens and comments (`scanner`) → events (`parser`)
//! → go-yaml nodes (`compose`) → the sops tree, with sops's comment placement
//! (`stores/yaml/store.go` in sops: head, line and foot comments become
//! `Item::Comment`s before/after entries, `Value::Comment`s in sequences).
//! Writing goes the sops tree → go-yaml nodes with sops's comment placement →
//! events → text (`emitter`). Scalar typing is in `resolve`.
//!
//! This module owns no encryption and no metadata handling: the `sops` entry
//! is an ordinary entry of each document here.
//!
//! Why a parser of our own: no Rust YAML crate reports comments, and sops's
//! comment placement is decided inside go-yaml's scanner (see `scanner`).
//! The scanner, parser and emitter therefore follow the design of libyaml as
//! go-yaml v3 carries it (both MIT-licensed, go-yaml's own parts also
//! Apache-2.0), re-implemented in Rust so that every token, comment and
//! layout decision comes out as sops makes it.

mod compose;
pub(crate) use compose::terror_value;
mod emitter;
mod parser;
mod reader;
mod resolve;
mod scanner;

use std::collections::HashSet;

use super::{Store, StoreError, StoreOptions, StoreResult};
use crate::tree::number::format_float_g;
use crate::tree::{Branch, Item, Value};
use compose::{Composer, Node, NodeId, NodeKind};
use emitter::{EmitEvent, Emitter, EvKind};
use resolve::{Resolved, BINARY_TAG, MERGE_TAG, NULL_TAG, STR_TAG};
use scanner::ScalarStyle;

/// Prefix of the errors sops's tree walk reports (non-string key, uint64
/// value). sops prints them as `Error encrypting tree: Error walking tree: …`
/// and exits 23 on encryption; here they come from loading, since the tree
/// cannot hold such keys or values.
pub const WALK_ERROR_PREFIX: &str = "Error walking tree: ";

/// sops's default YAML indentation.
const INDENT_DEFAULT: i64 = 4;

/// Upper bound on values created while expanding aliases, against
/// "billion laughs" documents (go-yaml refuses those in the first document
/// with the same message; sops would expand later ones without limit).
const MAX_EXPANDED_VALUES: usize = 50_000_000;

pub struct YamlStore {
    options: StoreOptions,
}

impl YamlStore {
    pub fn new(options: StoreOptions) -> Self {
        Self { options }
    }

    fn indentation(&self) -> StoreResult<i64> {
        match self.options.indent {
            Some(n) if n > 0 => Ok(n),
            Some(n) if n < 0 => Err(StoreError(
                "YAML Negative indentation not accepted".to_owned(),
            )),
            _ => Ok(INDENT_DEFAULT),
        }
    }
}

impl Store for YamlStore {
    fn load_plain(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        load(input, Mode::Plain)
    }

    fn load_encrypted(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        load(input, Mode::Encrypted)
    }

    fn emit(&self, docs: &[Branch]) -> StoreResult<Vec<u8>> {
        let indent = self.indentation()?;
        let mut events = vec![EmitEvent::new(EvKind::StreamStart)];
        for doc in docs {
            events.push(EmitEvent::new(EvKind::DocumentStart));
            node_events(branch_node(doc), String::new(), &mut events);
            events.push(EmitEvent::new(EvKind::DocumentEnd));
        }
        events.push(EmitEvent::new(EvKind::StreamEnd));
        Ok(Emitter::new(&events, indent).run().into_bytes())
    }

    /// sops's `EmitValue` is `yaml.Marshal`, which always indents by 4.
    fn emit_value(&self, value: &Value) -> StoreResult<Vec<u8>> {
        let mut events = vec![
            EmitEvent::new(EvKind::StreamStart),
            EmitEvent::new(EvKind::DocumentStart),
        ];
        node_events(value_node(value), String::new(), &mut events);
        events.push(EmitEvent::new(EvKind::DocumentEnd));
        events.push(EmitEvent::new(EvKind::StreamEnd));
        Ok(Emitter::new(&events, INDENT_DEFAULT).run().into_bytes())
    }
}

// ---------------------------------------------------------------------------
// Loading

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Encrypted,
}

fn load(input: &[u8], mode: Mode) -> StoreResult<Vec<Branch>> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    // Text of the error wrapping go-yaml errors, as in sops's YAML store: the
    // first document is decoded separately before the node pass (plaintext:
    // the unique-keys check, errors unwrapped; encrypted: the metadata
    // decode).
    let first_doc_prefix = match mode {
        Mode::Plain => "",
        Mode::Encrypted => "Error unmarshalling input yaml: ",
    };
    let later_prefix = "Error unmarshaling input YAML: ";
    let chars = reader::decode(input).map_err(|e| StoreError(format!("{first_doc_prefix}{e}")))?;
    let mut composer = Composer::new(&chars);
    let mut doc_ids = Vec::new();
    loop {
        let prefix = if doc_ids.is_empty() {
            first_doc_prefix
        } else {
            later_prefix
        };
        match composer.next_document() {
            Ok(Some(doc)) => {
                if doc_ids.is_empty() {
                    first_document_checks(&composer.nodes, doc, mode)
                        .map_err(|e| StoreError(format!("{prefix}{e}")))?;
                }
                doc_ids.push(doc);
            }
            Ok(None) => break,
            Err(e) => return Err(StoreError(format!("{prefix}{e}"))),
        }
    }
    if doc_ids.is_empty() && mode == Mode::Plain {
        // go-yaml's Decode reports io.EOF for a stream without documents.
        return Err(StoreError("EOF".to_owned()));
    }
    let mut conv = Converter {
        nodes: &composer.nodes,
        walk_error: None,
        active: HashSet::new(),
        created: 0,
    };
    let mut branches = Vec::with_capacity(doc_ids.len());
    for doc in doc_ids {
        let mut branch = Vec::new();
        conv.append_to_branch(doc, &mut branch, false)
            .map_err(|e| StoreError(format!("{later_prefix}{e}")))?;
        branches.push(branch);
    }
    if let Some(e) = conv.walk_error {
        return Err(StoreError(e));
    }
    Ok(branches)
}

fn first_document_checks(nodes: &[Node], doc: NodeId, mode: Mode) -> Result<(), String> {
    match mode {
        Mode::Plain => compose::decode_into_string_map(nodes, doc),
        Mode::Encrypted => {
            // Only the top level and the `sops` entry are decoded into Go
            // structs, so only there are duplicate keys an error.
            let mut errors = Vec::new();
            compose::duplicate_key_errors(nodes, doc, false, &mut errors);
            if errors.is_empty() {
                if let Some(&root) = nodes[doc].content.first() {
                    let root_node = &nodes[root];
                    if root_node.kind == NodeKind::Mapping {
                        for pair in root_node.content.chunks(2) {
                            if pair.len() == 2 && nodes[pair[0]].value == "sops" {
                                compose::duplicate_key_errors(nodes, pair[1], true, &mut errors);
                            }
                        }
                    }
                }
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "yaml: unmarshal errors:\n  {}",
                    errors.join("\n  ")
                ))
            }
        }
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padded, strict, but line breaks
/// are skipped.
pub(super) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let cleaned: String = s.chars().filter(|&c| c != '\n' && c != '\r').collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()
}

/// What a scalar node decodes to, as sops's `node.Decode(&interface{})`.
enum Decoded {
    Value(Value),
    Uint(u64),
}

/// Builds sops's tree from go-yaml nodes (sops `appendYamlNodeToTreeBranch`,
/// `nodeToTreeValue`).
struct Converter<'n> {
    nodes: &'n [Node],
    /// The first error sops's tree walk would report (non-string key, uint64
    /// value), in walk order; the tree is still built so that later syntax
    /// errors win as they do in sops.
    walk_error: Option<String>,
    /// Aliases being expanded, to refuse cycles.
    active: HashSet<NodeId>,
    created: usize,
}

/// Each line of a go-yaml comment (`# a\n\n# b`) is one comment; blank lines
/// are dropped and the leading `#` removed (format.md §8.1.4).
fn comment_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('\n').filter(|l| !l.is_empty()).map(|l| {
        let mut chars = l.chars();
        chars.next();
        chars.as_str().to_owned()
    })
}

fn push_comments(text: &str, branch: &mut Branch) {
    branch.extend(comment_lines(text).map(Item::Comment));
}

fn push_seq_comments(text: &str, list: &mut Vec<Value>) {
    list.extend(comment_lines(text).map(Value::Comment));
}

impl Converter<'_> {
    fn count(&mut self) -> Result<(), String> {
        self.created += 1;
        if self.created > MAX_EXPANDED_VALUES {
            return Err("yaml: document contains excessive aliasing".to_owned());
        }
        Ok(())
    }

    fn note_walk_error(&mut self, e: String) {
        if self.walk_error.is_none() {
            self.walk_error = Some(e);
        }
    }

    fn enter_alias(&mut self, id: NodeId) -> Result<NodeId, String> {
        let n = &self.nodes[id];
        if !self.active.insert(id) {
            return Err(format!("yaml: anchor '{}' value contains itself", n.value));
        }
        Ok(n.alias.expect("composer links every alias"))
    }

    fn append_to_branch(
        &mut self,
        id: NodeId,
        branch: &mut Branch,
        comments_handled: bool,
    ) -> Result<(), String> {
        let nodes = self.nodes;
        let n = &nodes[id];
        if !comments_handled {
            push_comments(&n.head_comment, branch);
            push_comments(&n.line_comment, branch);
        }
        match n.kind {
            NodeKind::Document => {
                for &c in &n.content {
                    self.append_to_branch(c, branch, false)?;
                }
            }
            NodeKind::Sequence => {
                return Err("YAML documents that are sequences are not supported".to_owned())
            }
            NodeKind::Mapping => {
                for pair in n.content.chunks(2) {
                    let (k, v) = (pair[0], pair[1]);
                    let (kn, vn) = (&nodes[k], &nodes[v]);
                    push_comments(&kn.head_comment, branch);
                    push_comments(&kn.line_comment, branch);
                    let handle_value_comments =
                        matches!(vn.kind, NodeKind::Scalar | NodeKind::Alias);
                    if handle_value_comments {
                        push_comments(&vn.head_comment, branch);
                        push_comments(&vn.line_comment, branch);
                    }
                    let key = self.key_string(k);
                    let value = self.tree_value(v, handle_value_comments)?;
                    self.count()?;
                    branch.push(Item::Pair(key, value));
                    if handle_value_comments {
                        push_comments(&vn.foot_comment, branch);
                    }
                    push_comments(&kn.foot_comment, branch);
                }
            }
            NodeKind::Scalar => {
                // An empty document is a null scalar.
                if compose::node_short_tag(nodes, id) != NULL_TAG {
                    return Err("YAML documents that are values are not supported".to_owned());
                }
                return Ok(());
            }
            NodeKind::Alias => {
                let target = self.enter_alias(id)?;
                let r = self.append_to_branch(target, branch, false);
                self.active.remove(&id);
                r?;
            }
        }
        if !comments_handled {
            push_comments(&n.foot_comment, branch);
        }
        Ok(())
    }

    fn tree_value(&mut self, id: NodeId, comments_handled: bool) -> Result<Value, String> {
        let nodes = self.nodes;
        let n = &nodes[id];
        match n.kind {
            NodeKind::Document => Ok(Value::Null),
            NodeKind::Sequence => {
                let mut list = Vec::with_capacity(n.content.len());
                if !comments_handled {
                    push_seq_comments(&n.head_comment, &mut list);
                    push_seq_comments(&n.line_comment, &mut list);
                }
                for &item in &n.content {
                    let itn = &nodes[item];
                    push_seq_comments(&itn.head_comment, &mut list);
                    push_seq_comments(&itn.line_comment, &mut list);
                    let v = self.tree_value(item, true)?;
                    self.count()?;
                    list.push(v);
                    push_seq_comments(&itn.foot_comment, &mut list);
                }
                if !comments_handled {
                    push_seq_comments(&n.foot_comment, &mut list);
                }
                Ok(Value::Seq(list))
            }
            NodeKind::Mapping => {
                let mut branch = Vec::with_capacity(n.content.len() / 2);
                self.append_to_branch(id, &mut branch, comments_handled)?;
                Ok(Value::Map(branch))
            }
            NodeKind::Scalar => match decode_scalar(n) {
                Decoded::Value(v) => Ok(v),
                Decoded::Uint(_) => {
                    // sops walks the tree before encrypting and stops here
                    // (format.md §2.4).
                    self.note_walk_error(format!(
                        "{WALK_ERROR_PREFIX}Cannot walk value, unknown type: uint64"
                    ));
                    Ok(Value::Null)
                }
            },
            NodeKind::Alias => {
                let target = self.enter_alias(id)?;
                let r = self.tree_value(target, false);
                self.active.remove(&id);
                r
            }
        }
    }

    /// A mapping key; sops only accepts keys that decode to strings
    /// (format.md §8.1.1). The error is sops's walk error, with its typo.
    fn key_string(&mut self, id: NodeId) -> String {
        let nodes = self.nodes;
        let mut target = id;
        while nodes[target].kind == NodeKind::Alias {
            target = nodes[target].alias.expect("composer links every alias");
        }
        let n = &nodes[target];
        let (type_name, shown) = match n.kind {
            NodeKind::Scalar => match decode_scalar(n) {
                Decoded::Value(Value::Str(s)) => return s,
                Decoded::Value(Value::Bytes(b)) => return String::from_utf8_lossy(&b).into_owned(),
                Decoded::Value(Value::Null) => ("<nil>", "%!s(<nil>)".to_owned()),
                Decoded::Value(Value::Bool(b)) => ("bool", format!("%!s(bool={b})")),
                Decoded::Value(Value::Int(i)) => ("int", format!("%!s(int={i})")),
                Decoded::Value(Value::Float(f)) => {
                    ("float64", format!("%!s(float64={})", format_float_g(f)))
                }
                Decoded::Value(Value::Time(t)) => ("time.Time", t),
                Decoded::Value(_) => ("interface {}", String::new()),
                Decoded::Uint(u) => ("uint64", format!("%!s(uint64={u})")),
            },
            NodeKind::Sequence => ("[]interface {}", String::from("[...]")),
            _ => ("map[string]interface {}", String::from("map[...]")),
        };
        self.note_walk_error(format!("{WALK_ERROR_PREFIX}Tree contains a non-string key (type {type_name}): {shown}. Only string keys aresupported"));
        String::new()
    }
}

/// sops's `node.Decode(&result)` of a scalar node. Decode errors (a tag that
/// does not fit, bad base64) leave the result nil, as sops ignores them.
fn decode_scalar(n: &Node) -> Decoded {
    if n.indicated_string() {
        return Decoded::Value(Value::Str(n.value.clone()));
    }
    let Ok((tag, resolved)) = resolve::resolve(&n.tag, &n.value) else {
        return Decoded::Value(Value::Null);
    };
    if tag == BINARY_TAG {
        return Decoded::Value(match decode_base64(&n.value) {
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::Bytes(e.into_bytes()),
            },
            None => Value::Null,
        });
    }
    Decoded::Value(match resolved {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Int(i),
        Resolved::Uint(u) => return Decoded::Uint(u),
        Resolved::Float(f) => Value::Float(f),
        Resolved::Str => Value::Str(n.value.clone()),
        Resolved::Time(t) => Value::Time(t),
    })
}

// ---------------------------------------------------------------------------
// Emission: the sops tree to go-yaml nodes (sops `appendTreeBranch`,
// `appendSequence`, `treeValueToNode`), then nodes to events (go-yaml
// `encoder.node`).

enum OKind {
    Map(Vec<(ONode, ONode)>),
    Seq(Vec<ONode>),
    Scalar {
        value: String,
        tag: &'static str,
        style: ScalarStyle,
    },
}

struct ONode {
    kind: OKind,
    head: String,
    foot: String,
}

impl ONode {
    fn new(kind: OKind) -> ONode {
        ONode {
            kind,
            head: String::new(),
            foot: String::new(),
        }
    }

    fn scalar(value: String, tag: &'static str, style: ScalarStyle) -> ONode {
        ONode::new(OKind::Scalar { value, tag, style })
    }
}

fn join_comments(comments: &[&str]) -> String {
    let mut s = String::new();
    for (i, c) in comments.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push('#');
        s.push_str(c);
    }
    s
}

/// sops `addCommentsHead`: new comments go before the node's own.
fn add_head(node: &mut ONode, comments: &mut Vec<&str>) {
    if comments.is_empty() {
        return;
    }
    let c = join_comments(comments);
    node.head = if node.head.is_empty() {
        c
    } else {
        format!("{c}\n{}", node.head)
    };
    comments.clear();
}

/// sops `addCommentsFoot`: new comments go after the node's own.
fn add_foot(node: &mut ONode, comments: &mut Vec<&str>) {
    if comments.is_empty() {
        return;
    }
    let c = join_comments(comments);
    node.foot = if node.foot.is_empty() {
        c
    } else {
        format!("{}\n{c}", node.foot)
    };
    comments.clear();
}

fn branch_node(items: &[Item]) -> ONode {
    let mut mapping = ONode::new(OKind::Map(Vec::new()));
    let mut pairs: Vec<(ONode, ONode)> = Vec::with_capacity(items.len());
    let mut comments: Vec<&str> = Vec::new();
    let mut beginning = true;
    for item in items {
        match item {
            Item::Comment(c) => comments.push(c),
            Item::Pair(k, v) => {
                if beginning {
                    // Comments before the first entry belong to the mapping.
                    add_head(&mut mapping, &mut comments);
                    beginning = false;
                }
                let mut key = string_node(k);
                add_head(&mut key, &mut comments);
                pairs.push((key, value_node(v)));
            }
        }
    }
    if !comments.is_empty() {
        match pairs.last_mut() {
            None => add_head(&mut mapping, &mut comments),
            Some((last_key, _)) => add_foot(last_key, &mut comments),
        }
    }
    mapping.kind = OKind::Map(pairs);
    mapping
}

fn seq_node(values: &[Value]) -> ONode {
    let mut seq = ONode::new(OKind::Seq(Vec::new()));
    let mut items: Vec<ONode> = Vec::with_capacity(values.len());
    let mut comments: Vec<&str> = Vec::new();
    let mut beginning = true;
    for v in values {
        if let Value::Comment(c) = v {
            comments.push(c);
            continue;
        }
        if beginning {
            add_head(&mut seq, &mut comments);
            beginning = false;
        }
        let mut node = value_node(v);
        add_head(&mut node, &mut comments);
        items.push(node);
    }
    if !comments.is_empty() {
        match items.last_mut() {
            None => add_head(&mut seq, &mut comments),
            Some(last) => add_foot(last, &mut comments),
        }
    }
    seq.kind = OKind::Seq(items);
    seq
}

fn value_node(v: &Value) -> ONode {
    match v {
        Value::Map(items) => branch_node(items),
        Value::Seq(values) => seq_node(values),
        Value::Null => ONode::scalar("null".to_owned(), "", ScalarStyle::Plain),
        Value::Bool(b) => ONode::scalar(b.to_string(), "", ScalarStyle::Plain),
        Value::Int(i) => ONode::scalar(i.to_string(), "", ScalarStyle::Plain),
        Value::Float(f) => ONode::scalar(yaml_float(*f), "", ScalarStyle::Plain),
        Value::Time(t) => ONode::scalar(t.clone(), "", ScalarStyle::Plain),
        Value::Str(s) | Value::Comment(s) => string_node(s),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => string_node(s),
            Err(_) => binary_node(b),
        },
    }
}

/// go-yaml `floatv`: `FormatFloat(v, 'g', -1, 64)` with YAML's names for the
/// special values (format.md §8.1.3).
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f == f64::INFINITY {
        ".inf".to_owned()
    } else if f == f64::NEG_INFINITY {
        "-.inf".to_owned()
    } else {
        format_float_g(f)
    }
}

/// The style sops ends up with for a string (keys included): go-yaml's
/// `stringv` request, as the emitter adjusts it when sops encodes the value
/// into a node on its own (format.md §8.1.3). The node keeps that style.
fn string_style(s: &str) -> ScalarStyle {
    let requested = if s.contains('\n') {
        ScalarStyle::Literal
    } else if resolve::resolve_tag(s) == STR_TAG
        && !resolve::is_base60_float(s)
        && !resolve::is_old_bool(s)
    {
        ScalarStyle::Plain
    } else {
        ScalarStyle::DoubleQuoted
    };
    emitter::block_context_style(requested, emitter::analyze_scalar(s))
}

fn string_node(s: &str) -> ONode {
    let style = string_style(s);
    // A plain `<<` reads back as a merge key, and go-yaml then writes the
    // tag explicitly (format.md §8.1.1).
    let tag = if style == ScalarStyle::Plain && s == "<<" {
        MERGE_TAG
    } else {
        ""
    };
    ONode::scalar(s.to_owned(), tag, style)
}

/// Non-UTF-8 bytes: go-yaml writes `!!binary` and base64, broken into lines
/// of 70 characters (and then a literal block) when longer than one line.
fn binary_node(b: &[u8]) -> ONode {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(b);
    let lines = encoded.len() / 70 + 1;
    let mut value = String::with_capacity(encoded.len() + lines);
    let bytes = encoded.as_bytes();
    for chunk in bytes.chunks(70) {
        value.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        if lines > 1 {
            value.push('\n');
        }
    }
    let requested = if value.contains('\n') {
        ScalarStyle::Literal
    } else {
        ScalarStyle::Plain
    };
    let style = emitter::block_context_style(requested, emitter::analyze_scalar(&value));
    ONode::scalar(value, BINARY_TAG, style)
}

fn long_tag(tag: &str) -> String {
    match tag.strip_prefix("!!") {
        Some(rest) => format!("tag:yaml.org,2002:{rest}"),
        None => tag.to_owned(),
    }
}

fn node_events(node: ONode, tail: String, out: &mut Vec<EmitEvent>) {
    let ONode { kind, head, foot } = node;
    match kind {
        OKind::Scalar { value, tag, style } => {
            let mut ev = EmitEvent::new(EvKind::Scalar);
            ev.value = value;
            ev.tag = long_tag(tag);
            ev.style = style;
            ev.head = head;
            ev.foot = foot;
            ev.tail = tail;
            out.push(ev);
        }
        OKind::Seq(items) => {
            let mut start = EmitEvent::new(EvKind::SequenceStart);
            start.head = head;
            out.push(start);
            for item in items {
                node_events(item, String::new(), out);
            }
            let mut end = EmitEvent::new(EvKind::SequenceEnd);
            end.foot = foot;
            out.push(end);
        }
        OKind::Map(pairs) => {
            let mut start = EmitEvent::new(EvKind::MappingStart);
            start.head = head;
            start.tail = tail;
            out.push(start);
            // A key's foot comment is written before the next key (or at the
            // mapping's end), once its value has been written.
            let mut tail = String::new();
            for (mut k, v) in pairs {
                let foot = std::mem::take(&mut k.foot);
                node_events(k, std::mem::take(&mut tail), out);
                tail = foot;
                node_events(v, String::new(), out);
            }
            let mut end = EmitEvent::new(EvKind::MappingEnd);
            end.tail = tail;
            end.foot = foot;
            out.push(end);
        }
    }
}

#[cfg(test)]
mod tests;
