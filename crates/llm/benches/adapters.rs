//! Per-chunk adapter overhead (SSE decoding plus JSON parsing into events) for both wire
//! formats, and the structured extractor over a 4 KiB reply.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lia_llm::providers::{gemini, openai};
use lia_llm::sse::SseDecoder;
use lia_llm::structured::FieldExtractor;

fn chunks(c: &mut Criterion) {
    let openai_frame = br#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world, this is a typical token"},"finish_reason":null}]}

"#;
    let gemini_frame = br#"data: {"candidates":[{"content":{"parts":[{"text":" world, this is a typical token"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4},"modelVersion":"gemini-2.5-flash"}

"#;
    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Elements(1));
    group.bench_function("openai_decode_and_parse", |b| {
        let mut decoder = SseDecoder::default();
        b.iter(|| {
            let events = decoder.push(openai_frame).unwrap_or_default();
            events
                .iter()
                .map(|e| openai::events_from_chunk(&e.data).map_or(0, |v| v.len()))
                .sum::<usize>()
        });
    });
    group.bench_function("gemini_decode_and_parse", |b| {
        let mut decoder = SseDecoder::default();
        b.iter(|| {
            let events = decoder.push(gemini_frame).unwrap_or_default();
            events
                .iter()
                .map(|e| gemini::events_from_chunk(&e.data).len())
                .sum::<usize>()
        });
    });
    group.finish();
}

fn structured(c: &mut Criterion) {
    let sentence =
        "Here is a thoughtful answer with \\\"quotes\\\", a newline\\n and an accent \\u00e9. ";
    let mut response = String::new();
    while response.len() < 4096 {
        response.push_str(sentence);
    }
    let document = format!(
        r#"{{"response": "{response}", "sentiment_score": 0.5, "sentiment_label": "Positive", "sentiment_emotion": "joy"}}"#
    );
    let pieces: Vec<&str> = document
        .as_bytes()
        .chunks(16)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let mut group = c.benchmark_group("structured");
    group.throughput(Throughput::Bytes(document.len() as u64));
    group.bench_function("extract_4k_in_16_byte_chunks", |b| {
        b.iter(|| {
            let mut extractor = FieldExtractor::new("response");
            let n_chars: usize = pieces.iter().map(|piece| extractor.push(piece).len()).sum();
            (n_chars, extractor.finish())
        });
    });
    group.finish();
}

criterion_group!(benches, chunks, structured);
criterion_main!(benches);
