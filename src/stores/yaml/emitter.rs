//! Events to YAML text with go-yaml v3's emitter decisions.
//!
//! sops writes every YAML file through go-yaml's encoder, so indentation
//! (including the layouts of sequences in mappings and of block scalars in
//! sequence items), scalar styles and where comments land are that emitter's
//! choices (format.md §8.1.3, §8.1.4). This is a state machine with the same
//! states and the same rules; it never wraps lines (sops's encoder has no
//! width limit).

use super::scanner::ScalarStyle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EvKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
    Scalar,
}

#[derive(Clone)] // no Debug: holds plaintext (STYLE §3)
pub(super) struct EmitEvent {
    pub kind: EvKind,
    pub value: String,
    /// Long tag (`tag:yaml.org,2002:merge`), empty for implicit scalars.
    pub tag: String,
    pub style: ScalarStyle,
    pub flow: bool,
    pub head: String,
    pub line: String,
    pub foot: String,
    pub tail: String,
}

impl EmitEvent {
    pub(super) fn new(kind: EvKind) -> EmitEvent {
        EmitEvent {
            kind,
            value: String::new(),
            tag: String::new(),
            style: ScalarStyle::Plain,
            flow: false,
            head: String::new(),
            line: String::new(),
            foot: String::new(),
            tail: String::new(),
        }
    }

    fn implicit(&self) -> bool {
        self.tag.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StreamStart,
    FirstDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowSequenceTrailItem,
    FlowSequenceItem,
    FlowMappingFirstKey,
    FlowMappingTrailKey,
    FlowMappingKey,
    FlowMappingSimpleValue,
    FlowMappingValue,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

/// What `analyze_scalar` learns about a value.
#[derive(Clone, Copy, Debug, Default)]
#[allow(clippy::struct_excessive_bools)] // go-yaml's flags, one each
pub(super) struct ScalarAnalysis {
    pub multiline: bool,
    pub flow_plain_allowed: bool,
    pub block_plain_allowed: bool,
    pub single_quoted_allowed: bool,
    pub block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// go-yaml `is_printable` (on the character's UTF-8 encoding): no C0/C1
/// controls, no surrogates, no U+FEFF/U+FFFE/U+FFFF, nothing above U+FFFF.
pub(super) fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

/// go-yaml `yaml_emitter_analyze_scalar`.
#[allow(clippy::too_many_lines, clippy::unnecessary_map_or)] // one pass with go-yaml's flags; MSRV 1.80
pub(super) fn analyze_scalar(value: &str) -> ScalarAnalysis {
    if value.is_empty() {
        return ScalarAnalysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut iter = value.chars().peekable();
    let mut i = 0usize;
    while let Some(c) = iter.next() {
        let next = iter.peek().copied();
        let is_last = next.is_none();
        let followed_by_whitespace = next.map_or(true, is_blank);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if is_last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if is_last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c);
        i += 1;
    }

    let mut a = ScalarAnalysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// The style go-yaml's emitter ends up with for a requested style, outside
/// flow collections and outside simple keys.
pub(super) fn block_context_style(requested: ScalarStyle, a: ScalarAnalysis) -> ScalarStyle {
    let mut style = requested;
    if style == ScalarStyle::Plain && !a.block_plain_allowed {
        style = ScalarStyle::SingleQuoted;
    }
    if style == ScalarStyle::SingleQuoted && !a.single_quoted_allowed {
        style = ScalarStyle::DoubleQuoted;
    }
    if (style == ScalarStyle::Literal || style == ScalarStyle::Folded) && !a.block_allowed {
        style = ScalarStyle::DoubleQuoted;
    }
    style
}

const DEFAULT_TAG_DIRECTIVES: [(&str, &str); 2] = [("!", "!"), ("!!", "tag:yaml.org,2002:")];

#[allow(clippy::struct_excessive_bools)] // go-yaml's emitter state
pub(super) struct Emitter<'e> {
    events: &'e [EmitEvent],
    head: usize,
    out: String,

    best_indent: i64,
    state: State,
    states: Vec<State>,
    indents: Vec<i64>,
    indent: i64,
    flow_level: i64,

    root_context: bool,
    sequence_context: bool,
    mapping_context: bool,
    simple_key_context: bool,

    line: i64,
    column: i64,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    space_above: bool,
    foot_indent: i64,

    tag_handle: String,
    tag_suffix: String,
    scalar_value: String,
    scalar: ScalarAnalysis,
    scalar_style: ScalarStyle,

    head_comment: String,
    line_comment: String,
    foot_comment: String,
    tail_comment: String,
    key_line_comment: String,
}

impl<'e> Emitter<'e> {
    /// `indent` as go-yaml's `SetIndent`: values outside 2..=9 become 2.
    pub(super) fn new(events: &'e [EmitEvent], indent: i64) -> Emitter<'e> {
        Emitter {
            events,
            head: 0,
            out: String::new(),
            best_indent: indent,
            state: State::StreamStart,
            states: Vec::new(),
            indents: Vec::new(),
            indent: -1,
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
            line: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            space_above: true,
            foot_indent: -1,
            tag_handle: String::new(),
            tag_suffix: String::new(),
            scalar_value: String::new(),
            scalar: ScalarAnalysis::default(),
            scalar_style: ScalarStyle::Plain,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            tail_comment: String::new(),
            key_line_comment: String::new(),
        }
    }

    pub(super) fn run(mut self) -> String {
        while self.head < self.events.len() {
            self.analyze_event();
            self.state_machine();
            self.head += 1;
        }
        self.out
    }

    fn event(&self) -> &'e EmitEvent {
        &self.events[self.head]
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    // --- low-level writing -------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        if self.column == 0 {
            self.space_above = true;
        }
        self.column = 0;
        self.line += 1;
        self.indention = true;
    }

    fn write(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_all(&mut self, s: &str) {
        for c in s.chars() {
            self.write(c);
        }
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.write(c);
            self.column = 0;
            self.line += 1;
            self.indention = true;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.foot_indent == indent {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.space_above = false;
        self.foot_indent = -1;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_all(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn write_tag_handle(&mut self, value: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.write_all(value);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_tag_content(&mut self, value: &str) {
        for c in value.chars() {
            let must_write = c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | ';'
                        | '/'
                        | '?'
                        | ':'
                        | '@'
                        | '&'
                        | '='
                        | '+'
                        | '$'
                        | ','
                        | '_'
                        | '.'
                        | '~'
                        | '*'
                        | '\''
                        | '('
                        | ')'
                        | '['
                        | ']'
                );
            if must_write {
                self.write(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    self.put('%');
                    for nibble in [b >> 4, b & 0x0f] {
                        self.put(
                            char::from_digit(u32::from(nibble), 16)
                                .unwrap_or('0')
                                .to_ascii_uppercase(),
                        );
                    }
                }
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_comment(&mut self, comment: &str) {
        let mut breaks = false;
        let mut pound = false;
        for c in comment.chars() {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
                pound = false;
            } else {
                if breaks {
                    self.write_indent();
                }
                if !pound {
                    if c != '#' {
                        self.put('#');
                        self.put(' ');
                    }
                    pound = true;
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
        if !breaks {
            self.put_break();
        }
        self.whitespace = true;
    }

    // --- comments ----------------------------------------------------------

    fn process_head_comment(&mut self) {
        if !self.tail_comment.is_empty() {
            self.write_indent();
            let tail = std::mem::take(&mut self.tail_comment);
            self.write_comment(&tail);
            self.foot_indent = self.indent.max(0);
        }
        if self.head_comment.is_empty() {
            return;
        }
        self.write_indent();
        let head = std::mem::take(&mut self.head_comment);
        self.write_comment(&head);
    }

    fn process_line_comment_linebreak(&mut self, linebreak: bool) {
        if self.line_comment.is_empty() {
            if linebreak {
                self.put_break();
            }
            return;
        }
        if !self.whitespace {
            self.put(' ');
        }
        let line = std::mem::take(&mut self.line_comment);
        self.write_comment(&line);
    }

    fn process_line_comment(&mut self) {
        self.process_line_comment_linebreak(false);
    }

    fn process_foot_comment(&mut self) {
        if self.foot_comment.is_empty() {
            return;
        }
        self.write_indent();
        let foot = std::mem::take(&mut self.foot_comment);
        self.write_comment(&foot);
        self.foot_indent = self.indent.max(0);
    }

    // --- analysis ----------------------------------------------------------

    fn analyze_event(&mut self) {
        let ev = self.event();
        self.tag_handle.clear();
        self.tag_suffix.clear();
        self.scalar_value.clear();
        if !ev.head.is_empty() {
            self.head_comment.clone_from(&ev.head);
        }
        if !ev.line.is_empty() {
            self.line_comment.clone_from(&ev.line);
        }
        if !ev.foot.is_empty() {
            self.foot_comment.clone_from(&ev.foot);
        }
        if !ev.tail.is_empty() {
            self.tail_comment.clone_from(&ev.tail);
        }
        match ev.kind {
            EvKind::Scalar => {
                if !ev.tag.is_empty() {
                    self.analyze_tag(&ev.tag);
                }
                self.scalar_value.clone_from(&ev.value);
                self.scalar = analyze_scalar(&ev.value);
            }
            EvKind::SequenceStart | EvKind::MappingStart if !ev.tag.is_empty() => {
                self.analyze_tag(&ev.tag);
            }
            _ => {}
        }
    }

    fn analyze_tag(&mut self, tag: &str) {
        for (handle, prefix) in DEFAULT_TAG_DIRECTIVES {
            if let Some(rest) = tag.strip_prefix(prefix) {
                handle.clone_into(&mut self.tag_handle);
                rest.clone_into(&mut self.tag_suffix);
                return;
            }
        }
        tag.clone_into(&mut self.tag_suffix);
    }

    // --- the state machine ---------------------------------------------------

    fn state_machine(&mut self) {
        match self.state {
            State::StreamStart => self.emit_stream_start(),
            State::FirstDocumentStart => self.emit_document_start(true),
            State::DocumentStart => self.emit_document_start(false),
            State::DocumentContent => self.emit_document_content(),
            State::DocumentEnd => self.emit_document_end(),
            State::FlowSequenceFirstItem => self.emit_flow_sequence_item(true, false),
            State::FlowSequenceTrailItem => self.emit_flow_sequence_item(false, true),
            State::FlowSequenceItem => self.emit_flow_sequence_item(false, false),
            State::FlowMappingFirstKey => self.emit_flow_mapping_key(true, false),
            State::FlowMappingTrailKey => self.emit_flow_mapping_key(false, true),
            State::FlowMappingKey => self.emit_flow_mapping_key(false, false),
            State::FlowMappingSimpleValue => self.emit_flow_mapping_value(true),
            State::FlowMappingValue => self.emit_flow_mapping_value(false),
            State::BlockSequenceFirstItem => self.emit_block_sequence_item(true),
            State::BlockSequenceItem => self.emit_block_sequence_item(false),
            State::BlockMappingFirstKey => self.emit_block_mapping_key(true),
            State::BlockMappingKey => self.emit_block_mapping_key(false),
            State::BlockMappingSimpleValue => self.emit_block_mapping_value(true),
            State::BlockMappingValue => self.emit_block_mapping_value(false),
            State::End => {}
        }
    }

    fn emit_stream_start(&mut self) {
        if self.best_indent < 2 || self.best_indent > 9 {
            self.best_indent = 2;
        }
        self.indent = -1;
        self.line = 0;
        self.column = 0;
        self.whitespace = true;
        self.indention = true;
        self.space_above = true;
        self.foot_indent = -1;
        self.state = State::FirstDocumentStart;
    }

    fn emit_document_start(&mut self, first: bool) {
        match self.event().kind {
            EvKind::DocumentStart => {
                if !first {
                    self.write_indent();
                    self.write_indicator("---", true, false, false);
                    self.write_indent();
                }
                if !self.head_comment.is_empty() {
                    self.process_head_comment();
                    self.put_break();
                }
                self.state = State::DocumentContent;
            }
            _ => self.state = State::End,
        }
    }

    fn emit_document_content(&mut self) {
        self.states.push(State::DocumentEnd);
        self.process_head_comment();
        self.emit_node(true, false, false, false);
        self.process_line_comment();
        self.process_foot_comment();
    }

    fn emit_document_end(&mut self) {
        self.foot_indent = 0;
        self.process_foot_comment();
        self.foot_indent = -1;
        self.write_indent();
        self.state = State::DocumentStart;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.states.last() == Some(&State::BlockSequenceItem) {
                // A collection in a sequence item starts after "- ".
                self.indent += 2;
            } else {
                self.indent =
                    self.best_indent * ((self.indent + self.best_indent) / self.best_indent);
            }
        }
    }

    fn has_pending_trail_comments(&self) -> bool {
        !self.line_comment.is_empty()
            || !self.foot_comment.is_empty()
            || !self.tail_comment.is_empty()
    }

    fn emit_flow_sequence_item(&mut self, first: bool, trail: bool) {
        if first {
            self.write_indicator("[", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if self.event().kind == EvKind::SequenceEnd {
            self.flow_level -= 1;
            self.pop_indent();
            if self.column == 0 {
                self.write_indent();
            }
            self.write_indicator("]", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            self.pop_state();
            return;
        }
        if !first && !trail {
            self.write_indicator(",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        self.states.push(if self.has_pending_trail_comments() {
            State::FlowSequenceTrailItem
        } else {
            State::FlowSequenceItem
        });
        self.emit_node(false, true, false, false);
        if self.has_pending_trail_comments() {
            self.write_indicator(",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
    }

    fn emit_flow_mapping_key(&mut self, first: bool, trail: bool) {
        if first {
            self.write_indicator("{", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if self.event().kind == EvKind::MappingEnd {
            if (!self.head_comment.is_empty()
                || !self.foot_comment.is_empty()
                || !self.tail_comment.is_empty())
                && !first
                && !trail
            {
                self.write_indicator(",", false, false, false);
            }
            self.process_head_comment();
            self.flow_level -= 1;
            self.pop_indent();
            self.write_indicator("}", false, false, false);
            self.process_line_comment();
            self.process_foot_comment();
            self.pop_state();
            return;
        }
        if !first && !trail {
            self.write_indicator(",", false, false, false);
        }
        self.process_head_comment();
        if self.column == 0 {
            self.write_indent();
        }
        if self.check_simple_key() {
            self.states.push(State::FlowMappingSimpleValue);
            self.emit_node(false, false, true, true);
        } else {
            self.write_indicator("?", true, false, false);
            self.states.push(State::FlowMappingValue);
            self.emit_node(false, false, true, false);
        }
    }

    fn emit_flow_mapping_value(&mut self, simple: bool) {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            self.write_indicator(":", true, false, false);
        }
        self.states.push(if self.has_pending_trail_comments() {
            State::FlowMappingTrailKey
        } else {
            State::FlowMappingKey
        });
        self.emit_node(false, false, true, false);
        if self.has_pending_trail_comments() {
            self.write_indicator(",", false, false, false);
        }
        self.process_line_comment();
        self.process_foot_comment();
    }

    fn emit_block_sequence_item(&mut self, first: bool) {
        if first {
            // sops never asks for go-yaml's compact sequence indentation.
            self.increase_indent(false, false);
        }
        if self.event().kind == EvKind::SequenceEnd {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.process_head_comment();
        self.write_indent();
        self.write_indicator("-", true, false, true);
        self.states.push(State::BlockSequenceItem);
        self.emit_node(false, true, false, false);
        self.process_line_comment();
        self.process_foot_comment();
    }

    fn emit_block_mapping_key(&mut self, first: bool) {
        if first {
            self.increase_indent(false, false);
        }
        self.process_head_comment();
        if self.event().kind == EvKind::MappingEnd {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.write_indent();
        if !self.line_comment.is_empty() {
            self.key_line_comment = std::mem::take(&mut self.line_comment);
        }
        if self.check_simple_key() {
            self.states.push(State::BlockMappingSimpleValue);
            self.emit_node(false, false, true, true);
        } else {
            self.write_indicator("?", true, false, true);
            self.states.push(State::BlockMappingValue);
            self.emit_node(false, false, true, false);
        }
    }

    fn emit_block_mapping_value(&mut self, simple: bool) {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(":", true, false, true);
        }
        if !self.key_line_comment.is_empty() {
            let ev = self.event();
            if ev.kind == EvKind::Scalar {
                if self.line_comment.is_empty() {
                    self.line_comment = std::mem::take(&mut self.key_line_comment);
                }
            } else if !ev.flow
                && (ev.kind == EvKind::MappingStart || ev.kind == EvKind::SequenceStart)
            {
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
                self.process_line_comment();
                std::mem::swap(&mut self.line_comment, &mut self.key_line_comment);
            }
        }
        self.states.push(State::BlockMappingKey);
        self.emit_node(false, false, true, false);
        self.process_line_comment();
        self.process_foot_comment();
    }

    #[allow(clippy::fn_params_excessive_bools)] // go-yaml's four contexts
    fn emit_node(&mut self, root: bool, sequence: bool, mapping: bool, simple_key: bool) {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match self.event().kind {
            EvKind::Scalar => self.emit_scalar(),
            EvKind::SequenceStart => {
                self.process_tag();
                let ev = self.event();
                self.state =
                    if self.flow_level > 0 || ev.flow || self.check_empty(EvKind::SequenceEnd) {
                        State::FlowSequenceFirstItem
                    } else {
                        State::BlockSequenceFirstItem
                    };
            }
            EvKind::MappingStart => {
                self.process_tag();
                let ev = self.event();
                self.state =
                    if self.flow_level > 0 || ev.flow || self.check_empty(EvKind::MappingEnd) {
                        State::FlowMappingFirstKey
                    } else {
                        State::BlockMappingFirstKey
                    };
            }
            _ => {}
        }
    }

    fn check_empty(&self, end: EvKind) -> bool {
        self.events
            .get(self.head + 1)
            .is_some_and(|e| e.kind == end)
    }

    fn check_simple_key(&self) -> bool {
        let ev = self.event();
        let length = match ev.kind {
            EvKind::Scalar => {
                if self.scalar.multiline {
                    return false;
                }
                self.tag_handle.len() + self.tag_suffix.len() + self.scalar_value.len()
            }
            EvKind::SequenceStart => {
                if !self.check_empty(EvKind::SequenceEnd) {
                    return false;
                }
                self.tag_handle.len() + self.tag_suffix.len()
            }
            EvKind::MappingStart => {
                if !self.check_empty(EvKind::MappingEnd) {
                    return false;
                }
                self.tag_handle.len() + self.tag_suffix.len()
            }
            _ => return false,
        };
        length <= 128
    }

    fn select_scalar_style(&mut self) {
        let ev = self.event();
        let no_tag = self.tag_handle.is_empty() && self.tag_suffix.is_empty();
        let mut style = ev.style;
        if self.simple_key_context && self.scalar.multiline {
            style = ScalarStyle::DoubleQuoted;
        }
        if style == ScalarStyle::Plain {
            if self.flow_level > 0 && !self.scalar.flow_plain_allowed
                || self.flow_level == 0 && !self.scalar.block_plain_allowed
            {
                style = ScalarStyle::SingleQuoted;
            }
            if self.scalar_value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = ScalarStyle::SingleQuoted;
            }
            if no_tag && !ev.implicit() {
                style = ScalarStyle::SingleQuoted;
            }
        }
        if style == ScalarStyle::SingleQuoted && !self.scalar.single_quoted_allowed {
            style = ScalarStyle::DoubleQuoted;
        }
        if (style == ScalarStyle::Literal || style == ScalarStyle::Folded)
            && (!self.scalar.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = ScalarStyle::DoubleQuoted;
        }
        self.scalar_style = style;
    }

    fn process_tag(&mut self) {
        if self.tag_handle.is_empty() && self.tag_suffix.is_empty() {
            return;
        }
        if self.tag_handle.is_empty() {
            self.write_indicator("!<", true, false, false);
            let suffix = self.tag_suffix.clone();
            self.write_tag_content(&suffix);
            self.write_indicator(">", false, false, false);
        } else {
            let handle = self.tag_handle.clone();
            self.write_tag_handle(&handle);
            if !self.tag_suffix.is_empty() {
                let suffix = self.tag_suffix.clone();
                self.write_tag_content(&suffix);
            }
        }
    }

    fn emit_scalar(&mut self) {
        self.select_scalar_style();
        self.process_tag();
        self.increase_indent(true, false);
        let value = std::mem::take(&mut self.scalar_value);
        let allow_breaks = !self.simple_key_context;
        match self.scalar_style {
            ScalarStyle::Plain => self.write_plain_scalar(&value),
            ScalarStyle::SingleQuoted => self.write_single_quoted_scalar(&value, allow_breaks),
            ScalarStyle::DoubleQuoted => self.write_double_quoted_scalar(&value),
            ScalarStyle::Literal => self.write_literal_scalar(&value),
            ScalarStyle::Folded => self.write_folded_scalar(&value),
        }
        self.scalar_value = value;
        self.pop_indent();
        self.pop_state();
    }

    // --- scalar writers (no line folding: sops's width is unlimited) --------

    fn write_plain_scalar(&mut self, value: &str) {
        if !value.is_empty() && !self.whitespace {
            self.put(' ');
        }
        let mut breaks = false;
        for c in value.chars() {
            if c == ' ' {
                self.write(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
        if !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
        if self.root_context {
            self.open_ended = true;
        }
    }

    fn write_single_quoted_scalar(&mut self, value: &str, _allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut breaks = false;
        for c in value.chars() {
            if c == ' ' {
                self.write(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_scalar(&mut self, value: &str) {
        self.write_indicator("\"", true, false, false);
        // go-yaml's BOM test looks at the start of the value, not at the
        // current character: a value starting with U+FEFF is escaped whole.
        let bom = value.starts_with('\u{feff}');
        for c in value.chars() {
            if !is_printable(c) || bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let v = c as u32;
                match v {
                    0x00 => self.put('0'),
                    0x07 => self.put('a'),
                    0x08 => self.put('b'),
                    0x09 => self.put('t'),
                    0x0A => self.put('n'),
                    0x0B => self.put('v'),
                    0x0C => self.put('f'),
                    0x0D => self.put('r'),
                    0x1B => self.put('e'),
                    0x22 => self.put('"'),
                    0x5C => self.put('\\'),
                    0x85 => self.put('N'),
                    0xA0 => self.put('_'),
                    0x2028 => self.put('L'),
                    0x2029 => self.put('P'),
                    _ => {
                        let (letter, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let digit = (v >> (k * 4)) & 0x0F;
                            self.put(
                                char::from_digit(digit, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
            } else {
                self.write(c);
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, value: &str) {
        let first = value.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            let hint =
                char::from_digit(u32::try_from(self.best_indent).unwrap_or(2), 10).unwrap_or('2');
            self.write_indicator(&hint.to_string(), false, false, false);
        }
        self.open_ended = false;
        let mut chomp = None;
        let mut rev = value.chars().rev();
        match rev.next() {
            None => chomp = Some('-'),
            Some(last) if !is_break(last) => chomp = Some('-'),
            Some(_) => match rev.next() {
                None => {
                    chomp = Some('+');
                    self.open_ended = true;
                }
                Some(prev) if is_break(prev) => {
                    chomp = Some('+');
                    self.open_ended = true;
                }
                Some(_) => {}
            },
        }
        if let Some(c) = chomp {
            self.write_indicator(&c.to_string(), false, false, false);
        }
    }

    fn write_literal_scalar(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment_linebreak(true);
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    fn write_folded_scalar(&mut self, value: &str) {
        self.write_indicator(">", true, false, false);
        self.write_block_scalar_hints(value);
        self.process_line_comment_linebreak(true);
        self.whitespace = true;
        let chars: Vec<char> = value.chars().collect();
        let mut breaks = true;
        let mut leading_spaces = true;
        for &c in &chars {
            if is_break(c) {
                if !breaks && !leading_spaces && c == '\n' {
                    let mut k = 0;
                    while k < chars.len() && is_break(chars[k]) {
                        k += 1;
                    }
                    if !(k >= chars.len() || is_blank(chars[k]) || is_break(chars[k])) {
                        self.put_break();
                    }
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    leading_spaces = is_blank(c);
                }
                self.write(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}
