//! Input bytes to characters, with go-yaml's reader checks and messages:
//! UTF-8 only (a leading byte-order mark is dropped), no control characters.

/// End-of-input padding the scanner relies on (it looks up to four
/// characters ahead).
const PADDING: usize = 8;

pub(super) fn decode(input: &[u8]) -> Result<Vec<char>, String> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut out = Vec::with_capacity(input.len() + PADDING);
    let mut i = 0;
    while i < input.len() {
        let octet = input[i];
        let (width, mut value) = match octet {
            o if o & 0x80 == 0x00 => (1, u32::from(o & 0x7F)),
            o if o & 0xE0 == 0xC0 => (2, u32::from(o & 0x1F)),
            o if o & 0xF0 == 0xE0 => (3, u32::from(o & 0x0F)),
            o if o & 0xF8 == 0xF0 => (4, u32::from(o & 0x07)),
            _ => return Err("yaml: invalid leading UTF-8 octet".to_owned()),
        };
        if i + width > input.len() {
            return Err("yaml: incomplete UTF-8 octet sequence".to_owned());
        }
        for k in 1..width {
            let o = input[i + k];
            if o & 0xC0 != 0x80 {
                return Err("yaml: invalid trailing UTF-8 octet".to_owned());
            }
            value = (value << 6) + u32::from(o & 0x3F);
        }
        let shortest = match width {
            1 => true,
            2 => value >= 0x80,
            3 => value >= 0x800,
            _ => value >= 0x10000,
        };
        if !shortest {
            return Err("yaml: invalid length of a UTF-8 sequence".to_owned());
        }
        let Some(c) = char::from_u32(value) else {
            return Err("yaml: invalid Unicode character".to_owned());
        };
        let allowed = matches!(value, 0x09 | 0x0A | 0x0D | 0x85)
            || (0x20..=0x7E).contains(&value)
            || (0xA0..=0xD7FF).contains(&value)
            || (0xE000..=0xFFFD).contains(&value)
            || (0x1_0000..=0x0010_FFFF).contains(&value);
        if !allowed {
            return Err("yaml: control characters are not allowed".to_owned());
        }
        out.push(c);
        i += width;
    }
    out.resize(out.len() + PADDING, '\0');
    Ok(out)
}
