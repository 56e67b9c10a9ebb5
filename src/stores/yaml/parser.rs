//! Token stream to event stream, with go-yaml's comment hand-over.
//!
//! A comment collected by the scanner is attached to the first event whose
//! token starts at or after the comment's `token_mark`, as a head, line or foot
//! comment. Which events take comments (block collection starts do not, their
//! first key does; a comment before a nested collection in a sequence item
//! becomes that collection's "stem" head comment) is exactly what decides
//! where sops puts comments in its tree (format.md §8.1.4), so the state
//! machine below keeps go-yaml's structure.

use super::scanner::{Mark, ScalarStyle, ScanResult, Scanner, SyntaxError, TokenKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias,
    Scalar,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
}

#[derive(Clone)] // no Debug: holds plaintext (STYLE §3)
pub(super) struct Event {
    pub kind: EventKind,
    pub start: Mark,
    pub anchor: String,
    /// Full tag after %TAG expansion (`tag:yaml.org,2002:str`, `!foo`), or
    /// empty.
    pub tag: String,
    pub value: String,
    pub style: ScalarStyle,
    /// Flow style for collection starts.
    pub flow: bool,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
}

impl Event {
    fn new(kind: EventKind, start: Mark) -> Event {
        Event {
            kind,
            start,
            anchor: String::new(),
            tag: String::new(),
            value: String::new(),
            style: ScalarStyle::Plain,
            flow: false,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

pub(super) struct Parser<'a> {
    scanner: Scanner<'a>,
    state: State,
    states: Vec<State>,
    marks: Vec<Mark>,
    tag_directives: Vec<(String, String)>,
    head_comment: String,
    line_comment: String,
    foot_comment: String,
    stem_comment: Option<String>,
    finished: bool,
}

fn append_comment(dst: &mut String, src: &str) {
    if !dst.is_empty() {
        dst.push('\n');
    }
    dst.push_str(src);
}

fn parser_error(context_mark: Mark, problem: &str, problem_mark: Mark) -> SyntaxError {
    SyntaxError {
        scanner: false,
        context_mark,
        problem: problem.to_owned(),
        problem_mark,
    }
}

impl<'a> Parser<'a> {
    pub(super) fn new(buf: &'a [char]) -> Parser<'a> {
        Parser {
            scanner: Scanner::new(buf),
            state: State::StreamStart,
            states: Vec::new(),
            marks: Vec::new(),
            tag_directives: Vec::new(),
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            stem_comment: None,
            finished: false,
        }
    }

    /// The next event; `StreamEnd` repeats once reached.
    pub(super) fn next_event(&mut self) -> ScanResult<Event> {
        if self.finished || self.state == State::End {
            return Ok(Event::new(EventKind::StreamEnd, self.scanner.mark));
        }
        let event = self.state_machine()?;
        if event.kind == EventKind::StreamEnd {
            self.finished = true;
        }
        Ok(event)
    }

    /// Index of the head token, after handing over the comments before it.
    fn peek(&mut self) -> ScanResult<usize> {
        if !self.scanner.token_available {
            self.scanner.fetch_more_tokens()?;
        }
        let idx = self.scanner.tokens_head;
        self.unfold_comments(idx);
        Ok(idx)
    }

    fn kind(&self, idx: usize) -> TokenKind {
        self.scanner.tokens[idx].kind
    }

    fn start(&self, idx: usize) -> Mark {
        self.scanner.tokens[idx].start
    }

    fn end(&self, idx: usize) -> Mark {
        self.scanner.tokens[idx].end
    }

    fn unfold_comments(&mut self, idx: usize) {
        let token_kind = self.scanner.tokens[idx].kind;
        let token_start = self.scanner.tokens[idx].start.index;
        let sc = &mut self.scanner;
        while sc.comments_head < sc.comments.len()
            && token_start >= sc.comments[sc.comments_head].token_mark.index
        {
            let comment = &mut sc.comments[sc.comments_head];
            if !comment.head.is_empty() {
                if token_kind == TokenKind::BlockEnd {
                    // No heads on ends: keep it for the following token.
                    break;
                }
                append_comment(&mut self.head_comment, &comment.head);
            }
            if !comment.foot.is_empty() {
                append_comment(&mut self.foot_comment, &comment.foot);
            }
            if !comment.line.is_empty() {
                append_comment(&mut self.line_comment, &comment.line);
            }
            // Cleared, not removed: the scanner's backward search for block
            // ends stops at consumed comments.
            *comment = super::scanner::Comment::default();
            sc.comments_head += 1;
        }
    }

    fn skip_token(&mut self) {
        let sc = &mut self.scanner;
        sc.token_available = false;
        sc.tokens_parsed += 1;
        sc.stream_end_produced = sc.tokens[sc.tokens_head].kind == TokenKind::StreamEnd;
        sc.tokens_head += 1;
    }

    fn set_event_comments(&mut self, event: &mut Event) {
        event.head_comment = std::mem::take(&mut self.head_comment);
        event.line_comment = std::mem::take(&mut self.line_comment);
        event.foot_comment = std::mem::take(&mut self.foot_comment);
        self.stem_comment = None;
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self) -> ScanResult<Event> {
        match self.state {
            State::StreamStart => self.parse_stream_start(),
            State::ImplicitDocumentStart => self.parse_document_start(true),
            State::DocumentStart => self.parse_document_start(false),
            State::DocumentContent => self.parse_document_content(),
            State::DocumentEnd => self.parse_document_end(),
            State::BlockNode => self.parse_node(true, false),
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(true),
            State::BlockSequenceEntry => self.parse_block_sequence_entry(false),
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry(),
            State::BlockMappingFirstKey => self.parse_block_mapping_key(true),
            State::BlockMappingKey => self.parse_block_mapping_key(false),
            State::BlockMappingValue => self.parse_block_mapping_value(),
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(true),
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(false),
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key(),
            State::FlowSequenceEntryMappingValue => self.parse_flow_sequence_entry_mapping_value(),
            State::FlowSequenceEntryMappingEnd => self.parse_flow_sequence_entry_mapping_end(),
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(true),
            State::FlowMappingKey => self.parse_flow_mapping_key(false),
            State::FlowMappingValue => self.parse_flow_mapping_value(false),
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(true),
            State::End => Ok(Event::new(EventKind::StreamEnd, self.scanner.mark)),
        }
    }

    fn parse_stream_start(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        if self.kind(t) != TokenKind::StreamStart {
            return Err(parser_error(
                Mark::default(),
                "did not find expected <stream-start>",
                self.start(t),
            ));
        }
        self.state = State::ImplicitDocumentStart;
        let event = Event::new(EventKind::StreamStart, self.start(t));
        self.skip_token();
        Ok(event)
    }

    fn parse_document_start(&mut self, implicit: bool) -> ScanResult<Event> {
        let mut t = self.peek()?;
        if !implicit {
            while self.kind(t) == TokenKind::DocumentEnd {
                self.skip_token();
                t = self.peek()?;
            }
        }
        let kind = self.kind(t);
        if implicit
            && kind != TokenKind::VersionDirective
            && kind != TokenKind::TagDirective
            && kind != TokenKind::DocumentStart
            && kind != TokenKind::StreamEnd
        {
            self.process_directives()?;
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;

            // The part of a head comment before its last blank line belongs
            // to the document.
            let mut head_comment = String::new();
            let hc = self.head_comment.as_bytes();
            if !hc.is_empty() {
                let mut i = hc.len() - 1;
                while i > 0 {
                    if hc[i] == b'\n' {
                        if i == hc.len() - 1 {
                            head_comment = self.head_comment[..i].to_string();
                            self.head_comment = self.head_comment.split_off(i + 1);
                            break;
                        } else if hc[i - 1] == b'\n' {
                            head_comment = self.head_comment[..i - 1].to_string();
                            self.head_comment = self.head_comment.split_off(i + 1);
                            break;
                        }
                    }
                    i -= 1;
                }
            }
            let mut event = Event::new(EventKind::DocumentStart, self.start(t));
            event.head_comment = head_comment;
            return Ok(event);
        }
        if kind != TokenKind::StreamEnd {
            let start = self.start(t);
            self.process_directives()?;
            let t = self.peek()?;
            if self.kind(t) != TokenKind::DocumentStart {
                return Err(parser_error(
                    Mark::default(),
                    "did not find expected <document start>",
                    self.start(t),
                ));
            }
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            let event = Event::new(EventKind::DocumentStart, start);
            self.skip_token();
            return Ok(event);
        }
        self.state = State::End;
        let event = Event::new(EventKind::StreamEnd, self.start(t));
        self.skip_token();
        Ok(event)
    }

    fn parse_document_content(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        let kind = self.kind(t);
        if matches!(
            kind,
            TokenKind::VersionDirective
                | TokenKind::TagDirective
                | TokenKind::DocumentStart
                | TokenKind::DocumentEnd
                | TokenKind::StreamEnd
        ) {
            self.pop_state();
            return Ok(Event::new(EventKind::Scalar, self.start(t)));
        }
        self.parse_node(true, false)
    }

    fn parse_document_end(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        let start = self.start(t);
        if self.kind(t) == TokenKind::DocumentEnd {
            self.skip_token();
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        let mut event = Event::new(EventKind::DocumentEnd, start);
        self.set_event_comments(&mut event);
        if !event.head_comment.is_empty() && event.foot_comment.is_empty() {
            event.foot_comment = std::mem::take(&mut event.head_comment);
        }
        Ok(event)
    }

    #[allow(clippy::too_many_lines)]
    fn parse_node(&mut self, block: bool, indentless_sequence: bool) -> ScanResult<Event> {
        let mut t = self.peek()?;
        if self.kind(t) == TokenKind::Alias {
            self.pop_state();
            let mut event = Event::new(EventKind::Alias, self.start(t));
            event.anchor = std::mem::take(&mut self.scanner.tokens[t].value);
            self.set_event_comments(&mut event);
            self.skip_token();
            return Ok(event);
        }

        let mut start = self.start(t);
        let mut tag_token = false;
        let mut tag_handle = String::new();
        let mut tag_suffix = String::new();
        let mut anchor = String::new();
        let mut tag_mark = Mark::default();
        if self.kind(t) == TokenKind::Anchor {
            anchor = std::mem::take(&mut self.scanner.tokens[t].value);
            self.skip_token();
            t = self.peek()?;
            if self.kind(t) == TokenKind::Tag {
                tag_token = true;
                tag_handle = std::mem::take(&mut self.scanner.tokens[t].value);
                tag_suffix = std::mem::take(&mut self.scanner.tokens[t].suffix);
                tag_mark = self.start(t);
                self.skip_token();
                t = self.peek()?;
            }
        } else if self.kind(t) == TokenKind::Tag {
            tag_token = true;
            tag_handle = std::mem::take(&mut self.scanner.tokens[t].value);
            tag_suffix = std::mem::take(&mut self.scanner.tokens[t].suffix);
            start = self.start(t);
            tag_mark = start;
            self.skip_token();
            t = self.peek()?;
            if self.kind(t) == TokenKind::Anchor {
                anchor = std::mem::take(&mut self.scanner.tokens[t].value);
                self.skip_token();
                t = self.peek()?;
            }
        }

        let mut tag = String::new();
        if tag_token {
            if tag_handle.is_empty() {
                tag = tag_suffix;
            } else {
                match self.tag_directives.iter().find(|(h, _)| *h == tag_handle) {
                    Some((_, prefix)) => {
                        tag.clone_from(prefix);
                        tag.push_str(&tag_suffix);
                    }
                    None => {
                        return Err(parser_error(start, "found undefined tag handle", tag_mark))
                    }
                }
            }
        }

        let kind = self.kind(t);
        if indentless_sequence && kind == TokenKind::BlockEntry {
            self.state = State::IndentlessSequenceEntry;
            let mut event = Event::new(EventKind::SequenceStart, start);
            event.anchor = anchor;
            event.tag = tag;
            return Ok(event);
        }
        if kind == TokenKind::Scalar {
            self.pop_state();
            let mut event = Event::new(EventKind::Scalar, start);
            event.anchor = anchor;
            event.tag = tag;
            event.value = std::mem::take(&mut self.scanner.tokens[t].value);
            event.style = self.scanner.tokens[t].style;
            self.set_event_comments(&mut event);
            self.skip_token();
            return Ok(event);
        }
        if kind == TokenKind::FlowSequenceStart || kind == TokenKind::FlowMappingStart {
            let seq = kind == TokenKind::FlowSequenceStart;
            self.state = if seq {
                State::FlowSequenceFirstEntry
            } else {
                State::FlowMappingFirstKey
            };
            let mut event = Event::new(
                if seq {
                    EventKind::SequenceStart
                } else {
                    EventKind::MappingStart
                },
                start,
            );
            event.anchor = anchor;
            event.tag = tag;
            event.flow = true;
            self.set_event_comments(&mut event);
            return Ok(event);
        }
        if block && (kind == TokenKind::BlockSequenceStart || kind == TokenKind::BlockMappingStart)
        {
            let seq = kind == TokenKind::BlockSequenceStart;
            self.state = if seq {
                State::BlockSequenceFirstEntry
            } else {
                State::BlockMappingFirstKey
            };
            let mut event = Event::new(
                if seq {
                    EventKind::SequenceStart
                } else {
                    EventKind::MappingStart
                },
                start,
            );
            event.anchor = anchor;
            event.tag = tag;
            if let Some(stem) = self.stem_comment.take() {
                event.head_comment = stem;
            }
            return Ok(event);
        }
        if !anchor.is_empty() || !tag.is_empty() {
            self.pop_state();
            let mut event = Event::new(EventKind::Scalar, start);
            event.anchor = anchor;
            event.tag = tag;
            return Ok(event);
        }
        Err(parser_error(
            start,
            "did not find expected node content",
            self.start(t),
        ))
    }

    /// A comment before a nested collection in a sequence item is a head
    /// comment of that collection (go-yaml's "stem" comment).
    fn split_stem_comment(&mut self, stem_len: usize) -> ScanResult<()> {
        if stem_len == 0 {
            return Ok(());
        }
        let t = self.peek()?;
        let kind = self.kind(t);
        if kind != TokenKind::BlockSequenceStart && kind != TokenKind::BlockMappingStart {
            return Ok(());
        }
        self.stem_comment = Some(self.head_comment[..stem_len].to_owned());
        if self.head_comment.len() == stem_len {
            self.head_comment.clear();
        } else {
            self.head_comment = self.head_comment[stem_len + 1..].to_owned();
        }
        Ok(())
    }

    fn parse_block_sequence_entry(&mut self, first: bool) -> ScanResult<Event> {
        if first {
            let t = self.peek()?;
            self.marks.push(self.start(t));
            self.skip_token();
        }
        let t = self.peek()?;
        match self.kind(t) {
            TokenKind::BlockEntry => {
                let mark = self.end(t);
                let prior_head_len = self.head_comment.len();
                self.skip_token();
                self.split_stem_comment(prior_head_len)?;
                let t = self.peek()?;
                if self.kind(t) != TokenKind::BlockEntry && self.kind(t) != TokenKind::BlockEnd {
                    self.states.push(State::BlockSequenceEntry);
                    self.parse_node(true, false)
                } else {
                    self.state = State::BlockSequenceEntry;
                    Ok(Event::new(EventKind::Scalar, mark))
                }
            }
            TokenKind::BlockEnd => {
                self.pop_state();
                self.marks.pop();
                let event = Event::new(EventKind::SequenceEnd, self.start(t));
                self.skip_token();
                Ok(event)
            }
            _ => {
                let context_mark = self.marks.pop().unwrap_or_default();
                Err(parser_error(
                    context_mark,
                    "did not find expected '-' indicator",
                    self.start(t),
                ))
            }
        }
    }

    fn parse_indentless_sequence_entry(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        if self.kind(t) == TokenKind::BlockEntry {
            let mark = self.end(t);
            let prior_head_len = self.head_comment.len();
            self.skip_token();
            self.split_stem_comment(prior_head_len)?;
            let t = self.peek()?;
            let k = self.kind(t);
            if k != TokenKind::BlockEntry
                && k != TokenKind::Key
                && k != TokenKind::Value
                && k != TokenKind::BlockEnd
            {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return Ok(Event::new(EventKind::Scalar, mark));
        }
        self.pop_state();
        Ok(Event::new(EventKind::SequenceEnd, self.start(t)))
    }

    fn parse_block_mapping_key(&mut self, first: bool) -> ScanResult<Event> {
        if first {
            let t = self.peek()?;
            self.marks.push(self.start(t));
            self.skip_token();
        }
        let t = self.peek()?;
        match self.kind(t) {
            TokenKind::Key => {
                let mark = self.end(t);
                self.skip_token();
                let t = self.peek()?;
                let k = self.kind(t);
                if k != TokenKind::Key && k != TokenKind::Value && k != TokenKind::BlockEnd {
                    self.states.push(State::BlockMappingValue);
                    self.parse_node(true, true)
                } else {
                    self.state = State::BlockMappingValue;
                    Ok(Event::new(EventKind::Scalar, mark))
                }
            }
            TokenKind::BlockEnd => {
                self.pop_state();
                self.marks.pop();
                let mut event = Event::new(EventKind::MappingEnd, self.start(t));
                self.set_event_comments(&mut event);
                self.skip_token();
                Ok(event)
            }
            _ => {
                let context_mark = self.marks.pop().unwrap_or_default();
                Err(parser_error(
                    context_mark,
                    "did not find expected key",
                    self.start(t),
                ))
            }
        }
    }

    fn parse_block_mapping_value(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        if self.kind(t) == TokenKind::Value {
            let mark = self.end(t);
            self.skip_token();
            let t = self.peek()?;
            let k = self.kind(t);
            if k != TokenKind::Key && k != TokenKind::Value && k != TokenKind::BlockEnd {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingKey;
            return Ok(Event::new(EventKind::Scalar, mark));
        }
        self.state = State::BlockMappingKey;
        Ok(Event::new(EventKind::Scalar, self.start(t)))
    }

    fn parse_flow_sequence_entry(&mut self, first: bool) -> ScanResult<Event> {
        if first {
            let t = self.peek()?;
            self.marks.push(self.start(t));
            self.skip_token();
        }
        let mut t = self.peek()?;
        if self.kind(t) != TokenKind::FlowSequenceEnd {
            if !first {
                if self.kind(t) == TokenKind::FlowEntry {
                    self.skip_token();
                    t = self.peek()?;
                } else {
                    let context_mark = self.marks.pop().unwrap_or_default();
                    return Err(parser_error(
                        context_mark,
                        "did not find expected ',' or ']'",
                        self.start(t),
                    ));
                }
            }
            if self.kind(t) == TokenKind::Key {
                self.state = State::FlowSequenceEntryMappingKey;
                let mut event = Event::new(EventKind::MappingStart, self.start(t));
                event.flow = true;
                self.skip_token();
                return Ok(event);
            } else if self.kind(t) != TokenKind::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        let mut event = Event::new(EventKind::SequenceEnd, self.start(t));
        self.set_event_comments(&mut event);
        self.skip_token();
        Ok(event)
    }

    fn parse_flow_sequence_entry_mapping_key(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        let k = self.kind(t);
        if k != TokenKind::Value && k != TokenKind::FlowEntry && k != TokenKind::FlowSequenceEnd {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(false, false);
        }
        let mark = self.end(t);
        self.skip_token();
        self.state = State::FlowSequenceEntryMappingValue;
        Ok(Event::new(EventKind::Scalar, mark))
    }

    fn parse_flow_sequence_entry_mapping_value(&mut self) -> ScanResult<Event> {
        let mut t = self.peek()?;
        if self.kind(t) == TokenKind::Value {
            self.skip_token();
            t = self.peek()?;
            let k = self.kind(t);
            if k != TokenKind::FlowEntry && k != TokenKind::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        Ok(Event::new(EventKind::Scalar, self.start(t)))
    }

    fn parse_flow_sequence_entry_mapping_end(&mut self) -> ScanResult<Event> {
        let t = self.peek()?;
        self.state = State::FlowSequenceEntry;
        Ok(Event::new(EventKind::MappingEnd, self.start(t)))
    }

    fn parse_flow_mapping_key(&mut self, first: bool) -> ScanResult<Event> {
        if first {
            let t = self.peek()?;
            self.marks.push(self.start(t));
            self.skip_token();
        }
        let mut t = self.peek()?;
        if self.kind(t) != TokenKind::FlowMappingEnd {
            if !first {
                if self.kind(t) == TokenKind::FlowEntry {
                    self.skip_token();
                    t = self.peek()?;
                } else {
                    let context_mark = self.marks.pop().unwrap_or_default();
                    return Err(parser_error(
                        context_mark,
                        "did not find expected ',' or '}'",
                        self.start(t),
                    ));
                }
            }
            if self.kind(t) == TokenKind::Key {
                self.skip_token();
                t = self.peek()?;
                let k = self.kind(t);
                if k != TokenKind::Value
                    && k != TokenKind::FlowEntry
                    && k != TokenKind::FlowMappingEnd
                {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(false, false);
                }
                self.state = State::FlowMappingValue;
                return Ok(Event::new(EventKind::Scalar, self.start(t)));
            } else if self.kind(t) != TokenKind::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        let mut event = Event::new(EventKind::MappingEnd, self.start(t));
        self.set_event_comments(&mut event);
        self.skip_token();
        Ok(event)
    }

    fn parse_flow_mapping_value(&mut self, empty: bool) -> ScanResult<Event> {
        let mut t = self.peek()?;
        if empty {
            self.state = State::FlowMappingKey;
            return Ok(Event::new(EventKind::Scalar, self.start(t)));
        }
        if self.kind(t) == TokenKind::Value {
            self.skip_token();
            t = self.peek()?;
            let k = self.kind(t);
            if k != TokenKind::FlowEntry && k != TokenKind::FlowMappingEnd {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowMappingKey;
        Ok(Event::new(EventKind::Scalar, self.start(t)))
    }

    fn process_directives(&mut self) -> ScanResult<()> {
        let mut t = self.peek()?;
        let mut seen_version = false;
        loop {
            match self.kind(t) {
                TokenKind::VersionDirective => {
                    let tok = &self.scanner.tokens[t];
                    if seen_version {
                        return Err(parser_error(
                            Mark::default(),
                            "found duplicate %YAML directive",
                            tok.start,
                        ));
                    }
                    if tok.major != 1 || tok.minor != 1 {
                        return Err(parser_error(
                            Mark::default(),
                            "found incompatible YAML document",
                            tok.start,
                        ));
                    }
                    seen_version = true;
                }
                TokenKind::TagDirective => {
                    let tok = &self.scanner.tokens[t];
                    if self.tag_directives.iter().any(|(h, _)| *h == tok.value) {
                        return Err(parser_error(
                            Mark::default(),
                            "found duplicate %TAG directive",
                            tok.start,
                        ));
                    }
                    self.tag_directives
                        .push((tok.value.clone(), tok.suffix.clone()));
                }
                _ => break,
            }
            self.skip_token();
            t = self.peek()?;
        }
        for (handle, prefix) in [("!", "!"), ("!!", "tag:yaml.org,2002:")] {
            if !self.tag_directives.iter().any(|(h, _)| h == handle) {
                self.tag_directives
                    .push((handle.to_owned(), prefix.to_owned()));
            }
        }
        Ok(())
    }
}
