use proptest::prelude::*;

use super::*;

fn extract_all(chunks: &[&str]) -> (String, Option<serde_json::Value>, Option<String>) {
    let mut extractor = FieldExtractor::new("response");
    let text: String = chunks.iter().map(|c| extractor.push(c)).collect();
    let finished = extractor.finish();
    (text, finished.document, finished.fallback_text)
}

#[test]
fn streams_the_field_and_parses_the_document_at_the_end() {
    let doc = r#"{"response": "Héllo \"wörld\"\nline2 \u00e9 \ud83c\udf89", "sentiment_score": 0.85, "sentiment_label": "Positive", "sentiment_emotion": "joy"}"#;
    let (text, document, fallback) = extract_all(&[doc]);
    assert_eq!(text, "Héllo \"wörld\"\nline2 é 🎉");
    let document = document.unwrap();
    assert_eq!(document["sentiment_score"], 0.85);
    assert_eq!(document["sentiment_label"], "Positive");
    assert_eq!(document["sentiment_emotion"], "joy");
    assert_eq!(fallback, None);
}

#[test]
fn any_field_name_can_be_streamed() {
    let mut extractor = FieldExtractor::new("answer");
    let text = extractor.push(r#"{"response": "not this", "answer": "th"#)
        + &extractor.push(r#"is\n", "n": 1}"#);
    assert_eq!(text, "this\n");
    assert!(extractor.found_field());
    assert_eq!(extractor.finish().document.unwrap()["n"], 1);
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
    let (text, document, _) = extract_all(&[doc]);
    assert_eq!(text, "me");
    assert_eq!(
        document.unwrap()["sentiment_score"],
        "-2",
        "parsed through the fences"
    );
}

#[test]
fn a_reply_without_response_falls_back_to_the_whole_text() {
    let (text, document, fallback) = extract_all(&["Just ", "plain text."]);
    assert_eq!(text, "");
    assert_eq!(fallback.as_deref(), Some("Just plain text."));
    assert_eq!(document, None);
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

fn text_stream(chunks: &[&str]) -> ChatStream {
    let events: Vec<Result<StreamEvent, LlmError>> = chunks
        .iter()
        .map(|chunk| Ok(StreamEvent::Text((*chunk).to_owned())))
        .chain([Ok(StreamEvent::Thought("hidden".into()))])
        .collect();
    Box::pin(futures::stream::iter(events))
}

async fn events_of(stream: ChatStream) -> Vec<StreamEvent> {
    stream.map(Result::unwrap).collect().await
}

#[tokio::test]
async fn a_stream_carries_the_field_as_text_then_the_document() {
    let output = StructuredOutput::streaming(serde_json::json!({}).into(), "answer");
    let events = events_of(extract(
        text_stream(&[r#"{"answer": "Hi ", "#, r#""score": 2}"#]),
        &output,
    ))
    .await;
    assert_eq!(
        events,
        [
            StreamEvent::Text("Hi ".into()),
            StreamEvent::Document(serde_json::json!({"answer": "Hi ", "score": 2})),
        ]
    );
}

#[tokio::test]
async fn without_a_streamed_field_only_the_document_comes_or_the_text_when_it_is_not_json() {
    let output = StructuredOutput {
        schema: serde_json::json!({}).into(),
        streamed_field: None,
    };
    let events = events_of(extract(text_stream(&[r#"{"a": "#, "[1]}"]), &output)).await;
    assert_eq!(
        events,
        [StreamEvent::Document(serde_json::json!({"a": [1]}))]
    );
    let events = events_of(extract(text_stream(&["not ", "json"]), &output)).await;
    assert_eq!(events, [StreamEvent::Text("not json".into())]);
}

#[test]
fn the_property_order_is_required_first_then_the_rest() {
    let output = StructuredOutput::streaming(
        serde_json::json!({
            "properties": {"a": {}, "b": {}, "c": {}, "d": {}},
            "required": ["c", "a"],
        })
        .into(),
        "c",
    );
    assert_eq!(output.property_order(), ["c", "a", "b", "d"]);
}
