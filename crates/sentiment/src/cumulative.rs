//! The conversation's rolling sentiment: O(1) per message, a plain value the chat service
//! stores per conversation.
//!
//! - First message: the message's own result ("User is joyful").
//! - Later messages: an LLM update of summary and score when an LLM method is in use;
//!   otherwise, or when that fails, the weighted average
//!   `(old × count + message) / (count + 1)` with the summary kept.
//! - No message result either: the state is kept, its count increased.

use lia_domain::{CumulativeSentiment, SentimentResult, SentimentScore, SentimentSource};

/// The first-message rule: the state starts as the message's own result.
#[must_use]
pub fn first_message(message: &SentimentResult) -> (CumulativeSentiment, SentimentResult) {
    let mood = message
        .emotion
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| message.label.as_str().to_lowercase());
    let state = CumulativeSentiment {
        summary: format!("User is {mood}"),
        score: message.score,
        count: 1,
        label: message.label,
    };
    let result = result_of(
        &state,
        SentimentSource::Incremental,
        message.emotion.clone(),
    );
    (state, result)
}

/// The weighted-average rule.
#[must_use]
pub fn weighted_average(
    previous: &CumulativeSentiment,
    message: &SentimentResult,
) -> (CumulativeSentiment, SentimentResult) {
    let count = f64::from(previous.count);
    let score = SentimentScore::clamped(
        (previous.score.value() * count + message.score.value()) / (count + 1.0),
    );
    let state = CumulativeSentiment {
        summary: previous.summary.clone(),
        score,
        count: previous.count.saturating_add(1),
        label: score.label(),
    };
    let result = result_of(&state, SentimentSource::IncrementalFallback, None);
    (state, result)
}

/// The state kept as it was, with one more message counted.
#[must_use]
pub fn unchanged(previous: &CumulativeSentiment) -> (CumulativeSentiment, SentimentResult) {
    let state = CumulativeSentiment {
        count: previous.count.saturating_add(1),
        ..previous.clone()
    };
    let result = result_of(&state, SentimentSource::IncrementalUnchanged, None);
    (state, result)
}

/// The rule without an LLM, applied to `previous` (the state stored now): the first-message
/// rule when nothing was counted yet, the weighted average otherwise, and the state kept
/// (counted) when there is no message result. A fallback result says nothing about the
/// message, so it never moves the average. This is what a turn applies when another turn of
/// the same conversation updated the state while it ran: deterministic, so no update is lost.
#[must_use]
pub fn apply(
    previous: Option<&CumulativeSentiment>,
    message: Option<&SentimentResult>,
) -> (CumulativeSentiment, SentimentResult) {
    let previous = previous.cloned().unwrap_or_default();
    let message = message.filter(|m| m.source != SentimentSource::Fallback);
    match message {
        Some(message) if previous.count == 0 => first_message(message),
        Some(message) => weighted_average(&previous, message),
        None => unchanged(&previous),
    }
}

/// The cumulative result shown to the user for `state`.
pub(crate) fn result_of(
    state: &CumulativeSentiment,
    source: SentimentSource,
    emotion: Option<String>,
) -> SentimentResult {
    let mut result = SentimentResult::with_source(state.score, source);
    result.label = state.label;
    result.emotion = emotion;
    result.summary = (!state.summary.is_empty()).then(|| state.summary.clone());
    result
}

#[cfg(test)]
mod tests {
    use lia_domain::SentimentLabel;

    use super::*;

    fn message(score: f64) -> SentimentResult {
        SentimentResult::with_source(SentimentScore::clamped(score), SentimentSource::Lexicon)
            .with_emotion("joy")
    }

    #[test]
    fn a_run_of_positives_then_negatives_moves_the_average() {
        let (mut state, first) = first_message(&message(0.8));
        assert_eq!(
            (state.count, state.summary.as_str(), first.source),
            (1, "User is joy", SentimentSource::Incremental)
        );
        for _ in 0..3 {
            state = weighted_average(&state, &message(0.8)).0;
        }
        assert_eq!(state.label, SentimentLabel::Positive);
        assert_eq!(state.count, 4);
        let mut scores = Vec::new();
        for _ in 0..8 {
            state = weighted_average(&state, &message(-0.9)).0;
            scores.push(state.score.value());
        }
        assert!(
            scores.windows(2).all(|w| w[1] < w[0]),
            "each negative lowers it: {scores:?}"
        );
        assert_eq!(state.label, SentimentLabel::Negative);
        assert_eq!(state.count, 12);
        // (0.8 × 4 − 0.9 × 8) / 12 = −0.3333
        assert!(
            (state.score.value() + 0.3333).abs() < 1e-3,
            "{}",
            state.score.value()
        );
        assert_eq!(
            state.summary, "User is joy",
            "the average keeps the summary"
        );
    }

    #[test]
    fn unchanged_only_counts() {
        let (state, _) = first_message(&message(0.5));
        let (next, result) = unchanged(&state);
        assert_eq!((next.score, next.count), (state.score, 2));
        assert_eq!(result.source, SentimentSource::IncrementalUnchanged);
    }
}
