//! Bech32 decoding with the error texts of Go age's `internal/bech32`.
//!
//! sops prints these inside its messages, e.g. `malformed secret key:
//! invalid checksum` or `malformed recipient "age1bad": separator '1' at
//! invalid position: pos=3, len=7` (cli.md §2.3, §3.11). The `age` crate
//! parses the key afterwards; this module only decides whether Go would
//! accept the text and with which complaint. None of the texts carries key
//! material: a reported character is one outside the Bech32 alphabet.

use zeroize::{Zeroize, Zeroizing};

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u32; 5] = [
    0x3b6a_57b2,
    0x2650_8e6d,
    0x1ea1_19fa,
    0x3d42_33dd,
    0x2a14_62b3,
];

/// A decoded string: the human-readable part as written and the data bytes.
pub(super) struct Decoded {
    pub(super) hrp: String,
    pub(super) data: Zeroizing<Vec<u8>>,
}

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn checksum_ok(hrp: &str, data: &[u8]) -> bool {
    let lower = hrp.to_ascii_lowercase();
    let expanded = lower
        .bytes()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(lower.bytes().map(|c| c & 31));
    polymod(expanded.chain(data.iter().copied())) == 1
}

/// Go's `convertBits(data, 5, 8, false)`.
fn five_to_eight(data: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() * 5 / 8));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &v in data {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        while bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if bits >= 5 {
        return Err("illegal zero padding".to_owned());
    }
    if (acc << (8 - bits)) & 0xff != 0 {
        return Err("non-zero padding".to_owned());
    }
    acc.zeroize();
    Ok(out)
}

/// Go age's `bech32.Decode`, error for error.
pub(super) fn decode(s: &str) -> Result<Decoded, String> {
    // Go compares with ToLower/ToUpper copies; checking the characters gives
    // the same answer without copying a secret key.
    if s.chars().any(char::is_lowercase) && s.chars().any(char::is_uppercase) {
        return Err("mixed case".to_owned());
    }
    let pos = s.rfind('1');
    let len = s.len();
    let pos = match pos {
        Some(pos) if pos >= 1 && pos + 7 <= len => pos,
        other => {
            let shown = other.map_or(-1, |p| i64::try_from(p).unwrap_or(i64::MAX));
            return Err(format!(
                "separator '1' at invalid position: pos={shown}, len={len}"
            ));
        }
    };
    let hrp = &s[..pos];
    for (p, c) in hrp.char_indices() {
        let code = c as u32;
        if !(33..=126).contains(&code) {
            return Err(format!(
                "invalid character human-readable part: s[{p}]={code}"
            ));
        }
    }
    let mut values = Zeroizing::new(Vec::with_capacity(len - pos - 1));
    for (p, c) in s[pos + 1..].char_indices() {
        let lower = c.to_ascii_lowercase();
        match CHARSET.iter().position(|&x| char::from(x) == lower) {
            Some(v) => values.push(u8::try_from(v).expect("charset has 32 entries")),
            None => {
                return Err(format!("invalid character data part: s[{p}]={}", c as u32));
            }
        }
    }
    if !checksum_ok(hrp, &values) {
        return Err("invalid checksum".to_owned());
    }
    let data = five_to_eight(&values[..values.len() - 6])?;
    Ok(Decoded {
        hrp: hrp.to_owned(),
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPIENT: &str = "age1vpdz8sa903q3476nzv00hk54zxf5gjuyvmx23k79njac2at2ha6q4qryq3";

    #[test]
    fn decodes_recipients_and_identities() {
        let d = decode(RECIPIENT).unwrap();
        assert_eq!(d.hrp, "age");
        assert_eq!(d.data.len(), 32);
        let upper = decode(&RECIPIENT.to_uppercase()).unwrap();
        assert_eq!(upper.hrp, "AGE");
        assert_eq!(*upper.data, *d.data);
    }

    #[test]
    fn errors_match_go() {
        // Each text was printed by sops 3.11 for the same input (cli.md §3.11).
        let err = |s: &str| decode(s).err().unwrap();
        assert_eq!(
            err("age1bad"),
            "separator '1' at invalid position: pos=3, len=7"
        );
        assert_eq!(
            err("AGE-SECRET-KEY-1XYZ"),
            "separator '1' at invalid position: pos=15, len=19"
        );
        assert_eq!(
            err("nothing"),
            "separator '1' at invalid position: pos=-1, len=7"
        );
        let bad_sum = RECIPIENT.replace("ryq3", "ryq4");
        assert_eq!(err(&bad_sum), "invalid checksum");
        let bad_char = format!("{}b", &RECIPIENT[..RECIPIENT.len() - 1]);
        assert_eq!(err(&bad_char), "invalid character data part: s[57]=98");
        let upper = RECIPIENT.to_uppercase();
        assert_eq!(err(&format!("{upper} junk")), "mixed case");
        assert_eq!(
            err("a\u{7f}1qqqqqqq"),
            "invalid character human-readable part: s[1]=127"
        );
    }
}
