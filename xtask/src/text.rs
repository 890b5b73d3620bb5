//! Varied, realistic chat text from templates: questions, moods and replies across topics.

use crate::rng::SplitMix64;

const TOPICS: &[&str] = &[
    "sourdough bread",
    "my job interview",
    "learning Rust",
    "a trip to Lisbon",
    "my sister's wedding",
    "training for a half marathon",
    "the garden",
    "a broken laptop",
    "moving to a new city",
    "my thesis",
    "the quarterly report",
    "my cat",
    "a chess opening",
    "saving money",
    "sleep",
    "a board game night",
    "the new apartment",
    "my guitar practice",
    "a difficult client",
    "the weather",
];
const OPENERS: &[&str] = &[
    "Can you help me with",
    "I have a question about",
    "I've been thinking about",
    "Tell me more about",
    "I'm worried about",
    "I'm so excited about",
    "I need advice on",
    "What do you know about",
    "I'm frustrated with",
    "Quick question regarding",
];
const MOODS: &[&str] = &[
    "It's going really well, thanks!",
    "Honestly it's been a terrible week.",
    "I'm not sure how I feel.",
    "This is amazing, I love it!",
    "I'm a bit nervous, to be honest.",
    "Ugh, nothing works today.",
    "Thanks, that was really helpful.",
    "I don't think that's right.",
    "Okay.",
    "Wow, I did not expect that!",
];
const REPLIES: &[&str] = &[
    "That sounds like a great plan. Here are a few things to keep in mind:",
    "I understand how that feels. Let's break it down step by step.",
    "Good question! The short answer is that it depends on a couple of factors.",
    "Here's what I'd suggest, starting with the simplest option.",
    "It might help to look at it from a different angle.",
    "Congratulations! That's worth celebrating.",
];
const DETAILS: &[&str] = &[
    "First, set aside some time each day.",
    "Second, write down what you've tried so far.",
    "Keep the first version small and build on it.",
    "Ask someone you trust for feedback.",
    "Don't be too hard on yourself if it takes a few tries.",
    "Measure before you change anything.",
    "A short walk often helps clear your head.",
    "Use `cargo test` early and often.",
];

/// A user message: a question, a mood, or both.
pub(crate) fn user_message(rng: &mut SplitMix64) -> String {
    match rng.below(3) {
        0 => format!("{} {}?", rng.pick(OPENERS), rng.pick(TOPICS)),
        1 => (*rng.pick(MOODS)).to_owned(),
        _ => format!(
            "{} {} {}",
            rng.pick(MOODS),
            rng.pick(OPENERS),
            rng.pick(TOPICS)
        ),
    }
}

/// An assistant reply of one to four sentences, sometimes as a Markdown list.
pub(crate) fn assistant_message(rng: &mut SplitMix64) -> String {
    let mut reply = (*rng.pick(REPLIES)).to_owned();
    let n_details = 1 + rng.below(3);
    let as_list = rng.below(2) == 0;
    for _ in 0..n_details {
        reply.push_str(if as_list { "\n- " } else { " " });
        let detail = *rng.pick(DETAILS);
        reply.push_str(detail);
    }
    reply
}

/// A conversation title, as derived from a first message.
pub(crate) fn title(rng: &mut SplitMix64) -> String {
    let topic = rng.pick(TOPICS);
    let mut chars = topic.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
