//! YAML tokenizer that also collects comments the way go-yaml v3 does.
//!
//! Why not saphyr-parser: sops places each comment according to go-yaml's
//! head/line/foot comment assignment (format.md §8.1.4), and that assignment
//! is made *inside go-yaml's scanner*: it depends on the indentation stack,
//! pending simple keys, blank lines and a two-token lookahead. None of that is
//! visible from an event stream, so comment placement cannot be reconstructed
//! from saphyr's events. This scanner follows the same tokenization algorithm
//! (the libyaml design that go-yaml ports) so that tokens, comment
//! associations and error positions come out as sops sees them.
//!
//! Input is a slice of `char`s (decoded and checked by `reader`); marks count
//! characters, as go-yaml's do.

use std::collections::HashMap;

/// A position in the input. Signed because go-yaml moves marks one before the
/// start and compares columns with an indentation of -1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub index: i64,
    pub line: i64,
    pub column: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    StreamStart,
    StreamEnd,
    VersionDirective,
    TagDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

#[derive(Clone)] // no Debug: holds plaintext (STYLE §3)
pub(super) struct Token {
    pub kind: TokenKind,
    pub start: Mark,
    pub end: Mark,
    /// Scalar text, anchor/alias name, tag handle or %TAG handle.
    pub value: String,
    /// Tag suffix or %TAG prefix.
    pub suffix: String,
    pub style: ScalarStyle,
    pub major: i32,
    pub minor: i32,
}

impl Token {
    fn new(kind: TokenKind, start: Mark, end: Mark) -> Token {
        Token {
            kind,
            start,
            end,
            value: String::new(),
            suffix: String::new(),
            style: ScalarStyle::Plain,
            major: 0,
            minor: 0,
        }
    }
}

/// A comment block found by the scanner, with the marks that decide which
/// token (and so which node) it is attached to.
#[derive(Clone, Default)] // no Debug: holds comment text
pub(super) struct Comment {
    pub scan_mark: Mark,
    pub token_mark: Mark,
    pub start_mark: Mark,
    pub end_mark: Mark,
    pub head: String,
    pub line: String,
    pub foot: String,
}

#[derive(Clone, Copy, Debug, Default)]
struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

/// A scanner or parser failure, in go-yaml's terms (`parser.fail` turns it
/// into text).
#[derive(Clone, Debug)]
pub(super) struct SyntaxError {
    pub scanner: bool,
    pub context_mark: Mark,
    pub problem: String,
    pub problem_mark: Mark,
}

impl SyntaxError {
    /// go-yaml's `parser.fail` message, including its line arithmetic
    /// (scanner errors are one-based, parser errors report the zero-based
    /// line of the context mark).
    pub(super) fn message(&self) -> String {
        let mut line = 0;
        if self.context_mark.line != 0 {
            line = self.context_mark.line;
            if self.scanner {
                line += 1;
            }
        } else if self.problem_mark.line != 0 {
            line = self.problem_mark.line;
            if self.scanner {
                line += 1;
            }
        }
        let problem = if self.problem.is_empty() {
            "unknown problem parsing YAML content"
        } else {
            &self.problem
        };
        if line != 0 {
            format!("yaml: line {line}: {problem}")
        } else {
            format!("yaml: {problem}")
        }
    }
}

pub(super) type ScanResult<T> = Result<T, SyntaxError>;

const MAX_FLOW_LEVEL: usize = 10000;
const MAX_INDENTS: usize = 10000;

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_breakz(c: char) -> bool {
    is_break(c) || c == '\0'
}

fn is_blankz(c: char) -> bool {
    is_blank(c) || is_breakz(c)
}

fn is_alpha(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn hex_value(c: char) -> Option<u32> {
    c.to_digit(16)
}

#[allow(clippy::struct_excessive_bools)] // go-yaml's scanner state
pub(super) struct Scanner<'a> {
    buf: &'a [char],
    pos: usize,
    pub mark: Mark,
    newlines: i64,

    pub tokens: Vec<Token>,
    pub tokens_head: usize,
    pub tokens_parsed: usize,
    pub token_available: bool,
    stream_start_produced: bool,
    pub stream_end_produced: bool,

    indent: i64,
    indents: Vec<i64>,
    simple_key_allowed: bool,
    simple_keys: Vec<SimpleKey>,
    simple_keys_by_tok: HashMap<usize, usize>,
    flow_level: usize,

    pub comments: Vec<Comment>,
    pub comments_head: usize,
}

impl<'a> Scanner<'a> {
    /// `buf` must end with at least four `'\0'` characters (end of input).
    pub(super) fn new(buf: &'a [char]) -> Scanner<'a> {
        Scanner {
            buf,
            pos: 0,
            mark: Mark::default(),
            newlines: 0,
            tokens: Vec::new(),
            tokens_head: 0,
            tokens_parsed: 0,
            token_available: false,
            stream_start_produced: false,
            stream_end_produced: false,
            indent: 0,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            simple_keys_by_tok: HashMap::new(),
            flow_level: 0,
            comments: Vec::new(),
            comments_head: 0,
        }
    }

    fn ch(&self, offset: usize) -> char {
        self.buf.get(self.pos + offset).copied().unwrap_or('\0')
    }

    fn cur(&self) -> char {
        self.ch(0)
    }

    fn error(&self, context_mark: Mark, problem: &str) -> SyntaxError {
        SyntaxError {
            scanner: true,
            context_mark,
            problem: problem.to_owned(),
            problem_mark: self.mark,
        }
    }

    fn skip(&mut self) {
        if !is_blank(self.cur()) {
            self.newlines = 0;
        }
        self.mark.index += 1;
        self.mark.column += 1;
        self.pos += 1;
    }

    fn skip_line(&mut self) {
        if self.cur() == '\r' && self.ch(1) == '\n' {
            self.mark.index += 2;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 2;
            self.newlines += 1;
        } else if is_break(self.cur()) {
            self.mark.index += 1;
            self.mark.column = 0;
            self.mark.line += 1;
            self.pos += 1;
            self.newlines += 1;
        }
    }

    fn read(&mut self, s: &mut String) {
        let c = self.cur();
        if !is_blank(c) {
            self.newlines = 0;
        }
        s.push(c);
        self.pos += 1;
        self.mark.index += 1;
        self.mark.column += 1;
    }

    fn read_line(&mut self, s: &mut String) {
        let c = self.cur();
        if c == '\r' && self.ch(1) == '\n' {
            s.push('\n');
            self.pos += 2;
            self.mark.index += 1;
        } else if c == '\r' || c == '\n' || c == '\u{85}' {
            s.push('\n');
            self.pos += 1;
        } else if c == '\u{2028}' || c == '\u{2029}' {
            s.push(c);
            self.pos += 1;
        } else {
            return;
        }
        self.mark.index += 1;
        self.mark.column = 0;
        self.mark.line += 1;
        self.newlines += 1;
    }

    /// Inserts a token `pos` places after the queue head, or at the end.
    fn insert_token(&mut self, pos: Option<usize>, token: Token) {
        // Drop consumed tokens now and then; the scanner only ever looks at
        // the last two queued tokens and at unconsumed ones.
        if self.tokens_head > 4096 && self.tokens.len() - self.tokens_head < 16 {
            let drop = self.tokens_head - 2;
            self.tokens.drain(..drop);
            self.tokens_head -= drop;
        }
        match pos {
            None => self.tokens.push(token),
            Some(p) => self.tokens.insert(self.tokens_head + p, token),
        }
    }

    /// Makes sure a token is available at the head of the queue.
    pub(super) fn fetch_more_tokens(&mut self) -> ScanResult<()> {
        loop {
            // go-yaml keeps two tokens of lookahead so foot comments can be
            // attached before the preceding token is handed out.
            if self.tokens.len() >= 3 && self.tokens_head < self.tokens.len() - 2 {
                match self.simple_keys_by_tok.get(&self.tokens_parsed).copied() {
                    None => break,
                    Some(idx) => {
                        let mut key = self.simple_keys[idx];
                        let valid = self.simple_key_is_valid(&mut key)?;
                        self.simple_keys[idx] = key;
                        if !valid {
                            break;
                        }
                    }
                }
            }
            self.fetch_next_token()?;
        }
        self.token_available = true;
        Ok(())
    }

    fn fetch_next_token(&mut self) -> ScanResult<()> {
        if !self.stream_start_produced {
            self.fetch_stream_start();
            return Ok(());
        }
        let scan_mark = self.mark;
        self.scan_to_next_token();
        self.unroll_indent(self.mark.column, scan_mark);

        let c = self.cur();
        if c == '\0' {
            return self.fetch_stream_end();
        }
        if self.mark.column == 0 && c == '%' {
            return self.fetch_directive();
        }
        if self.mark.column == 0
            && c == '-'
            && self.ch(1) == '-'
            && self.ch(2) == '-'
            && is_blankz(self.ch(3))
        {
            return self.fetch_document_indicator(TokenKind::DocumentStart);
        }
        if self.mark.column == 0
            && c == '.'
            && self.ch(1) == '.'
            && self.ch(2) == '.'
            && is_blankz(self.ch(3))
        {
            return self.fetch_document_indicator(TokenKind::DocumentEnd);
        }

        let mut comment_mark = self.mark;
        if !self.tokens.is_empty()
            && (self.flow_level == 0 && c == ':' || self.flow_level > 0 && c == ',')
        {
            // Comments after a ':' or ',' belong to the token before it.
            comment_mark = self.tokens[self.tokens.len() - 1].start;
        }

        self.fetch_token_body(c)?;

        if self
            .tokens
            .last()
            .is_some_and(|t| t.kind == TokenKind::BlockEntry)
        {
            // A '-' alone has no line comment; it becomes a head comment of
            // whatever follows.
            return Ok(());
        }
        self.scan_line_comment(comment_mark);
        Ok(())
    }

    fn fetch_token_body(&mut self, c: char) -> ScanResult<()> {
        match c {
            '[' => return self.fetch_flow_collection_start(TokenKind::FlowSequenceStart),
            '{' => return self.fetch_flow_collection_start(TokenKind::FlowMappingStart),
            ']' => return self.fetch_flow_collection_end(TokenKind::FlowSequenceEnd),
            '}' => return self.fetch_flow_collection_end(TokenKind::FlowMappingEnd),
            ',' => return self.fetch_flow_entry(),
            _ => {}
        }
        let next = self.ch(1);
        if c == '-' && is_blankz(next) {
            return self.fetch_block_entry();
        }
        if c == '?' && (self.flow_level > 0 || is_blankz(next)) {
            return self.fetch_key();
        }
        if c == ':' && (self.flow_level > 0 || is_blankz(next)) {
            return self.fetch_value();
        }
        match c {
            '*' => return self.fetch_anchor(TokenKind::Alias),
            '&' => return self.fetch_anchor(TokenKind::Anchor),
            '!' => return self.fetch_tag(),
            '|' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            '>' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            '\'' => return self.fetch_flow_scalar(true),
            '"' => return self.fetch_flow_scalar(false),
            _ => {}
        }
        let indicator = is_blankz(c)
            || matches!(
                c,
                '-' | '?'
                    | ':'
                    | ','
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '#'
                    | '&'
                    | '*'
                    | '!'
                    | '|'
                    | '>'
                    | '\''
                    | '"'
                    | '%'
                    | '@'
                    | '`'
            );
        if !indicator
            || (c == '-' && !is_blank(next))
            || (self.flow_level == 0 && (c == '?' || c == ':') && !is_blankz(next))
        {
            return self.fetch_plain_scalar();
        }
        Err(self.error(self.mark, "found character that cannot start any token"))
    }

    fn simple_key_is_valid(&self, key: &mut SimpleKey) -> ScanResult<bool> {
        if !key.possible {
            return Ok(false);
        }
        // An implicit key is one line and at most 1024 characters long.
        if key.mark.line < self.mark.line || key.mark.index + 1024 < self.mark.index {
            if key.required {
                return Err(self.error(key.mark, "could not find expected ':'"));
            }
            key.possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    fn save_simple_key(&mut self) -> ScanResult<()> {
        let required = self.flow_level == 0 && self.indent == self.mark.column;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens_parsed + (self.tokens.len() - self.tokens_head),
                mark: self.mark,
            };
            self.remove_simple_key()?;
            let last = self.simple_keys.len() - 1;
            self.simple_keys[last] = key;
            self.simple_keys_by_tok.insert(key.token_number, last);
        }
        Ok(())
    }

    fn remove_simple_key(&mut self) -> ScanResult<()> {
        let i = self.simple_keys.len() - 1;
        if self.simple_keys[i].possible {
            if self.simple_keys[i].required {
                return Err(self.error(self.simple_keys[i].mark, "could not find expected ':'"));
            }
            self.simple_keys[i].possible = false;
            self.simple_keys_by_tok
                .remove(&self.simple_keys[i].token_number);
        }
        Ok(())
    }

    fn increase_flow_level(&mut self) -> ScanResult<()> {
        self.simple_keys.push(SimpleKey {
            possible: false,
            required: false,
            token_number: self.tokens_parsed + (self.tokens.len() - self.tokens_head),
            mark: self.mark,
        });
        self.flow_level += 1;
        if self.flow_level > MAX_FLOW_LEVEL {
            let mark = self.simple_keys[self.simple_keys.len() - 1].mark;
            return Err(self.error(mark, &format!("exceeded max depth of {MAX_FLOW_LEVEL}")));
        }
        Ok(())
    }

    fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(key) = self.simple_keys.pop() {
                self.simple_keys_by_tok.remove(&key.token_number);
            }
        }
    }

    fn roll_indent(
        &mut self,
        column: i64,
        number: Option<usize>,
        kind: TokenKind,
        mark: Mark,
    ) -> ScanResult<()> {
        if self.flow_level > 0 {
            return Ok(());
        }
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            if self.indents.len() > MAX_INDENTS {
                let mark = self.simple_keys[self.simple_keys.len() - 1].mark;
                return Err(self.error(mark, &format!("exceeded max depth of {MAX_INDENTS}")));
            }
            let pos = number.map(|n| n - self.tokens_parsed);
            self.insert_token(pos, Token::new(kind, mark, mark));
        }
        Ok(())
    }

    fn unroll_indent(&mut self, column: i64, scan_mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        let mut block_mark = scan_mark;
        block_mark.index -= 1;
        while self.indent > column {
            // Place the BLOCK-END before foot comments of parent blocks: look
            // back for recent comments at the indentation of the block that
            // ends here.
            let mut stop_index = block_mark.index;
            for comment in self.comments.iter().rev() {
                if comment.end_mark.index < stop_index {
                    break;
                }
                if comment.start_mark.column == self.indent + 1 {
                    block_mark = comment.start_mark;
                }
                stop_index = comment.scan_mark.index;
            }
            self.insert_token(
                None,
                Token::new(TokenKind::BlockEnd, block_mark, block_mark),
            );
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn fetch_stream_start(&mut self) {
        self.indent = -1;
        self.simple_keys.push(SimpleKey::default());
        self.simple_key_allowed = true;
        self.stream_start_produced = true;
        self.insert_token(
            None,
            Token::new(TokenKind::StreamStart, self.mark, self.mark),
        );
    }

    fn fetch_stream_end(&mut self) -> ScanResult<()> {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        self.insert_token(None, Token::new(TokenKind::StreamEnd, self.mark, self.mark));
        Ok(())
    }

    fn fetch_directive(&mut self) -> ScanResult<()> {
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_directive()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_document_indicator(&mut self, kind: TokenKind) -> ScanResult<()> {
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_collection_start(&mut self, kind: TokenKind) -> ScanResult<()> {
        self.save_simple_key()?;
        self.increase_flow_level()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_collection_end(&mut self, kind: TokenKind) -> ScanResult<()> {
        self.remove_simple_key()?;
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(kind, start, end));
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> ScanResult<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::FlowEntry, start, end));
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> ScanResult<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.error(
                    self.mark,
                    "block sequence entries are not allowed in this context",
                ));
            }
            self.roll_indent(
                self.mark.column,
                None,
                TokenKind::BlockSequenceStart,
                self.mark,
            )?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::BlockEntry, start, end));
        Ok(())
    }

    fn fetch_key(&mut self) -> ScanResult<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(self.error(self.mark, "mapping keys are not allowed in this context"));
            }
            self.roll_indent(
                self.mark.column,
                None,
                TokenKind::BlockMappingStart,
                self.mark,
            )?;
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::Key, start, end));
        Ok(())
    }

    fn fetch_value(&mut self) -> ScanResult<()> {
        let last = self.simple_keys.len() - 1;
        let mut key = self.simple_keys[last];
        let valid = self.simple_key_is_valid(&mut key)?;
        self.simple_keys[last] = key;
        if valid {
            // The saved simple key becomes a KEY token inserted before it.
            let token = Token::new(TokenKind::Key, key.mark, key.mark);
            self.insert_token(Some(key.token_number - self.tokens_parsed), token);
            self.roll_indent(
                key.mark.column,
                Some(key.token_number),
                TokenKind::BlockMappingStart,
                key.mark,
            )?;
            self.simple_keys[last].possible = false;
            self.simple_keys_by_tok.remove(&key.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    return Err(
                        self.error(self.mark, "mapping values are not allowed in this context")
                    );
                }
                self.roll_indent(
                    self.mark.column,
                    None,
                    TokenKind::BlockMappingStart,
                    self.mark,
                )?;
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert_token(None, Token::new(TokenKind::Value, start, end));
        Ok(())
    }

    fn fetch_anchor(&mut self, kind: TokenKind) -> ScanResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_anchor(kind)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_tag(&mut self) -> ScanResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_tag()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_block_scalar(&mut self, literal: bool) -> ScanResult<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let token = self.scan_block_scalar(literal)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> ScanResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_flow_scalar(single)?;
        self.insert_token(None, token);
        Ok(())
    }

    fn fetch_plain_scalar(&mut self) -> ScanResult<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let token = self.scan_plain_scalar()?;
        self.insert_token(None, token);
        Ok(())
    }

    fn scan_to_next_token(&mut self) {
        let scan_mark = self.mark;
        loop {
            // A byte-order mark may start any line.
            if self.mark.column == 0 && self.cur() == '\u{feff}' {
                self.skip();
            }
            while self.cur() == ' '
                || ((self.flow_level > 0 || !self.simple_key_allowed) && self.cur() == '\t')
            {
                self.skip();
            }

            // A line comment right after "- " on a new sequence is a head
            // comment of what follows (go-yaml: "- # comment").
            let n = self.tokens.len();
            if !self.comments.is_empty() && n > 1 {
                let a = self.tokens[n - 2].kind;
                let b = self.tokens[n - 1].kind;
                let at_break = is_break(self.cur());
                let line_now = self.mark.line;
                let mark_now = self.mark;
                let comment = self.comments.last_mut().expect("checked non-empty");
                if a == TokenKind::BlockSequenceStart
                    && b == TokenKind::BlockEntry
                    && !comment.line.is_empty()
                    && !at_break
                {
                    comment.head = std::mem::take(&mut comment.line);
                    if comment.start_mark.line == line_now - 1 {
                        comment.token_mark = mark_now;
                    }
                }
            }

            if self.cur() == '#' {
                self.scan_comments(scan_mark);
            }

            if is_break(self.cur()) {
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
    }

    fn scan_directive(&mut self) -> ScanResult<Token> {
        let start = self.mark;
        self.skip();
        let name = self.scan_directive_name(start)?;
        let mut token = if name == "YAML" {
            let (major, minor) = self.scan_version_directive_value(start)?;
            let mut t = Token::new(TokenKind::VersionDirective, start, self.mark);
            t.major = major;
            t.minor = minor;
            t
        } else if name == "TAG" {
            let (handle, prefix) = self.scan_tag_directive_value(start)?;
            let mut t = Token::new(TokenKind::TagDirective, start, self.mark);
            t.value = handle;
            t.suffix = prefix;
            t
        } else {
            return Err(self.error(start, "found unknown directive name"));
        };
        token.end = self.mark;
        while is_blank(self.cur()) {
            self.skip();
        }
        if self.cur() == '#' {
            while !is_breakz(self.cur()) {
                self.skip();
            }
        }
        if !is_breakz(self.cur()) {
            return Err(self.error(start, "did not find expected comment or line break"));
        }
        if is_break(self.cur()) {
            self.skip_line();
        }
        Ok(token)
    }

    fn scan_directive_name(&mut self, start: Mark) -> ScanResult<String> {
        let mut s = String::new();
        while is_alpha(self.cur()) {
            self.read(&mut s);
        }
        if s.is_empty() {
            return Err(self.error(start, "could not find expected directive name"));
        }
        if !is_blankz(self.cur()) {
            return Err(self.error(start, "found unexpected non-alphabetical character"));
        }
        Ok(s)
    }

    fn scan_version_directive_value(&mut self, start: Mark) -> ScanResult<(i32, i32)> {
        while is_blank(self.cur()) {
            self.skip();
        }
        let major = self.scan_version_directive_number(start)?;
        if self.cur() != '.' {
            return Err(self.error(start, "did not find expected digit or '.' character"));
        }
        self.skip();
        let minor = self.scan_version_directive_number(start)?;
        Ok((major, minor))
    }

    fn scan_version_directive_number(&mut self, start: Mark) -> ScanResult<i32> {
        let mut value = 0i32;
        let mut length = 0;
        while let Some(d) = self.cur().to_digit(10) {
            length += 1;
            if length > 2 {
                return Err(self.error(start, "found extremely long version number"));
            }
            value = value * 10 + i32::try_from(d).unwrap_or(0);
            self.skip();
        }
        if length == 0 {
            return Err(self.error(start, "did not find expected version number"));
        }
        Ok(value)
    }

    fn scan_tag_directive_value(&mut self, start: Mark) -> ScanResult<(String, String)> {
        while is_blank(self.cur()) {
            self.skip();
        }
        let handle = self.scan_tag_handle(true, start)?;
        if !is_blank(self.cur()) {
            return Err(self.error(start, "did not find expected whitespace"));
        }
        while is_blank(self.cur()) {
            self.skip();
        }
        let prefix = self.scan_tag_uri(true, None, start)?;
        if !is_blankz(self.cur()) {
            return Err(self.error(start, "did not find expected whitespace or line break"));
        }
        Ok((handle, prefix))
    }

    fn scan_anchor(&mut self, kind: TokenKind) -> ScanResult<Token> {
        let start = self.mark;
        self.skip();
        let mut s = String::new();
        while is_alpha(self.cur()) {
            self.read(&mut s);
        }
        let end = self.mark;
        let c = self.cur();
        if s.is_empty()
            || !(is_blankz(c) || matches!(c, '?' | ':' | ',' | ']' | '}' | '%' | '@' | '`'))
        {
            return Err(self.error(
                start,
                "did not find expected alphabetic or numeric character",
            ));
        }
        let mut token = Token::new(kind, start, end);
        token.value = s;
        Ok(token)
    }

    fn scan_tag(&mut self) -> ScanResult<Token> {
        let start = self.mark;
        let handle;
        let suffix;
        if self.ch(1) == '<' {
            self.skip();
            self.skip();
            suffix = self.scan_tag_uri(false, None, start)?;
            if self.cur() != '>' {
                return Err(self.error(start, "did not find the expected '>'"));
            }
            self.skip();
            handle = String::new();
        } else {
            let h = self.scan_tag_handle(false, start)?;
            if h.len() > 1 && h.starts_with('!') && h.ends_with('!') {
                handle = h;
                suffix = self.scan_tag_uri(false, None, start)?;
            } else {
                let s = self.scan_tag_uri(false, Some(&h), start)?;
                if s.is_empty() {
                    // A lone '!' is the non-specific tag.
                    handle = String::new();
                    suffix = "!".to_owned();
                } else {
                    handle = "!".to_owned();
                    suffix = s;
                }
            }
        }
        if !is_blankz(self.cur()) {
            return Err(self.error(start, "did not find expected whitespace or line break"));
        }
        let mut token = Token::new(TokenKind::Tag, start, self.mark);
        token.value = handle;
        token.suffix = suffix;
        Ok(token)
    }

    fn scan_tag_handle(&mut self, directive: bool, start: Mark) -> ScanResult<String> {
        if self.cur() != '!' {
            return Err(self.error(start, "did not find expected '!'"));
        }
        let mut s = String::new();
        self.read(&mut s);
        while is_alpha(self.cur()) {
            self.read(&mut s);
        }
        if self.cur() == '!' {
            self.read(&mut s);
        } else if directive && s != "!" {
            return Err(self.error(start, "did not find expected '!'"));
        }
        Ok(s)
    }

    fn scan_tag_uri(
        &mut self,
        directive: bool,
        head: Option<&str>,
        start: Mark,
    ) -> ScanResult<String> {
        let mut s = String::new();
        let mut has_tag = head.is_some_and(|h| !h.is_empty());
        if let Some(h) = head {
            if h.len() > 1 {
                s.push_str(&h[1..]);
            }
        }
        loop {
            let c = self.cur();
            let uri_char = is_alpha(c)
                || matches!(
                    c,
                    ';' | '/'
                        | '?'
                        | ':'
                        | '@'
                        | '&'
                        | '='
                        | '+'
                        | '$'
                        | ','
                        | '.'
                        | '!'
                        | '~'
                        | '*'
                        | '\''
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '%'
                );
            if !uri_char {
                break;
            }
            if c == '%' {
                self.scan_uri_escapes(directive, start, &mut s)?;
            } else {
                self.read(&mut s);
            }
            has_tag = true;
        }
        if !has_tag {
            return Err(self.error(start, "did not find expected tag URI"));
        }
        Ok(s)
    }

    fn scan_uri_escapes(
        &mut self,
        _directive: bool,
        start: Mark,
        s: &mut String,
    ) -> ScanResult<()> {
        let mut bytes = Vec::new();
        let mut w = 1024usize;
        while w > 0 {
            let (Some(hi), Some(lo)) = (hex_value(self.ch(1)), hex_value(self.ch(2))) else {
                return Err(self.error(start, "did not find URI escaped octet"));
            };
            if self.cur() != '%' {
                return Err(self.error(start, "did not find URI escaped octet"));
            }
            let octet = u8::try_from((hi << 4) + lo).unwrap_or(0);
            if w == 1024 {
                w = match octet {
                    o if o & 0x80 == 0 => 1,
                    o if o & 0xE0 == 0xC0 => 2,
                    o if o & 0xF0 == 0xE0 => 3,
                    o if o & 0xF8 == 0xF0 => 4,
                    _ => return Err(self.error(start, "found an incorrect leading UTF-8 octet")),
                };
            } else if octet & 0xC0 != 0x80 {
                return Err(self.error(start, "found an incorrect trailing UTF-8 octet"));
            }
            bytes.push(octet);
            self.skip();
            self.skip();
            self.skip();
            w -= 1;
        }
        s.push_str(&String::from_utf8_lossy(&bytes));
        Ok(())
    }

    fn scan_block_scalar(&mut self, literal: bool) -> ScanResult<Token> {
        let start = self.mark;
        self.skip();
        let mut chomping = 0i32;
        let mut increment = 0i64;
        if self.cur() == '+' || self.cur() == '-' {
            chomping = if self.cur() == '+' { 1 } else { -1 };
            self.skip();
            if let Some(d) = self.cur().to_digit(10) {
                if d == 0 {
                    return Err(self.error(start, "found an indentation indicator equal to 0"));
                }
                increment = i64::from(d);
                self.skip();
            }
        } else if let Some(d) = self.cur().to_digit(10) {
            if d == 0 {
                return Err(self.error(start, "found an indentation indicator equal to 0"));
            }
            increment = i64::from(d);
            self.skip();
            if self.cur() == '+' || self.cur() == '-' {
                chomping = if self.cur() == '+' { 1 } else { -1 };
                self.skip();
            }
        }
        while is_blank(self.cur()) {
            self.skip();
        }
        if self.cur() == '#' {
            self.scan_line_comment(start);
            while !is_breakz(self.cur()) {
                self.skip();
            }
        }
        if !is_breakz(self.cur()) {
            return Err(self.error(start, "did not find expected comment or line break"));
        }
        if is_break(self.cur()) {
            self.skip_line();
        }
        let mut end = self.mark;

        let mut indent = 0i64;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent + increment
            } else {
                increment
            };
        }

        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;

        let mut leading_blank = false;
        while self.mark.column == indent && self.cur() != '\0' {
            let trailing_blank = is_blank(self.cur());
            if !literal && !leading_blank && !trailing_blank && leading_break.starts_with('\n') {
                if trailing_breaks.is_empty() {
                    s.push(' ');
                }
            } else {
                s.push_str(&leading_break);
            }
            leading_break.clear();
            s.push_str(&trailing_breaks);
            trailing_breaks.clear();

            leading_blank = is_blank(self.cur());
            while !is_breakz(self.cur()) {
                self.read(&mut s);
            }
            self.read_line(&mut leading_break);
            self.scan_block_scalar_breaks(&mut indent, &mut trailing_breaks, start, &mut end)?;
        }
        if chomping != -1 {
            s.push_str(&leading_break);
        }
        if chomping == 1 {
            s.push_str(&trailing_breaks);
        }
        let mut token = Token::new(TokenKind::Scalar, start, end);
        token.value = s;
        token.style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        Ok(token)
    }

    fn scan_block_scalar_breaks(
        &mut self,
        indent: &mut i64,
        breaks: &mut String,
        start: Mark,
        end: &mut Mark,
    ) -> ScanResult<()> {
        *end = self.mark;
        let mut max_indent = 0;
        loop {
            while (*indent == 0 || self.mark.column < *indent) && self.cur() == ' ' {
                self.skip();
            }
            if self.mark.column > max_indent {
                max_indent = self.mark.column;
            }
            if (*indent == 0 || self.mark.column < *indent) && self.cur() == '\t' {
                return Err(self.error(
                    start,
                    "found a tab character where an indentation space is expected",
                ));
            }
            if !is_break(self.cur()) {
                break;
            }
            self.read_line(breaks);
            *end = self.mark;
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent + 1).max(1);
        }
        Ok(())
    }

    fn at_document_indicator(&self) -> bool {
        self.mark.column == 0
            && ((self.cur() == '-' && self.ch(1) == '-' && self.ch(2) == '-')
                || (self.cur() == '.' && self.ch(1) == '.' && self.ch(2) == '.'))
            && is_blankz(self.ch(3))
    }

    #[allow(clippy::too_many_lines)] // one loop, kept whole to mirror go-yaml
    fn scan_flow_scalar(&mut self, single: bool) -> ScanResult<Token> {
        let start = self.mark;
        self.skip();
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut whitespaces = String::new();
        loop {
            if self.at_document_indicator() {
                return Err(self.error(start, "found unexpected document indicator"));
            }
            if self.cur() == '\0' {
                return Err(self.error(start, "found unexpected end of stream"));
            }
            let mut leading_blanks = false;
            while !is_blankz(self.cur()) {
                let c = self.cur();
                if single && c == '\'' && self.ch(1) == '\'' {
                    s.push('\'');
                    self.skip();
                    self.skip();
                } else if single && c == '\'' || !single && c == '"' {
                    break;
                } else if !single && c == '\\' && is_break(self.ch(1)) {
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == '\\' {
                    let mut code_length = 0;
                    match self.ch(1) {
                        '0' => s.push('\0'),
                        'a' => s.push('\x07'),
                        'b' => s.push('\x08'),
                        't' | '\t' => s.push('\t'),
                        'n' => s.push('\n'),
                        'v' => s.push('\x0b'),
                        'f' => s.push('\x0c'),
                        'r' => s.push('\r'),
                        'e' => s.push('\x1b'),
                        ' ' => s.push(' '),
                        '"' => s.push('"'),
                        '\'' => s.push('\''),
                        '\\' => s.push('\\'),
                        'N' => s.push('\u{85}'),
                        '_' => s.push('\u{a0}'),
                        'L' => s.push('\u{2028}'),
                        'P' => s.push('\u{2029}'),
                        'x' => code_length = 2,
                        'u' => code_length = 4,
                        'U' => code_length = 8,
                        _ => return Err(self.error(start, "found unknown escape character")),
                    }
                    self.skip();
                    self.skip();
                    if code_length > 0 {
                        let mut value = 0u32;
                        for k in 0..code_length {
                            let Some(d) = hex_value(self.ch(k)) else {
                                return Err(
                                    self.error(start, "did not find expected hexdecimal number")
                                );
                            };
                            value = (value << 4) + d;
                        }
                        let Some(ch) = char::from_u32(value) else {
                            return Err(
                                self.error(start, "found invalid Unicode character escape code")
                            );
                        };
                        s.push(ch);
                        for _ in 0..code_length {
                            self.skip();
                        }
                    }
                } else {
                    self.read(&mut s);
                }
            }
            let c = self.cur();
            if single && c == '\'' || !single && c == '"' {
                break;
            }
            while is_blank(self.cur()) || is_break(self.cur()) {
                if is_blank(self.cur()) {
                    if leading_blanks {
                        self.skip();
                    } else {
                        self.read(&mut whitespaces);
                    }
                } else if leading_blanks {
                    self.read_line(&mut trailing_breaks);
                } else {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                }
            }
            if leading_blanks {
                if leading_break.starts_with('\n') {
                    if trailing_breaks.is_empty() {
                        s.push(' ');
                    } else {
                        s.push_str(&trailing_breaks);
                    }
                } else {
                    s.push_str(&leading_break);
                    s.push_str(&trailing_breaks);
                }
                trailing_breaks.clear();
                leading_break.clear();
            } else {
                s.push_str(&whitespaces);
                whitespaces.clear();
            }
        }
        self.skip();
        let mut token = Token::new(TokenKind::Scalar, start, self.mark);
        token.value = s;
        token.style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        Ok(token)
    }

    fn scan_plain_scalar(&mut self) -> ScanResult<Token> {
        let mut s = String::new();
        let mut leading_break = String::new();
        let mut trailing_breaks = String::new();
        let mut whitespaces = String::new();
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start = self.mark;
        let mut end = self.mark;
        loop {
            if self.at_document_indicator() {
                break;
            }
            if self.cur() == '#' {
                break;
            }
            while !is_blankz(self.cur()) {
                let c = self.cur();
                if (c == ':' && is_blankz(self.ch(1)))
                    || (self.flow_level > 0 && matches!(c, ',' | '?' | '[' | ']' | '{' | '}'))
                {
                    break;
                }
                if leading_blanks || !whitespaces.is_empty() {
                    if leading_blanks {
                        if leading_break.starts_with('\n') {
                            if trailing_breaks.is_empty() {
                                s.push(' ');
                            } else {
                                s.push_str(&trailing_breaks);
                            }
                        } else {
                            s.push_str(&leading_break);
                            s.push_str(&trailing_breaks);
                        }
                        trailing_breaks.clear();
                        leading_break.clear();
                        leading_blanks = false;
                    } else {
                        s.push_str(&whitespaces);
                        whitespaces.clear();
                    }
                }
                self.read(&mut s);
                end = self.mark;
            }
            if !(is_blank(self.cur()) || is_break(self.cur())) {
                break;
            }
            while is_blank(self.cur()) || is_break(self.cur()) {
                if is_blank(self.cur()) {
                    if leading_blanks && self.mark.column < indent && self.cur() == '\t' {
                        return Err(
                            self.error(start, "found a tab character that violates indentation")
                        );
                    }
                    if leading_blanks {
                        self.skip();
                    } else {
                        self.read(&mut whitespaces);
                    }
                } else if leading_blanks {
                    self.read_line(&mut trailing_breaks);
                } else {
                    whitespaces.clear();
                    self.read_line(&mut leading_break);
                    leading_blanks = true;
                }
            }
            if self.flow_level == 0 && self.mark.column < indent {
                break;
            }
        }
        let mut token = Token::new(TokenKind::Scalar, start, end);
        token.value = s;
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        Ok(token)
    }

    /// A comment on the same line as the token just scanned.
    fn scan_line_comment(&mut self, token_mark: Mark) {
        if self.newlines > 0 {
            return;
        }
        let mut start_mark = Mark::default();
        let mut text = String::new();
        let mut peek = 0;
        while peek < 512 {
            if is_blank(self.ch(peek)) {
                peek += 1;
                continue;
            }
            if self.ch(peek) == '#' {
                let seen = self.mark.index + i64::try_from(peek).unwrap_or(0);
                loop {
                    if is_breakz(self.cur()) {
                        if self.mark.index >= seen {
                            break;
                        }
                        self.skip_line();
                    } else if self.mark.index >= seen {
                        if text.is_empty() {
                            start_mark = self.mark;
                        }
                        self.read(&mut text);
                    } else {
                        self.skip();
                    }
                }
            }
            break;
        }
        if !text.is_empty() {
            self.comments.push(Comment {
                token_mark,
                start_mark,
                line: text,
                ..Comment::default()
            });
        }
    }

    /// Comment lines (and blank lines between them) before the next token:
    /// split into foot comments of what came before and a head comment of
    /// what follows, by indentation and blank lines.
    #[allow(clippy::too_many_lines)]
    fn scan_comments(&mut self, mut scan_mark: Mark) {
        let n = self.tokens.len();
        let mut token = &self.tokens[n - 1];
        if token.kind == TokenKind::FlowEntry && n > 1 {
            token = &self.tokens[n - 2];
        }
        let token_kind = token.kind;
        let mut token_mark = token.start;
        let mut start_mark = Mark::default();
        let mut next_indent = self.indent.max(0);

        let mut recent_empty = false;
        let mut first_empty = self.newlines <= 1;

        let mut line = self.mark.line;
        let mut column = self.mark.column;
        let mut text = String::new();

        // A comment starting on this line (or the next, if the current line
        // has content) may still be a foot of the prior content.
        let mut foot_line = -1;
        if scan_mark.line > 0 {
            foot_line = self.mark.line - self.newlines + 1;
            if self.newlines == 0 && self.mark.column > 1 {
                foot_line += 1;
            }
        }

        let mut peek: usize = 0;
        while peek < 512 {
            column += 1;
            let c = self.ch(peek);
            if is_blank(c) {
                peek += 1;
                continue;
            }
            let here = self.mark.index + i64::try_from(peek).unwrap_or(0);
            let close_flow = self.flow_level > 0 && (c == ']' || c == '}');
            if close_flow || is_breakz(c) {
                if close_flow || !recent_empty {
                    if close_flow
                        || first_empty
                            && (start_mark.line == foot_line && token_kind != TokenKind::Value
                                || start_mark.column - 1 < next_indent)
                    {
                        // First empty line and no empty lines before: this
                        // first part is a foot of the prior token.
                        if !text.is_empty() {
                            if start_mark.column - 1 < next_indent {
                                // Dedented: unrelated to the prior token.
                                token_mark = start_mark;
                            }
                            let end_mark = Mark {
                                index: here,
                                line,
                                column,
                            };
                            self.comments.push(Comment {
                                scan_mark,
                                token_mark,
                                start_mark,
                                end_mark,
                                foot: std::mem::take(&mut text),
                                ..Comment::default()
                            });
                            scan_mark = end_mark;
                            token_mark = scan_mark;
                        }
                    } else if !text.is_empty() && c != '\0' {
                        text.push('\n');
                    }
                }
                if !is_break(c) {
                    break;
                }
                first_empty = false;
                recent_empty = true;
                column = 0;
                line += 1;
                peek += 1;
                continue;
            }

            if !text.is_empty()
                && (close_flow || column - 1 < next_indent && column != start_mark.column)
            {
                // A comment at another indentation is a foot of the
                // preceding data rather than a head of what follows.
                let end_mark = Mark {
                    index: here,
                    line,
                    column,
                };
                self.comments.push(Comment {
                    scan_mark,
                    token_mark,
                    start_mark,
                    end_mark,
                    foot: std::mem::take(&mut text),
                    ..Comment::default()
                });
                scan_mark = end_mark;
                token_mark = scan_mark;
            }

            if c != '#' {
                break;
            }

            if text.is_empty() {
                start_mark = Mark {
                    index: here,
                    line,
                    column,
                };
            } else {
                text.push('\n');
            }
            recent_empty = false;

            // Consume up to the end of this comment line.
            let seen = here;
            loop {
                if is_breakz(self.cur()) {
                    if self.mark.index >= seen {
                        break;
                    }
                    self.skip_line();
                } else if self.mark.index >= seen {
                    self.read(&mut text);
                } else {
                    self.skip();
                }
            }

            // The line break after the comment is skipped by the loop step.
            peek = 1;
            column = 0;
            line = self.mark.line;
            next_indent = self.indent.max(0);
        }

        if !text.is_empty() {
            let end_mark = Mark {
                index: self.mark.index + i64::try_from(peek).unwrap_or(0) - 1,
                line,
                column,
            };
            self.comments.push(Comment {
                scan_mark,
                token_mark: start_mark,
                start_mark,
                end_mark,
                head: text,
                ..Comment::default()
            });
        }
    }
}
