//! A deliberately small sentiment lexicon for the offline provider's structured replies.
//! (The real analyzer lives in `lia-sentiment`, which depends on this crate, not the reverse.)

/// The sentiment fields of a structured reply.
pub(crate) struct Mood {
    pub(crate) score: f64,
    pub(crate) label: &'static str,
    pub(crate) emotion: &'static str,
}

impl Mood {
    /// A one-line summary, as a cumulative sentiment update would write it.
    pub(crate) fn summary(&self) -> String {
        format!(
            "User seems {}",
            if self.emotion == "neutral" {
                self.label.to_lowercase()
            } else {
                self.emotion.to_owned()
            }
        )
    }
}

/// (word, valence in -1..1, emotion)
const WORDS: &[(&str, f64, &str)] = &[
    ("love", 0.8, "love"),
    ("wonderful", 0.8, "joy"),
    ("amazing", 0.8, "joy"),
    ("great", 0.6, "joy"),
    ("happy", 0.7, "joy"),
    ("glad", 0.5, "joy"),
    ("excited", 0.6, "excitement"),
    ("good", 0.4, "contentment"),
    ("nice", 0.4, "contentment"),
    ("thanks", 0.5, "gratitude"),
    ("thank", 0.5, "gratitude"),
    ("awesome", 0.7, "joy"),
    ("fantastic", 0.8, "joy"),
    ("like", 0.2, "interest"),
    ("fun", 0.5, "joy"),
    ("hate", -0.8, "anger"),
    ("angry", -0.7, "anger"),
    ("furious", -0.9, "anger"),
    ("annoyed", -0.5, "annoyance"),
    ("frustrated", -0.6, "frustration"),
    ("sad", -0.6, "sadness"),
    ("terrible", -0.8, "distress"),
    ("awful", -0.8, "distress"),
    ("bad", -0.5, "disappointment"),
    ("worried", -0.5, "fear"),
    ("afraid", -0.6, "fear"),
    ("scared", -0.6, "fear"),
    ("nervous", -0.4, "anxiety"),
    ("lonely", -0.6, "sadness"),
    ("tired", -0.3, "fatigue"),
    ("broken", -0.4, "frustration"),
    ("wrong", -0.4, "frustration"),
    ("ugh", -0.5, "frustration"),
];
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "isn't", "isnt", "can't", "cant", "won't",
];

/// Scores `text`: the mean valence of known words (negated by a preceding negation), with
/// the emotion of the strongest word.
pub(crate) fn assess(text: &str) -> Mood {
    let lower = text.to_lowercase();
    let mut total = 0.0;
    let mut n_hits = 0_u32;
    let mut strongest: Option<(f64, &'static str)> = None;
    let mut negated = false;
    for word in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        if word.is_empty() {
            continue;
        }
        if NEGATIONS.contains(&word) {
            negated = true;
            continue;
        }
        if let Some((_, valence, emotion)) = WORDS.iter().find(|(w, _, _)| *w == word) {
            let valence = if negated { -valence * 0.7 } else { *valence };
            total += valence;
            n_hits += 1;
            if strongest.is_none_or(|(v, _)| valence.abs() > v.abs()) {
                strongest = Some((valence, if negated { "mixed" } else { emotion }));
            }
        }
        negated = false;
    }
    let score = if n_hits == 0 {
        0.0
    } else {
        (total / f64::from(n_hits)).clamp(-1.0, 1.0)
    };
    let score = (score * 10_000.0).round() / 10_000.0;
    let label = if score > 0.1 {
        "Positive"
    } else if score < -0.1 {
        "Negative"
    } else {
        "Neutral"
    };
    Mood {
        score,
        label,
        emotion: strongest.map_or("neutral", |(_, emotion)| emotion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polarity_and_negation() {
        assert_eq!(assess("I love it").label, "Positive");
        assert_eq!(assess("This is terrible").label, "Negative");
        assert_eq!(assess("not good").label, "Negative");
        assert_eq!(assess("The sky is blue").label, "Neutral");
        assert_eq!(assess("").emotion, "neutral");
    }
}
