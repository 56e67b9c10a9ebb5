//! Shamir secret sharing of the data key over GF(2^8) (format.md §7).
//!
//! Written by hand: the share layout (32 evaluations then the x byte) and the
//! field (AES polynomial 0x11B) must match sops exactly, and no maintained
//! crate exposes that layout. Arithmetic is constant time (no tables indexed
//! by secret bytes).

use rand::RngCore;
use zeroize::Zeroizing;

/// Carry-less multiplication reduced by x^8 + x^4 + x^3 + x + 1.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0u8;
    for _ in 0..8 {
        r ^= a & 0u8.wrapping_sub(b & 1);
        let hi = a >> 7;
        a = (a << 1) ^ (0x1b & 0u8.wrapping_sub(hi));
        b >>= 1;
    }
    r
}

/// a^254 = a^-1 (and 0 for 0).
fn inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it.
/// Share i ends with the byte x = i + 1.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Zeroizing<Vec<u8>>>, String> {
    if parts < threshold {
        return Err("parts cannot be less than threshold".into());
    }
    if parts > 255 {
        return Err("parts cannot exceed 255".into());
    }
    if threshold < 2 {
        return Err("threshold must be at least 2".into());
    }
    if threshold > 255 {
        return Err("threshold cannot exceed 255".into());
    }
    if secret.is_empty() {
        return Err("cannot split an empty secret".into());
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> =
        (0..parts).map(|_| Zeroizing::new(Vec::with_capacity(secret.len() + 1))).collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold - 1]);
    for &s in secret {
        rand::rngs::OsRng.fill_bytes(&mut coeffs);
        for (i, share) in shares.iter_mut().enumerate() {
            let x = u8::try_from(i + 1).expect("at most 255 parts");
            // Horner's rule, highest coefficient first.
            let mut y = 0u8;
            for &c in coeffs.iter().rev() {
                y = mul(y, x) ^ c;
            }
            y = mul(y, x) ^ s;
            share.push(y);
        }
    }
    for (i, share) in shares.iter_mut().enumerate() {
        share.push(u8::try_from(i + 1).expect("at most 255 parts"));
    }
    Ok(shares)
}

/// Recovers the secret from at least two shares by Lagrange interpolation at 0.
pub fn combine(shares: &[Zeroizing<Vec<u8>>]) -> Result<Zeroizing<Vec<u8>>, String> {
    if shares.len() < 2 {
        return Err("less than two parts cannot be used to reconstruct the secret".into());
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err("all parts must be the same length".into());
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err("duplicate part detected".into());
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (i, share) in shares.iter().enumerate() {
        // Basis polynomial l_i(0) = prod_{j != i} x_j / (x_i ^ x_j).
        let mut basis = 1u8;
        for (j, &xj) in xs.iter().enumerate() {
            if i != j {
                basis = mul(basis, mul(xj, inv(xs[i] ^ xj)));
            }
        }
        for (out, &y) in secret.iter_mut().zip(share.iter()) {
            *out ^= mul(y, basis);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new((0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect())
    }

    #[test]
    fn combines_shares_written_by_sops() {
        // format.md §7 worked example (2-of-2, sops 3.11).
        let a = hex("9b895d3e273abdc070a557ad9e63aae0f3aaadf005c29ff200883058dcdc3faf01");
        let b = hex("33e4a54561aa334acde4279c300264d304f051cc0f44a25a4b0e6dec0d21bcdd02");
        let key = combine(&[a, b]).unwrap();
        assert_eq!(*key, *hex("0a5bfc17ec4ac74f1b9a8e4b0db519f1579cf9e403497d633903f234937eb781"));
    }

    #[test]
    fn field_multiplication() {
        assert_eq!(mul(0x91, 2), 0x39);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1);
        }
    }

    #[test]
    fn any_threshold_subset_recovers() {
        let secret = [7u8; 32];
        let shares = split(&secret, 3, 2).unwrap();
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            let got = combine(&[shares[i].clone(), shares[j].clone()]).unwrap();
            assert_eq!(&got[..], &secret);
        }
        assert_eq!(shares[2][32], 3);
        assert!(split(&secret, 2, 3).is_err());
        assert!(split(&secret, 3, 1).is_err());
    }
}
