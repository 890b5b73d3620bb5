//! Throughput of the VADER port: `polarity` and `emotion` over 1,000 short chat messages
//! (generated deterministically from fragments), reported as messages per second. The
//! target is well over 100,000 messages/second on one core.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lia_sentiment::lexicon::LexiconAnalyzer;

const OPENERS: &[&str] = &[
    "hey", "ok so", "honestly", "lol", "wow", "ugh", "hi!", "well", "omg", "thanks,", "hmm", "",
];
const SUBJECTS: &[&str] = &[
    "the movie",
    "my day",
    "this app",
    "your answer",
    "the food",
    "work",
    "the new update",
    "that game",
    "the weather",
    "my exam",
];
const VERBS: &[&str] = &[
    "was",
    "is",
    "seems",
    "looks",
    "felt",
    "isn't",
    "was not",
    "is kind of",
];
const MODIFIERS: &[&str] = &[
    "",
    "very ",
    "really ",
    "SO ",
    "extremely ",
    "barely ",
    "a bit ",
];
const ADJECTIVES: &[&str] = &[
    "good", "bad", "great", "terrible", "amazing", "boring", "fine", "awful", "funny", "weird",
    "helpful", "annoying", "perfect", "sad",
];
const TAILS: &[&str] = &[
    ".",
    "!",
    "!!!",
    "?",
    "??",
    " :)",
    " :(",
    " 😀",
    " 😢",
    " 😂",
    " ❤️",
    "",
    " but whatever",
    " but I love it",
    ", thank you so much",
    ", why though?",
];

/// Deterministic pseudo-random index (64-bit LCG), so every run benches the same text.
fn pick<'a>(state: &mut u64, items: &[&'a str]) -> &'a str {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let len = items.len().max(1) as u64;
    let index = usize::try_from((*state >> 33) % len).unwrap_or(0);
    items.get(index).copied().unwrap_or("")
}

fn messages(count: usize) -> Vec<String> {
    let mut state = 0x5eed_u64;
    (0..count)
        .map(|_| {
            let opener = pick(&mut state, OPENERS);
            let subject = pick(&mut state, SUBJECTS);
            let verb = pick(&mut state, VERBS);
            let modifier = pick(&mut state, MODIFIERS);
            let adjective = pick(&mut state, ADJECTIVES);
            let tail = pick(&mut state, TAILS);
            format!("{opener} {subject} {verb} {modifier}{adjective}{tail}")
                .trim()
                .to_owned()
        })
        .collect()
}

fn bench_lexicon(c: &mut Criterion) {
    let analyzer = LexiconAnalyzer::new();
    let messages = messages(1_000);
    let mut group = c.benchmark_group("lexicon");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("polarity", |b| {
        b.iter(|| {
            for message in &messages {
                black_box(analyzer.polarity(black_box(message)));
            }
        });
    });
    group.bench_function("polarity+emotion", |b| {
        b.iter(|| {
            for message in &messages {
                let polarity = analyzer.polarity(black_box(message));
                black_box(analyzer.emotion_with_polarity(message, &polarity));
                black_box(polarity);
            }
        });
    });
    group.bench_function("emotion", |b| {
        b.iter(|| {
            for message in &messages {
                black_box(analyzer.emotion(black_box(message)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench_lexicon);
criterion_main!(benches);
