use proptest::prelude::*;

use super::*;

fn extract_all(chunks: &[&str]) -> (String, StructuredSentiment, Option<String>) {
    let mut extractor = ResponseExtractor::new();
    let text: String = chunks.iter().map(|c| extractor.push(c)).collect();
    let (sentiment, fallback) = extractor.finish();
    (text, sentiment, fallback)
}

#[test]
fn streams_the_response_and_parses_sentiment_at_the_end() {
    let doc = r#"{"response": "Héllo \"wörld\"\nline2 \u00e9 \ud83c\udf89", "sentiment_score": 0.85, "sentiment_label": "Positive", "sentiment_emotion": "joy"}"#;
    let (text, sentiment, fallback) = extract_all(&[doc]);
    assert_eq!(text, "Héllo \"wörld\"\nline2 é 🎉");
    assert_eq!(sentiment.score, Some(0.85));
    assert_eq!(sentiment.label.as_deref(), Some("Positive"));
    assert_eq!(sentiment.emotion.as_deref(), Some("joy"));
    assert_eq!(fallback, None);
}

#[test]
fn escapes_split_across_chunks_are_decoded() {
    let doc = r#"{"response":"a\u00e9\ud83c\udf89\n\"z"}"#;
    for split in 0..doc.len() {
        let (a, b) = doc.split_at(split);
        let (text, _, _) = extract_all(&[a, b]);
        assert_eq!(text, "aé🎉\n\"z", "split at {split}");
    }
}

#[test]
fn other_fields_and_nested_values_are_skipped() {
    let doc = r#"```json
{"sentiment_score": "-2", "meta": {"response": "not me"}, "note": "a \"response\" here", "response": "me"}
```"#;
    let (text, sentiment, _) = extract_all(&[doc]);
    assert_eq!(text, "me");
    assert_eq!(sentiment.score, Some(-1.0), "clamped, read from a string");
}

#[test]
fn a_reply_without_response_falls_back_to_the_whole_text() {
    let (text, sentiment, fallback) = extract_all(&["Just ", "plain text."]);
    assert_eq!(text, "");
    assert_eq!(fallback.as_deref(), Some("Just plain text."));
    assert_eq!(sentiment, StructuredSentiment::default());
    let (_, _, fallback) = extract_all(&[r#"{"answer": "x", "response": 42}"#]);
    assert_eq!(fallback.as_deref(), Some("42"));
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    let (text, _, _) = extract_all(&[r#"{"response":"a\ud83cb\udc00c"}"#]);
    assert_eq!(text, "a\u{FFFD}b\u{FFFD}c");
}

proptest! {
    #[test]
    fn never_panics_and_chunking_does_not_change_the_result(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        cut in 0usize..300,
    ) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let whole = extract_all(&[&text]);
        let (a, b) = text.split_at(cut);
        prop_assert_eq!(extract_all(&[a, b]), whole);
    }

    #[test]
    fn round_trips_any_string(s in "\\PC{0,80}", cut in 0usize..200) {
        let doc = format!("{{\"response\": {}}}", serde_json::to_string(&s).unwrap());
        let mut cut = cut.min(doc.len());
        while !doc.is_char_boundary(cut) {
            cut -= 1;
        }
        let (a, b) = doc.split_at(cut);
        prop_assert_eq!(extract_all(&[a, b]).0, s);
    }
}
