//! Text without `core::fmt`: in the wasm, `format!` and `to_string` pull in the
//! formatting machinery (kilobytes), so the SDK builds its few strings from pieces
//! (`cat`) and writes numbers with `decimal`. See BENCHMARKS.md, size budget.

/// The pieces one after the other. (`[..].concat()` does the same through generic
/// code that costs a kilobyte of wasm.)
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(p);
    }
    s
}

/// `n` in decimal, as `n.to_string()` writes it.
pub fn decimal(n: i64) -> String {
    // Digits from the end of a buffer that holds the longest, i64::MIN's 19 and a sign.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut s = String::new();
    if n < 0 {
        s.push('-');
    }
    for &d in &digits[at..] {
        s.push(char::from(d));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{cat, decimal};

    #[test]
    fn cat_joins_the_pieces() {
        assert_eq!(cat(&["RTC", "12", ""]), "RTC12");
        assert_eq!(cat(&[]), "");
    }

    #[test]
    fn decimal_writes_what_to_string_writes() {
        for n in [0, 7, 10, 99, 100, 12345, -1, -90, i64::MAX, i64::MIN] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
