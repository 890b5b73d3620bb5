//! Fuzzes the structured-mode extractor: any bytes, cut into chunks at any points, must never
//! panic, and chunking must not change what is extracted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lia_llm::structured::FieldExtractor;

fuzz_target!(|data: &[u8]| {
    let Some((&cut_seed, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut cut = usize::from(cut_seed) % (text.len() + 1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut whole = FieldExtractor::new("response");
    let whole_text = whole.push(&text);
    let mut split = FieldExtractor::new("response");
    let (a, b) = text.split_at(cut);
    let split_text = split.push(a) + &split.push(b);
    assert_eq!(whole_text, split_text);
    assert_eq!(whole.finish(), split.finish());
});
