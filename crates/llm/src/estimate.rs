//! Token counts without a tokenizer, for when a provider reports none: a stream that was
//! stopped, failed, cut off or interrupted before its last chunk (where usage arrives), or
//! a provider that never reports usage (the offline one).
//!
//! The rule counts characters by script, with the ratios BPE tokenizers of current chat
//! models (OpenAI's `cl100k`/`o200k`, Gemini's SentencePiece) show on ordinary text:
//!
//! | characters | per token |
//! | --- | --- |
//! | ASCII (English, code, digits, punctuation, spaces) | 4 |
//! | other alphabetic scripts (accented Latin, Cyrillic, Greek, Arabic, Hebrew, Indic...) | 3 |
//! | Han, kana, Hangul | 1 |
//! | anything else (emoji, symbols) | 0.5 (two tokens each) |
//!
//! The sum is rounded up, so any non-empty text is at least one token. A chat prompt adds
//! [`MESSAGE_OVERHEAD`] tokens per message (role and separators, as OpenAI's chat format
//! counts them). Estimates are labelled as such wherever they are stored or exported.

use crate::types::ChatMessage;

/// Tokens a chat message costs beyond its content (role, separators).
pub const MESSAGE_OVERHEAD: u32 = 4;

/// Estimated tokens of `text`.
#[must_use]
pub fn tokens(text: &str) -> u32 {
    // Twelfths of a token, so every ratio of the table is an integer.
    let twelfths: u64 = text.chars().map(twelfths).sum();
    u32::try_from(twelfths.div_ceil(12)).unwrap_or(u32::MAX)
}

/// Estimated prompt tokens of a chat request's `messages`.
#[must_use]
pub fn prompt_tokens(messages: &[ChatMessage]) -> u32 {
    messages
        .iter()
        .map(|message| tokens(&message.content).saturating_add(MESSAGE_OVERHEAD))
        .fold(0, u32::saturating_add)
}

/// A character's cost in twelfths of a token.
fn twelfths(c: char) -> u64 {
    if c.is_ascii() {
        3
    } else if is_cjk(c) {
        12
    } else if c.is_alphabetic() || c.is_whitespace() || is_combining(c) {
        4
    } else {
        24
    }
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B and later
}

fn is_combining(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x0900..=0x0DFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ChatRole;

    #[test]
    fn each_script_costs_its_ratio() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("a"), 1, "any text is at least one token");
        assert_eq!(tokens("abcd"), 1);
        assert_eq!(tokens("abcde"), 2);
        assert_eq!(
            tokens(&"word ".repeat(100)),
            125,
            "four ASCII characters a token"
        );
        assert_eq!(
            tokens(&"привет".repeat(10)),
            20,
            "three Cyrillic characters a token"
        );
        assert_eq!(
            tokens("こんにちは世界"),
            7,
            "one token per kana or Han character"
        );
        assert_eq!(tokens("안녕하세요"), 5);
        assert_eq!(tokens("🙂🙂"), 4, "two tokens per emoji");
    }

    #[test]
    fn a_prompt_adds_the_per_message_overhead() {
        let messages = [
            ChatMessage::new(ChatRole::System, "You are Lia."),
            ChatMessage::new(ChatRole::User, "Hi there"),
        ];
        assert_eq!(prompt_tokens(&messages), (3 + 4) + (2 + 4));
    }

    #[test]
    fn plain_english_is_within_fifteen_percent_of_one_token_per_word() {
        // Sentences of common words only, where BPE tokenizers of chat models give one token
        // per word and per punctuation mark (`cl100k` splits the first into exactly these
        // 10). Not a calibration against a real tokenizer: none is available offline.
        let corpus = [
            ("The quick brown fox jumps over the lazy dog.", 10),
            ("I love my new bike! It makes my day so much better.", 14),
            ("Could you tell me what the weather will be like today?", 12),
            (
                "We went to the park and then had dinner with our friends.",
                13,
            ),
        ];
        let estimated: u32 = corpus.iter().map(|(text, _)| tokens(text)).sum();
        let reference: u32 = corpus.iter().map(|(_, count)| count).sum();
        let ratio = f64::from(estimated) / f64::from(reference);
        assert!((0.85..=1.15).contains(&ratio), "{estimated} vs {reference}");
    }
}
