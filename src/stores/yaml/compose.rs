//! Events to a node tree (go-yaml's `yaml.Node`), and go-yaml's decode of the
//! first document into `map[string]interface{}`, which sops runs on plaintext
//! input only to get its errors (format.md §8.1.1).
//!
//! The composer moves comments between neighbouring nodes exactly as go-yaml
//! does (a key's foot comment that arrives with the next key goes back to the
//! previous one, a mapping's foot comment goes to its last key); sops builds
//! its tree from these node comments.

use std::collections::{HashMap, HashSet};

use super::parser::{Event, EventKind, Parser};
use super::resolve::{self, short_tag, Resolved, MAP_TAG, MERGE_TAG, NULL_TAG, SEQ_TAG, STR_TAG};
use super::scanner::ScalarStyle;
use crate::gotext;

pub(super) type NodeId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum NodeKind {
    Document,
    Sequence,
    Mapping,
    Scalar,
    Alias,
}

#[derive(Clone)] // no Debug: holds plaintext (STYLE §3)
pub(super) struct Node {
    pub kind: NodeKind,
    /// The tag was written in the input (go-yaml `TaggedStyle`).
    pub tagged: bool,
    pub style: ScalarStyle,
    /// Short tag (`!!str`), resolved for untagged plain scalars.
    pub tag: String,
    pub value: String,
    pub alias: Option<NodeId>,
    pub content: Vec<NodeId>,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
    /// One-based line of the node's first token.
    pub line: i64,
}

impl Node {
    /// go-yaml `indicatedString`: a quoted, block or `!!str`-tagged scalar.
    pub(super) fn indicated_string(&self) -> bool {
        self.kind == NodeKind::Scalar
            && self.tag == STR_TAG
            && (self.tagged || self.style != ScalarStyle::Plain)
    }
}

/// go-yaml `Node.ShortTag`.
pub(super) fn node_short_tag(nodes: &[Node], id: NodeId) -> String {
    let n = &nodes[id];
    if n.indicated_string() {
        return STR_TAG.to_owned();
    }
    if n.tag.is_empty() || n.tag == "!" {
        return match n.kind {
            NodeKind::Mapping => MAP_TAG.to_owned(),
            NodeKind::Sequence => SEQ_TAG.to_owned(),
            NodeKind::Alias => n
                .alias
                .map(|a| node_short_tag(nodes, a))
                .unwrap_or_default(),
            NodeKind::Scalar => resolve::resolve_tag(&n.value).to_owned(),
            NodeKind::Document => String::new(),
        };
    }
    n.tag.clone()
}

pub(super) struct Composer<'a> {
    parser: Parser<'a>,
    event: Option<Event>,
    pub nodes: Vec<Node>,
    anchors: HashMap<String, NodeId>,
    started: bool,
}

type ComposeResult<T> = Result<T, String>;

impl<'a> Composer<'a> {
    pub(super) fn new(buf: &'a [char]) -> Composer<'a> {
        // Roughly one node per 16 characters of input.
        let nodes = Vec::with_capacity(buf.len() / 16);
        Composer {
            parser: Parser::new(buf),
            event: None,
            nodes,
            anchors: HashMap::new(),
            started: false,
        }
    }

    fn peek(&mut self) -> ComposeResult<&Event> {
        if self.event.is_none() {
            let ev = self.parser.next_event().map_err(|e| e.message())?;
            self.event = Some(ev);
        }
        Ok(self.event.as_ref().expect("just filled"))
    }

    fn peek_kind(&mut self) -> ComposeResult<EventKind> {
        Ok(self.peek()?.kind)
    }

    fn expect(&mut self, kind: EventKind) -> ComposeResult<Event> {
        self.peek()?;
        let ev = self.event.take().expect("peeked");
        if ev.kind == EventKind::StreamEnd && kind != EventKind::StreamEnd {
            return Err(
                "yaml: attempted to go past the end of stream; corrupted value?".to_owned(),
            );
        }
        if ev.kind != kind {
            return Err(format!(
                "yaml: expected {kind:?} event but got {:?}",
                ev.kind
            ));
        }
        Ok(ev)
    }

    /// The next document, or `None` at the end of the stream.
    pub(super) fn next_document(&mut self) -> ComposeResult<Option<NodeId>> {
        if !self.started {
            self.expect(EventKind::StreamStart)?;
            self.started = true;
        }
        match self.peek_kind()? {
            EventKind::StreamEnd => Ok(None),
            EventKind::DocumentStart => self.document().map(Some),
            other => Err(format!("yaml: unexpected {other:?} event")),
        }
    }

    fn new_node(
        &mut self,
        kind: NodeKind,
        default_tag: &str,
        tag: &str,
        value: String,
        ev: &mut Event,
    ) -> NodeId {
        let mut tagged = false;
        let tag = if !tag.is_empty() && tag != "!" {
            tagged = true;
            short_tag(tag)
        } else if !default_tag.is_empty() {
            default_tag.to_owned()
        } else if kind == NodeKind::Scalar {
            resolve::resolve_tag(&value).to_owned()
        } else {
            String::new()
        };
        self.nodes.push(Node {
            kind,
            tagged,
            style: ScalarStyle::Plain,
            tag,
            value,
            alias: None,
            content: Vec::new(),
            head_comment: std::mem::take(&mut ev.head_comment),
            line_comment: std::mem::take(&mut ev.line_comment),
            foot_comment: std::mem::take(&mut ev.foot_comment),
            line: ev.start.line + 1,
        });
        self.nodes.len() - 1
    }

    fn parse(&mut self) -> ComposeResult<NodeId> {
        match self.peek_kind()? {
            EventKind::Scalar => self.scalar(),
            EventKind::Alias => self.alias(),
            EventKind::MappingStart => self.mapping(),
            EventKind::SequenceStart => self.sequence(),
            EventKind::DocumentStart => self.document(),
            other => Err(format!("yaml: attempted to parse unknown event: {other:?}")),
        }
    }

    fn document(&mut self) -> ComposeResult<NodeId> {
        let mut ev = self.expect(EventKind::DocumentStart)?;
        let n = self.new_node(NodeKind::Document, "", "", String::new(), &mut ev);
        let child = self.parse()?;
        self.nodes[n].content.push(child);
        if self.peek_kind()? == EventKind::DocumentEnd {
            let foot = self.peek()?.foot_comment.clone();
            self.nodes[n].foot_comment = foot;
        }
        self.expect(EventKind::DocumentEnd)?;
        Ok(n)
    }

    fn alias(&mut self) -> ComposeResult<NodeId> {
        let mut ev = self.expect(EventKind::Alias)?;
        let name = ev.anchor.clone();
        let n = self.new_node(NodeKind::Alias, "", "", name.clone(), &mut ev);
        match self.anchors.get(&name) {
            Some(&target) => self.nodes[n].alias = Some(target),
            None => return Err(format!("yaml: unknown anchor '{name}' referenced")),
        }
        Ok(n)
    }

    fn scalar(&mut self) -> ComposeResult<NodeId> {
        let mut ev = self.expect(EventKind::Scalar)?;
        let value = std::mem::take(&mut ev.value);
        let default_tag = if ev.style == ScalarStyle::Plain {
            if value == "<<" {
                MERGE_TAG
            } else {
                ""
            }
        } else {
            STR_TAG
        };
        let tag = std::mem::take(&mut ev.tag);
        let n = self.new_node(NodeKind::Scalar, default_tag, &tag, value, &mut ev);
        self.nodes[n].style = ev.style;
        if !ev.anchor.is_empty() {
            self.anchors.insert(ev.anchor, n);
        }
        Ok(n)
    }

    fn sequence(&mut self) -> ComposeResult<NodeId> {
        let mut ev = self.expect(EventKind::SequenceStart)?;
        let tag = std::mem::take(&mut ev.tag);
        let n = self.new_node(NodeKind::Sequence, SEQ_TAG, &tag, String::new(), &mut ev);
        if !ev.anchor.is_empty() {
            self.anchors.insert(ev.anchor, n);
        }
        while self.peek_kind()? != EventKind::SequenceEnd {
            let child = self.parse()?;
            self.nodes[n].content.push(child);
        }
        let end = self.expect(EventKind::SequenceEnd)?;
        self.nodes[n].line_comment = end.line_comment;
        self.nodes[n].foot_comment = end.foot_comment;
        Ok(n)
    }

    fn mapping(&mut self) -> ComposeResult<NodeId> {
        let mut ev = self.expect(EventKind::MappingStart)?;
        let block = !ev.flow;
        let tag = std::mem::take(&mut ev.tag);
        let n = self.new_node(NodeKind::Mapping, MAP_TAG, &tag, String::new(), &mut ev);
        if !ev.anchor.is_empty() {
            self.anchors.insert(ev.anchor, n);
        }
        while self.peek_kind()? != EventKind::MappingEnd {
            let k = self.parse()?;
            self.nodes[n].content.push(k);
            if block && !self.nodes[k].foot_comment.is_empty() {
                // A foot comment seen with this key belongs to the prior
                // value when dedented.
                let len = self.nodes[n].content.len();
                if len > 2 {
                    let prev = self.nodes[n].content[len - 3];
                    self.nodes[prev].foot_comment = std::mem::take(&mut self.nodes[k].foot_comment);
                }
            }
            let v = self.parse()?;
            self.nodes[n].content.push(v);
            if self.nodes[k].foot_comment.is_empty() && !self.nodes[v].foot_comment.is_empty() {
                self.nodes[k].foot_comment = std::mem::take(&mut self.nodes[v].foot_comment);
            }
        }
        let end = self.expect(EventKind::MappingEnd)?;
        self.nodes[n].line_comment = end.line_comment;
        self.nodes[n].foot_comment = end.foot_comment;
        let len = self.nodes[n].content.len();
        if block && !self.nodes[n].foot_comment.is_empty() && len > 1 {
            let last_key = self.nodes[n].content[len - 2];
            self.nodes[last_key].foot_comment = std::mem::take(&mut self.nodes[n].foot_comment);
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// The sanity decode into map[string]interface{}.

/// What the decoded value is stored into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The root `map[string]interface {}`.
    StringMap,
    Interface,
    /// A key of a string-keyed map.
    String,
}

impl Target {
    fn type_name(self) -> &'static str {
        match self {
            Target::StringMap => "map[string]interface {}",
            Target::Interface => "interface {}",
            Target::String => "string",
        }
    }
}

struct Decoder<'n> {
    nodes: &'n [Node],
    terrors: Vec<String>,
    decode_count: u64,
    alias_count: u64,
    alias_depth: u64,
    active_aliases: HashSet<NodeId>,
    merged_fields: Option<HashSet<String>>,
}

type DecodeResult<T> = Result<T, String>;

fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    #[allow(clippy::cast_precision_loss)]
    match decode_count {
        c if c <= LOW => 0.99,
        c if c >= HIGH => 0.10,
        c => 0.99 - 0.89 * ((c - LOW) as f64 / (HIGH - LOW) as f64),
    }
}


/// The value part of a go-yaml `terror` for a scalar: `` `value` ``, cut
/// to its first 7 bytes and `...` when longer than 10, after a space.
pub(crate) fn terror_value(value: &str) -> String {
    let v = value.as_bytes();
    if v.len() > 10 {
        format!(" `{}...`", String::from_utf8_lossy(&v[..7]))
    } else {
        format!(" `{value}`")
    }
}

impl Decoder<'_> {
    fn terror(&mut self, id: NodeId, tag: &str, out: Target) {
        let n = &self.nodes[id];
        let tag = if n.tag.is_empty() {
            tag.to_owned()
        } else {
            n.tag.clone()
        };
        let value = if tag != SEQ_TAG && tag != MAP_TAG { terror_value(&n.value) } else { String::new() };
        self.terrors.push(format!(
            "line {}: cannot unmarshal {}{} into {}",
            n.line,
            short_tag(&tag),
            value,
            out.type_name()
        ));
    }

    /// Returns whether a value was stored, and (for keys) its identity.
    fn unmarshal(&mut self, id: NodeId, out: Target) -> DecodeResult<(bool, String)> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err("yaml: document contains excessive aliasing".to_owned());
        }
        let n = &self.nodes[id];
        match n.kind {
            NodeKind::Document => {
                if n.content.len() == 1 {
                    self.unmarshal(n.content[0], out)?;
                    return Ok((true, String::new()));
                }
                return Ok((false, String::new()));
            }
            NodeKind::Alias => {
                if !self.active_aliases.insert(id) {
                    return Err(format!("yaml: anchor '{}' value contains itself", n.value));
                }
                self.alias_depth += 1;
                let target = n.alias.expect("composer links every alias");
                let r = self.unmarshal(target, out);
                self.alias_depth -= 1;
                self.active_aliases.remove(&id);
                return r;
            }
            _ => {}
        }
        if node_short_tag(self.nodes, id) == NULL_TAG {
            // go-yaml `prepare` does nothing for null; the kinds below store
            // nil where they can.
        }
        match n.kind {
            NodeKind::Scalar => self.scalar(id, out),
            NodeKind::Mapping => self.mapping(id, out).map(|ok| (ok, String::new())),
            NodeKind::Sequence => self.sequence(id, out).map(|ok| (ok, String::new())),
            _ => Ok((false, String::new())),
        }
    }

    fn scalar(&mut self, id: NodeId, out: Target) -> DecodeResult<(bool, String)> {
        let n = &self.nodes[id];
        let (tag, resolved) = if n.indicated_string() {
            (STR_TAG.to_owned(), Resolved::Str)
        } else {
            let (tag, resolved) =
                resolve::resolve(&n.tag, &n.value).map_err(|e| format!("yaml: {e}"))?;
            if tag == resolve::BINARY_TAG && super::decode_base64(&n.value).is_none() {
                return Err("yaml: !!binary value contains invalid base64 data".to_owned());
            }
            (tag, resolved)
        };
        if resolved == Resolved::Null {
            // d.null: only interfaces (and maps, pointers, slices that can be
            // addressed) take nil.
            return Ok((out == Target::Interface, "n:".to_owned()));
        }
        let identity = match &resolved {
            Resolved::Str => format!("s:{}", n.value),
            Resolved::Bool(b) => format!("b:{b}"),
            Resolved::Int(i) => format!("i:{i}"),
            Resolved::Uint(u) => format!("u:{u}"),
            Resolved::Float(f) => format!("f:{f}"),
            Resolved::Time(t) => format!("t:{t}"),
            Resolved::Null => String::new(),
        };
        match out {
            Target::String => Ok((true, format!("s:{}", n.value))),
            Target::Interface => Ok((true, identity)),
            Target::StringMap => {
                self.terror(id, &tag, out);
                Ok((false, String::new()))
            }
        }
    }

    fn sequence(&mut self, id: NodeId, out: Target) -> DecodeResult<bool> {
        if out != Target::Interface {
            self.terror(id, SEQ_TAG, out);
            return Ok(false);
        }
        let content = self.nodes[id].content.clone();
        for c in content {
            self.unmarshal(c, Target::Interface)?;
        }
        Ok(true)
    }

    fn mapping(&mut self, id: NodeId, out: Target) -> DecodeResult<bool> {
        let n = &self.nodes[id];
        let content = n.content.clone();
        // Duplicate keys: same kind and same text, reported for every later
        // occurrence of each key (go-yaml compares all pairs; a hash of the
        // keys gives the same list without quadratic work).
        let dups = mapping_duplicates(self.nodes, &content);
        if !dups.is_empty() {
            self.terrors.extend(dups);
            return Ok(false);
        }
        let key_target = match out {
            Target::StringMap => Target::String,
            Target::Interface => {
                let all_strings = (0..content.len()).step_by(2).all(|i| {
                    let t = node_short_tag(self.nodes, content[i]);
                    t == STR_TAG || t == MERGE_TAG
                });
                if all_strings {
                    Target::String
                } else {
                    Target::Interface
                }
            }
            Target::String => {
                self.terror(id, MAP_TAG, out);
                return Ok(false);
            }
        };
        // go-yaml `mergedFields`: keys already set by the mapping that
        // merges this one are skipped (so errors in their values are not
        // reported twice).
        let mut merged_fields = self.merged_fields.take();
        let mut merge_node = None;
        for i in (0..content.len()).step_by(2) {
            let k = content[i];
            if self.is_merge(k) {
                merge_node = Some(content[i + 1]);
                continue;
            }
            let (stored, identity) = self.unmarshal(k, key_target)?;
            if stored {
                if let Some(fields) = merged_fields.as_mut() {
                    if !fields.insert(identity) {
                        continue;
                    }
                }
                if key_target == Target::Interface {
                    let kn = self.resolve_alias(k);
                    if matches!(self.nodes[kn].kind, NodeKind::Mapping | NodeKind::Sequence) {
                        return Err("yaml: invalid map key".to_owned());
                    }
                }
                self.unmarshal(content[i + 1], Target::Interface)?;
            }
        }
        self.merged_fields = merged_fields;
        if let Some(m) = merge_node {
            self.merge(&content, m, out)?;
        }
        Ok(true)
    }

    fn resolve_alias(&self, mut id: NodeId) -> NodeId {
        while self.nodes[id].kind == NodeKind::Alias {
            match self.nodes[id].alias {
                Some(t) => id = t,
                None => break,
            }
        }
        id
    }

    fn is_merge(&self, id: NodeId) -> bool {
        let n = &self.nodes[id];
        n.kind == NodeKind::Scalar
            && n.value == "<<"
            && (n.tag.is_empty() || n.tag == "!" || n.tag == MERGE_TAG)
    }

    fn merge(&mut self, parent: &[NodeId], merge: NodeId, out: Target) -> DecodeResult<()> {
        let outer = self.merged_fields.take();
        let fields = if let Some(f) = &outer {
            f.clone()
        } else {
            let mut fields = HashSet::new();
            for i in (0..parent.len()).step_by(2) {
                let (stored, identity) = self.unmarshal(parent[i], Target::Interface)?;
                if stored {
                    fields.insert(identity);
                }
            }
            fields
        };
        self.merged_fields = Some(fields);
        let want_map =
            || "yaml: map merge requires map or sequence of maps as the value".to_owned();
        let m = &self.nodes[merge];
        match m.kind {
            NodeKind::Mapping => {
                self.unmarshal(merge, out)?;
            }
            NodeKind::Alias => {
                if m.alias
                    .is_some_and(|a| self.nodes[a].kind != NodeKind::Mapping)
                {
                    return Err(want_map());
                }
                self.unmarshal(merge, out)?;
            }
            NodeKind::Sequence => {
                let items = m.content.clone();
                for ni in items {
                    let item = &self.nodes[ni];
                    if item.kind == NodeKind::Alias {
                        if item
                            .alias
                            .is_some_and(|a| self.nodes[a].kind != NodeKind::Mapping)
                        {
                            return Err(want_map());
                        }
                    } else if item.kind != NodeKind::Mapping {
                        return Err(want_map());
                    }
                    self.unmarshal(ni, out)?;
                }
            }
            _ => return Err(want_map()),
        }
        self.merged_fields = outer;
        Ok(())
    }
}

/// go-yaml `Decoder.Decode(&map[string]interface{})` on one document: only
/// the error matters. `Ok` when it would succeed.
pub(super) fn decode_into_string_map(nodes: &[Node], doc: NodeId) -> Result<(), String> {
    let mut d = Decoder {
        nodes,
        terrors: Vec::new(),
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
        active_aliases: HashSet::new(),
        merged_fields: None,
    };
    d.unmarshal(doc, Target::StringMap)?;
    if d.terrors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "yaml: unmarshal errors:\n  {}",
            d.terrors.join("\n  ")
        ))
    }
}

/// go-yaml's duplicate-key messages for one mapping's content: for each key,
/// every later key of the same kind and text (go-yaml compares all pairs; a
/// hash of the keys gives the same list without quadratic work).
fn mapping_duplicates(nodes: &[Node], content: &[NodeId]) -> Vec<String> {
    let mut by_key: HashMap<(NodeKind, &str), Vec<usize>> = HashMap::new();
    for i in (0..content.len()).step_by(2) {
        let k = &nodes[content[i]];
        by_key
            .entry((k.kind, k.value.as_str()))
            .or_default()
            .push(i);
    }
    let mut out = Vec::new();
    for i in (0..content.len()).step_by(2) {
        let ni = &nodes[content[i]];
        let group = &by_key[&(ni.kind, ni.value.as_str())];
        if group.len() > 1 {
            for &j in group.iter().filter(|&&j| j > i) {
                let nj = &nodes[content[j]];
                out.push(format!(
                    "line {}: mapping key {} already defined at line {}",
                    nj.line,
                    gotext::quote(&nj.value),
                    ni.line
                ));
            }
        }
    }
    out
}

/// Duplicate-key errors of one mapping and, optionally, all mappings below it
/// (sops decodes an encrypted file's top level and its `sops` entry into Go
/// structs, which checks those mappings only).
pub(super) fn duplicate_key_errors(
    nodes: &[Node],
    id: NodeId,
    recursive: bool,
    out: &mut Vec<String>,
) {
    let n = &nodes[id];
    match n.kind {
        NodeKind::Document | NodeKind::Sequence if recursive || n.kind == NodeKind::Document => {
            for &c in &n.content {
                duplicate_key_errors(nodes, c, recursive, out);
            }
        }
        NodeKind::Mapping => {
            out.extend(mapping_duplicates(nodes, &n.content));
            if recursive {
                for i in (1..n.content.len()).step_by(2) {
                    duplicate_key_errors(nodes, n.content[i], true, out);
                }
            }
        }
        _ => {}
    }
}
