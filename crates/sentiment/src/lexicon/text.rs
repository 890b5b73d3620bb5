//! Small text helpers that reproduce Python string semantics VADER relies on
//! (`str.split()`, `str.isupper()`, `str.lower()`, `round()`), plus a fast non-cryptographic
//! hasher for the fixed lexicon tables.
//!
//! Exact Python behaviour matters because VADER's scores depend on it: which tokens count as
//! ALL CAPS, where words split, and how the final scores are rounded.

use std::hash::{BuildHasherDefault, Hasher};

/// `BuildHasher` for the lexicon tables. The tables are built once from embedded data and
/// only ever queried, so a fast multiplicative hash (rustc's `FxHash`) is safe and several
/// times quicker than SipHash on the short keys looked up per token.
pub(super) type FxBuild = BuildHasherDefault<FxHasher>;

/// The `FxHash` algorithm used by rustc: rotate, xor, multiply per 8-byte word.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            if let Ok(array) = <[u8; 8]>::try_from(chunk) {
                self.add(u64::from_le_bytes(array));
            }
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = 0_u64;
            for (k, &byte) in rest.iter().enumerate() {
                word |= u64::from(byte) << (8 * k);
            }
            self.add(word);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Python's `str.isspace()` (what `str.split()` and `str.strip()` split and trim on): Rust's
/// `White_Space` plus the ASCII information separators U+001C..U+001F.
#[inline]
pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// Unicode titlecase letters (general category `Lt`), which make Python's `isupper()` false.
fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{1c5}'
            | '\u{1c8}'
            | '\u{1cb}'
            | '\u{1f2}'
            | '\u{1f88}'..='\u{1f8f}'
            | '\u{1f98}'..='\u{1f9f}'
            | '\u{1fa8}'..='\u{1faf}'
            | '\u{1fbc}'
            | '\u{1fcc}'
            | '\u{1ffc}'
    )
}

/// Python's `str.isupper()`: at least one uppercase character and no lowercase or
/// titlecase character. `"GOOD!"` and `"A1"` are upper; `":)"` and `"Good"` are not.
pub(super) fn py_isupper(word: &str) -> bool {
    let mut cased = false;
    if word.is_ascii() {
        for b in word.bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in word.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Appends Python's `word.lower()` to `out`. ASCII is lowered in place; anything else goes
/// through `str::to_lowercase`, which like Python applies full Unicode mappings (including
/// the word-final sigma rule).
pub(super) fn push_lower(out: &mut String, word: &str) {
    if word.is_ascii() {
        let start = out.len();
        out.push_str(word);
        if let Some(added) = out.get_mut(start..) {
            added.make_ascii_lowercase();
        }
    } else {
        out.push_str(&word.to_lowercase());
    }
}

/// Python's `round(x, ndigits)` for `scale = 10**ndigits`: the exact binary value of `x` is
/// rounded to the nearest multiple of `1/scale`, ties to even, and the result is the double
/// nearest that decimal. Plain `(x * scale).round() / scale` differs on ties and whenever
/// `x * scale` itself rounds, so the product's rounding error is recovered with a fused
/// multiply-add and taken into account.
pub(super) fn py_round(x: f64, scale: f64) -> f64 {
    let product = x * scale;
    if !product.is_finite() || product.abs() >= 4.0e15 {
        return x;
    }
    // Exact: x * scale == product + error.
    let error = x.mul_add(scale, -product);
    let floor = product.floor();
    // `product - floor` is exact; a non-zero `d` dominates `error` (|error| <= ulp/2).
    let d = (product - floor) - 0.5;
    let t = d + error;
    // Above half rounds up, below rounds down, an exact half rounds to even.
    let round_up = t > 0.0 || (t == 0.0 && floor % 2.0 != 0.0);
    let rounded = if round_up { floor + 1.0 } else { floor };
    let result = rounded / scale;
    if result == 0.0 {
        0.0_f64.copysign(x)
    } else {
        result
    }
}
