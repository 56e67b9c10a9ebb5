//! Reading a JSON document into a tree the way sops 3.11 does it.
//!
//! sops does not unmarshal JSON into a map: it walks Go's `json.Decoder`
//! token stream (`stores/json/store.go`), which is why duplicate keys and key
//! order survive, why bytes after the top-level object are never looked at,
//! and why a file cut short can still load (format.md §8.2.1). This module
//! reproduces both layers: [`Decoder::token`] is Go's `Decoder.Token` state
//! machine with its error texts, and [`parse_document`] is sops's recursive
//! walk over it, written as a loop with an explicit stack so that deep input
//! cannot exhaust the thread's stack.
//!
//! Values come out as sops 3.11 types them: every number is a float64
//! ([`Value::Float`]), strings are valid UTF-8 (Go replaces bad bytes).

use super::go::{find_byte, has_byte, has_less, invalid_char, is_space, push_lossy, scan_number};
use crate::tree::number::format_float_g;
use crate::tree::{Item, Value};

/// The nesting limit of Go's JSON scanner. Deeper JSON cannot be written by
/// sops (its emitter runs the scanner), so it is refused at load.
pub(super) const MAX_DEPTH: usize = 10_000;

/// Why the token stream stopped. Go's `io.EOF` (end of input where a token
/// should start) is not always an error for sops, so it is kept apart.
enum Fail {
    Eof,
    Msg(String),
}

const UNEXPECTED_EOF: &str = "unexpected EOF";

/// `Decoder.tokenState` in Go's `encoding/json/stream.go`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    TopValue,
    ArrayStart,
    ArrayValue,
    ArrayComma,
    ObjectStart,
    ObjectKey,
    ObjectColon,
    ObjectValue,
    ObjectComma,
}

enum Token {
    /// `[` or `{`.
    Open(u8),
    /// `]` or `}`.
    Close(u8),
    /// A string read where an object key is expected.
    Key(String),
    /// A string, number, boolean or null.
    Scalar(Value),
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    state: State,
    stack: Vec<State>,
    /// Out-of-range numbers become ±Inf instead of failing (see
    /// [`parse_document_lenient`]).
    lenient_numbers: bool,
}

impl<'a> Decoder<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Decoder {
            buf,
            pos: 0,
            state: State::TopValue,
            stack: Vec::new(),
            lenient_numbers: false,
        }
    }

    /// The next non-space byte, without consuming it.
    fn peek(&mut self) -> Result<u8, Fail> {
        while let Some(&b) = self.buf.get(self.pos) {
            if !is_space(b) {
                return Ok(b);
            }
            self.pos += 1;
        }
        Err(Fail::Eof)
    }

    fn value_allowed(&self) -> bool {
        matches!(
            self.state,
            State::TopValue | State::ArrayStart | State::ArrayValue | State::ObjectValue
        )
    }

    fn value_end(&mut self) {
        self.state = match self.state {
            State::ArrayStart | State::ArrayValue => State::ArrayComma,
            State::ObjectValue => State::ObjectComma,
            other => other,
        };
    }

    /// Go's `tokenError`: the context depends on the state; `ObjectStart`
    /// has none, hence sops's bare `invalid character ','` for `{,`.
    fn token_error(&self, c: u8) -> Fail {
        let context = match self.state {
            State::TopValue | State::ArrayStart | State::ArrayValue | State::ObjectValue => {
                " looking for beginning of value"
            }
            State::ArrayComma => " after array element",
            State::ObjectKey => " looking for beginning of object key string",
            State::ObjectColon => " after object key",
            State::ObjectComma => " after object key:value pair",
            State::ObjectStart => "",
        };
        Fail::Msg(invalid_char(c, context))
    }

    /// Go's `Decoder.Token`.
    fn token(&mut self) -> Result<Token, Fail> {
        loop {
            let c = self.peek()?;
            match c {
                b'[' | b'{' => {
                    if !self.value_allowed() {
                        return Err(self.token_error(c));
                    }
                    self.pos += 1;
                    self.stack.push(self.state);
                    self.state = if c == b'[' {
                        State::ArrayStart
                    } else {
                        State::ObjectStart
                    };
                    return Ok(Token::Open(c));
                }
                b']' | b'}' => {
                    let ok = if c == b']' {
                        matches!(self.state, State::ArrayStart | State::ArrayComma)
                    } else {
                        matches!(self.state, State::ObjectStart | State::ObjectComma)
                    };
                    if !ok {
                        return Err(self.token_error(c));
                    }
                    self.pos += 1;
                    self.state = self.stack.pop().unwrap_or(State::TopValue);
                    self.value_end();
                    return Ok(Token::Close(c));
                }
                b':' => {
                    if self.state != State::ObjectColon {
                        return Err(self.token_error(c));
                    }
                    self.pos += 1;
                    self.state = State::ObjectValue;
                }
                b',' => {
                    self.state = match self.state {
                        State::ArrayComma => State::ArrayValue,
                        State::ObjectComma => State::ObjectKey,
                        _ => return Err(self.token_error(c)),
                    };
                    self.pos += 1;
                }
                b'"' if matches!(self.state, State::ObjectStart | State::ObjectKey) => {
                    let key = self.string()?;
                    self.state = State::ObjectColon;
                    return Ok(Token::Key(key));
                }
                _ => {
                    if !self.value_allowed() {
                        return Err(self.token_error(c));
                    }
                    let value = self.scalar(c)?;
                    self.value_end();
                    return Ok(Token::Scalar(value));
                }
            }
        }
    }

    /// One complete scalar starting at `self.pos` (Go's `Decode` into an
    /// `interface{}`: the scanner's error texts, `unexpected EOF` when the
    /// input ends inside the value).
    fn scalar(&mut self, c: u8) -> Result<Value, Fail> {
        match c {
            b'"' => Ok(Value::Str(self.string()?)),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true").map(|()| Value::Bool(true)),
            b'f' => self.literal("false").map(|()| Value::Bool(false)),
            b'n' => self.literal("null").map(|()| Value::Null),
            _ => Err(Fail::Msg(invalid_char(
                c,
                " looking for beginning of value",
            ))),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), Fail> {
        for &expected in &word.as_bytes()[1..] {
            self.pos += 1;
            match self.buf.get(self.pos) {
                None => return Err(Fail::Msg(UNEXPECTED_EOF.to_owned())),
                Some(&b) if b == expected => {}
                Some(&b) => {
                    let context =
                        format!(" in literal {word} (expecting '{}')", char::from(expected));
                    return Err(Fail::Msg(invalid_char(b, &context)));
                }
            }
        }
        self.pos += 1;
        Ok(())
    }

    /// A JSON number (`go::scan_number`). 3.11 converts every number with
    /// `ParseFloat` (§8.2.1).
    fn number(&mut self) -> Result<Value, Fail> {
        let start = self.pos;
        self.pos = scan_number(self.buf, start).map_err(|e| Fail::Msg(e.unwrap_or_else(|| UNEXPECTED_EOF.to_owned())))?;
        // The number grammar only admits ASCII, so this cannot fail.
        let literal = std::str::from_utf8(&self.buf[start..self.pos]).unwrap_or_default();
        // Rust's parser is correctly rounded like Go's `ParseFloat`, and
        // like Go it flushes underflow to zero without error.
        let v: f64 = literal.parse().unwrap_or(f64::NAN);
        if v.is_infinite() && !self.lenient_numbers {
            return Err(Fail::Msg(format!(
                "json: cannot unmarshal number {literal} into Go value of type float64"
            )));
        }
        Ok(Value::Float(v))
    }

    /// A string literal starting at the opening quote, unquoted as Go does:
    /// all JSON escapes, surrogate pairs combined, a lone or mismatched
    /// surrogate escape becomes U+FFFD (the following escape is kept), and
    /// every byte of invalid UTF-8 becomes U+FFFD.
    fn string(&mut self) -> Result<String, Fail> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i += find_string_stop(&self.buf[i..]).unwrap_or(self.buf.len() - i);
            let Some(&b) = self.buf.get(i) else {
                return Err(Fail::Msg(UNEXPECTED_EOF.to_owned()));
            };
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 1;
                    match self.buf.get(i) {
                        None => return Err(Fail::Msg(UNEXPECTED_EOF.to_owned())),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            for _ in 0..4 {
                                i += 1;
                                match self.buf.get(i) {
                                    None => return Err(Fail::Msg(UNEXPECTED_EOF.to_owned())),
                                    Some(h) if h.is_ascii_hexdigit() => {}
                                    Some(&h) => {
                                        return Err(Fail::Msg(invalid_char(
                                            h,
                                            r" in \u hexadecimal character escape",
                                        )))
                                    }
                                }
                            }
                        }
                        Some(&e) => {
                            return Err(Fail::Msg(invalid_char(e, " in string escape code")))
                        }
                    }
                    i += 1;
                }
                _ => return Err(Fail::Msg(invalid_char(b, " in string literal"))),
            }
        }
        self.pos = i + 1;
        let raw = &self.buf[start..i];
        if !escaped {
            if let Ok(s) = std::str::from_utf8(raw) {
                return Ok(s.to_owned());
            }
        }
        Ok(unquote(raw))
    }
}

/// The first byte of `s` that ends a run of plain string content: the
/// closing quote, an escape, or a control character (an error).
pub(super) fn find_string_stop(s: &[u8]) -> Option<usize> {
    find_byte(
        s,
        |w| has_less(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\'),
        |b| b < 0x20 || b == b'"' || b == b'\\',
    )
}

/// The four hex digits of a `\uXXXX` escape at the start of `s`, if any.
fn hex4(s: &[u8]) -> Option<u32> {
    if s.len() < 6 || s[0] != b'\\' || s[1] != b'u' {
        return None;
    }
    let text = std::str::from_utf8(&s[2..6]).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Decodes the body of a string the scanner has already accepted.
fn unquote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let next = raw[i..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(raw.len(), |p| i + p);
        push_lossy(&mut out, &raw[i..next]);
        i = next;
        if i >= raw.len() {
            break;
        }
        // raw[i] is a backslash; the scanner checked the escape is complete.
        let e = raw[i + 1];
        i += 2;
        let c = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex4(&raw[i - 2..]).unwrap_or(0xfffd);
                i += 4;
                if (0xd800..0xe000).contains(&unit) {
                    let low = hex4(&raw[i..]);
                    match low {
                        Some(lo) if unit < 0xdc00 && (0xdc00..0xe000).contains(&lo) => {
                            i += 6;
                            char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (lo - 0xdc00))
                                .unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        _ => char::REPLACEMENT_CHARACTER,
                    }
                } else {
                    char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
            }
            // `"`, `\\` and `/` stand for themselves.
            other => char::from(other),
        };
        out.push(c);
    }
    out
}

/// A frame of sops's recursive descent: an object being filled (with the key
/// whose container value is being read above it) or an array.
enum Frame {
    Branch { items: Vec<Item>, key: String },
    Slice(Vec<Value>),
}

/// What one step of the frame on top of the stack produced.
enum Step {
    Continue,
    /// A nested container starts.
    Push(Frame),
    /// The frame finished (its closing delimiter, or sops's `io.EOF`
    /// shortcut for objects) and yields this value to its parent.
    Done(Value),
    /// `io.EOF` rose out of an array: sops returns the error upward, and the
    /// nearest enclosing object swallows it, dropping its pending item.
    Eof,
}

/// sops's `treeBranchFromJSON`: the top-level object of `input`, or the text
/// sops prints after `Could not unmarshal input data: `.
pub(super) fn parse_document(input: &[u8]) -> Result<Vec<Item>, String> {
    run(Decoder::new(input))
}

/// As [`parse_document`], but a number out of float64 range loads as ±Inf.
/// For encrypted files without metadata, whose tree sops never parses.
pub(super) fn parse_document_lenient(input: &[u8]) -> Result<Vec<Item>, String> {
    let mut dec = Decoder::new(input);
    dec.lenient_numbers = true;
    run(dec)
}

fn run(mut dec: Decoder<'_>) -> Result<Vec<Item>, String> {
    match dec.token() {
        Ok(Token::Open(b'{')) => {}
        Ok(Token::Open(c) | Token::Close(c)) => {
            return Err(format!(
                "Expected JSON object start, got delimiter {} instead",
                char::from(c)
            ))
        }
        Ok(Token::Scalar(v)) => {
            return Err(format!(
                "Expected JSON object start, got {} instead",
                describe(&v)
            ))
        }
        Ok(Token::Key(_)) => unreachable!("keys are only read inside objects"),
        Err(Fail::Eof) => return Err("EOF".to_owned()),
        Err(Fail::Msg(m)) => return Err(m),
    }
    let mut stack = vec![Frame::Branch {
        items: Vec::new(),
        key: String::new(),
    }];
    loop {
        let step = match stack.last_mut() {
            Some(Frame::Branch { items, key }) => branch_step(&mut dec, items, key)?,
            Some(Frame::Slice(values)) => slice_step(&mut dec, values)?,
            None => unreachable!("the top-level object is popped only when done"),
        };
        let value = match step {
            Step::Continue => continue,
            Step::Push(frame) => {
                let c = if matches!(frame, Frame::Slice(_)) {
                    b'['
                } else {
                    b'{'
                };
                stack.push(frame);
                if stack.len() > MAX_DEPTH {
                    return Err(invalid_char(c, " exceeded max depth"));
                }
                continue;
            }
            Step::Done(v) => {
                stack.pop();
                v
            }
            Step::Eof => loop {
                match stack.pop() {
                    Some(Frame::Slice(_)) => {}
                    Some(Frame::Branch { items, .. }) => break Value::Map(items),
                    None => unreachable!("the bottom frame is an object"),
                }
            },
        };
        match stack.last_mut() {
            None => {
                let Value::Map(items) = value else {
                    unreachable!("the bottom frame is an object")
                };
                return Ok(items);
            }
            Some(Frame::Branch { items, key }) => {
                items.push(Item::Pair(std::mem::take(key), value));
            }
            Some(Frame::Slice(values)) => values.push(value),
        }
    }
}

/// `%#v of type %T` of a top-level scalar. A string is not quoted back:
/// sops would print it, rsops keeps plaintext out of messages (STYLE §3).
fn describe(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("{} of type float64", format_float_g(*f)),
        Value::Bool(b) => format!("{b} of type bool"),
        Value::Null => "<nil> of type <nil>".to_owned(),
        _ => "a string of type string".to_owned(),
    }
}

fn container(c: u8) -> Frame {
    if c == b'[' {
        Frame::Slice(Vec::new())
    } else {
        Frame::Branch {
            items: Vec::new(),
            key: String::new(),
        }
    }
}

/// sops's `treeItemFromJSONDecoder` for the object on top of the stack.
fn branch_step(
    dec: &mut Decoder<'_>,
    items: &mut Vec<Item>,
    key: &mut String,
) -> Result<Step, String> {
    let k = match dec.token() {
        Ok(Token::Key(k)) => k,
        Ok(Token::Close(_)) => return Ok(Step::Done(Value::Map(std::mem::take(items)))),
        // Go formats the nil token of io.EOF with `%s` and `%T`.
        Err(Fail::Eof) => {
            return Err("Expected JSON object key, got %!s(<nil>) of type <nil> instead".to_owned())
        }
        Err(Fail::Msg(m)) => return Err(m),
        Ok(Token::Open(_) | Token::Scalar(_)) => {
            unreachable!("Go's token states only allow a key or `}}` here")
        }
    };
    match dec.token() {
        Ok(Token::Scalar(v)) => items.push(Item::Pair(k, v)),
        Ok(Token::Open(c)) => {
            *key = k;
            return Ok(Step::Push(container(c)));
        }
        // Go leaves the value nil; its token states never return these here.
        Ok(Token::Close(_) | Token::Key(_)) => items.push(Item::Pair(k, Value::Null)),
        // sops's branch loop returns what it has on io.EOF, dropping `k`.
        Err(Fail::Eof) => return Ok(Step::Done(Value::Map(std::mem::take(items)))),
        Err(Fail::Msg(m)) => return Err(m),
    }
    Ok(Step::Continue)
}

/// sops's `sliceFromJSONDecoder` for the array on top of the stack.
fn slice_step(dec: &mut Decoder<'_>, values: &mut Vec<Value>) -> Result<Step, String> {
    match dec.token() {
        Ok(Token::Close(_)) => Ok(Step::Done(Value::Seq(std::mem::take(values)))),
        Ok(Token::Open(c)) => Ok(Step::Push(container(c))),
        Ok(Token::Scalar(v)) => {
            values.push(v);
            Ok(Step::Continue)
        }
        Ok(Token::Key(k)) => {
            values.push(Value::Str(k));
            Ok(Step::Continue)
        }
        Err(Fail::Eof) => Ok(Step::Eof),
        Err(Fail::Msg(m)) => Err(m),
    }
}
