//! The keyword-based emotion detector behind [`LexiconAnalyzer::emotion`]. The word lists
//! and rules are documented in the parent module's documentation; keep the two in sync.
//!
//! It is deliberately simple (counting keyword hits) so it costs about as much as one
//! lexicon lookup per word and its answers are easy to explain.

use std::collections::HashMap;

use super::text::FxBuild;
use super::{LexiconAnalyzer, Polarity};

/// The emotions the detector can report (besides "neutral"), in tie-break priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Emotion {
    Gratitude,
    Love,
    Joy,
    Anger,
    Fear,
    Sadness,
    Surprise,
    Curiosity,
}

/// All emotions in tie-break priority order; `ORDER[e.index()] == e`.
const ORDER: &[Emotion] = &[
    Emotion::Gratitude,
    Emotion::Love,
    Emotion::Joy,
    Emotion::Anger,
    Emotion::Fear,
    Emotion::Sadness,
    Emotion::Surprise,
    Emotion::Curiosity,
];

impl Emotion {
    /// Position in [`ORDER`] and in the hit counters.
    fn index(self) -> usize {
        self as usize
    }

    /// The label returned to callers.
    fn label(self) -> &'static str {
        match self {
            Self::Gratitude => "gratitude",
            Self::Love => "love",
            Self::Joy => "joy",
            Self::Anger => "anger",
            Self::Fear => "fear",
            Self::Sadness => "sadness",
            Self::Surprise => "surprise",
            Self::Curiosity => "curiosity",
        }
    }

    /// Tone used for tie-breaks: 1 positive, -1 negative, 0 neutral.
    fn tone(self) -> i8 {
        match self {
            Self::Gratitude | Self::Love | Self::Joy => 1,
            Self::Anger | Self::Fear | Self::Sadness => -1,
            Self::Surprise | Self::Curiosity => 0,
        }
    }
}

/// Single keywords per emotion.
const WORDS: &[(Emotion, &[&str])] = &[
    (
        Emotion::Gratitude,
        &[
            "thanks",
            "thank",
            "thx",
            "thanx",
            "grateful",
            "gratitude",
            "thankful",
            "appreciate",
            "appreciated",
            "appreciates",
            "appreciating",
            "appreciation",
        ],
    ),
    (
        Emotion::Love,
        &[
            "love",
            "loved",
            "loves",
            "loving",
            "adore",
            "adored",
            "adores",
            "adorable",
            "beloved",
            "darling",
            "sweetheart",
            "xoxo",
            "luv",
        ],
    ),
    (
        Emotion::Joy,
        &[
            "happy",
            "happier",
            "happiest",
            "happily",
            "glad",
            "great",
            "awesome",
            "excited",
            "exciting",
            "excellent",
            "wonderful",
            "fantastic",
            "amazing",
            "delighted",
            "delightful",
            "cheerful",
            "joy",
            "joyful",
            "yay",
            "yippee",
            "hooray",
            "hurray",
            "woohoo",
            "fun",
            "enjoy",
            "enjoyed",
            "enjoying",
            "pleased",
            "thrilled",
            "ecstatic",
            "celebrate",
            "celebrating",
            "lol",
            "haha",
            "hahaha",
            "lmao",
        ],
    ),
    (
        Emotion::Anger,
        &[
            "angry",
            "anger",
            "furious",
            "fury",
            "hate",
            "hated",
            "hates",
            "hating",
            "annoyed",
            "annoying",
            "frustrated",
            "frustrating",
            "frustration",
            "mad",
            "pissed",
            "rage",
            "raging",
            "outraged",
            "irritated",
            "irritating",
            "livid",
            "infuriated",
            "infuriating",
            "disgusted",
            "disgusting",
            "resent",
        ],
    ),
    (
        Emotion::Sadness,
        &[
            "sad",
            "sadly",
            "sadness",
            "depressed",
            "depressing",
            "depression",
            "unhappy",
            "miss",
            "missed",
            "missing",
            "lonely",
            "heartbroken",
            "cry",
            "crying",
            "cried",
            "tears",
            "upset",
            "miserable",
            "gloomy",
            "grief",
            "grieving",
            "sorrow",
            "disappointed",
            "disappointing",
            "hopeless",
        ],
    ),
    (
        Emotion::Fear,
        &[
            "afraid",
            "scared",
            "scary",
            "worried",
            "worry",
            "worries",
            "worrying",
            "nervous",
            "anxious",
            "anxiety",
            "terrified",
            "terrifying",
            "frightened",
            "frightening",
            "panic",
            "panicking",
            "fear",
            "fears",
            "dread",
            "dreading",
            "horrified",
            "uneasy",
        ],
    ),
    (
        Emotion::Surprise,
        &[
            "wow",
            "whoa",
            "woah",
            "omg",
            "surprised",
            "surprise",
            "surprising",
            "surprisingly",
            "unexpected",
            "unexpectedly",
            "unbelievable",
            "shocked",
            "shocking",
            "astonished",
            "astonishing",
            "amazed",
            "stunned",
            "speechless",
        ],
    ),
    (
        Emotion::Curiosity,
        &[
            "wonder",
            "wondering",
            "wondered",
            "curious",
            "curiosity",
            "intrigued",
            "intriguing",
        ],
    ),
];

/// Question words that count as curiosity only when the text contains "?".
const QUESTION_WORDS: &[&str] = &["how", "why", "what", "when", "where", "who", "which"];

/// Two-word keywords; checked before single words, and both words are consumed.
fn phrase(first: &str, second: &str) -> Option<Emotion> {
    match (first, second) {
        ("love" | "loved", "it" | "this") => Some(Emotion::Joy),
        ("fed", "up") => Some(Emotion::Anger),
        ("bad" | "rough" | "terrible", "day" | "week") | ("hard" | "awful" | "worst", "day") => {
            Some(Emotion::Sadness)
        }
        ("can't" | "cant" | "cannot", "believe") | ("no", "way") => Some(Emotion::Surprise),
        _ => None,
    }
}

/// Emoji keywords (single code points; a trailing variation selector is simply ignored).
fn emoji_emotion(c: char) -> Option<Emotion> {
    match c {
        '🙏' => Some(Emotion::Gratitude),
        '❤' | '💕' | '💖' | '💗' | '💘' | '💞' | '💓' | '💙' | '💚' | '💛' | '💜' | '🧡' | '😍'
        | '🥰' | '😘' | '😻' => Some(Emotion::Love),
        '😀' | '😃' | '😄' | '😁' | '😆' | '😊' | '🙂' | '☺' | '😂' | '🤣' | '😎' | '🎉' | '🥳' => {
            Some(Emotion::Joy)
        }
        '😠' | '😡' | '🤬' | '💢' | '👿' => Some(Emotion::Anger),
        '😢' | '😭' | '😞' | '😔' | '😥' | '☹' | '🙁' | '💔' | '😿' => {
            Some(Emotion::Sadness)
        }
        '😨' | '😰' | '😱' | '😧' | '😟' => Some(Emotion::Fear),
        '😮' | '😲' | '😯' | '😳' | '🤯' => Some(Emotion::Surprise),
        _ => None,
    }
}

/// Word `k` of the emotion tokenizer (apostrophes trimmed), or `None` at a clause boundary
/// or out of range.
fn word_at<'a>(buffer: &'a str, items: &[Option<(usize, usize)>], k: usize) -> Option<&'a str> {
    let (start, end) = (*items.get(k)?)?;
    Some(buffer.get(start..end)?.trim_matches('\''))
}

/// Builds the single-word keyword table stored in the analyser.
pub(super) fn word_table() -> HashMap<&'static str, Emotion, FxBuild> {
    let mut table = HashMap::with_capacity_and_hasher(256, FxBuild::default());
    for &(emotion, words) in WORDS {
        for &word in words {
            table.insert(word, emotion);
        }
    }
    table
}

impl LexiconAnalyzer {
    /// Whether a lower-cased emotion word negates the keywords after it.
    fn emotion_negator(&self, word: &str) -> bool {
        word == "no" || word.contains("n't") || self.words.get(word).is_some_and(|i| i.negate)
    }

    /// Counts keyword hits and picks the label as documented in the parent module.
    pub(super) fn detect_emotion(&self, text: &str, polarity: Option<&Polarity>) -> &'static str {
        let mut counts = [0_u32; ORDER.len()];
        let mut bump = |emotion: Emotion| {
            if let Some(count) = counts.get_mut(emotion.index()) {
                *count = count.saturating_add(1);
            }
        };

        // Lower-cased words in one buffer; `None` marks a clause boundary.
        let mut buffer = String::with_capacity(text.len());
        let mut items: Vec<Option<(usize, usize)>> = Vec::new();
        let mut word_start: Option<usize> = None;
        for c in text.chars() {
            let c = if c == '\u{2019}' { '\'' } else { c };
            if c.is_alphanumeric() || c == '\'' {
                if word_start.is_none() {
                    word_start = Some(buffer.len());
                }
                if c.is_ascii() {
                    buffer.push(c.to_ascii_lowercase());
                } else {
                    buffer.extend(c.to_lowercase());
                }
                continue;
            }
            if let Some(start) = word_start.take() {
                items.push(Some((start, buffer.len())));
            }
            if matches!(c, '.' | ',' | ';' | '!' | '?') {
                items.push(None);
            } else if let Some(emotion) = emoji_emotion(c) {
                bump(emotion);
            }
        }
        if let Some(start) = word_start {
            items.push(Some((start, buffer.len())));
        }

        let item_word = |k: usize| word_at(&buffer, &items, k);
        let has_question = text.contains('?');
        let mut last_negator: Option<usize> = None;
        let mut k = 0;
        while k < items.len() {
            let Some(word) = item_word(k) else {
                last_negator = None;
                k += 1;
                continue;
            };
            let (hit, width) = if let Some(e) = item_word(k + 1).and_then(|next| phrase(word, next))
            {
                (Some(e), 2)
            } else if let Some(&e) = self.emotion_words.get(word) {
                (Some(e), 1)
            } else if has_question && QUESTION_WORDS.contains(&word) {
                (Some(Emotion::Curiosity), 1)
            } else {
                (None, 1)
            };
            match hit {
                Some(emotion) => {
                    let negated = last_negator.is_some_and(|n| k.saturating_sub(n) <= 3);
                    if !negated {
                        bump(emotion);
                    } else if emotion.tone() > 0 {
                        bump(Emotion::Sadness);
                    }
                }
                None if self.emotion_negator(word) => last_negator = Some(k),
                None => {}
            }
            k += width;
        }

        let max = counts.iter().copied().max().unwrap_or(0);
        let compound_of = |polarity: Option<&Polarity>| match polarity {
            Some(p) => p.compound,
            None => self.polarity(text).compound,
        };
        if max == 0 {
            let compound = compound_of(polarity);
            return if compound > 0.5 {
                "joy"
            } else if compound < -0.5 {
                "sadness"
            } else if text.trim_end().ends_with('?') {
                "curiosity"
            } else {
                "neutral"
            };
        }
        let is_top = |e: &&Emotion| counts.get(e.index()).is_some_and(|&c| c == max);
        let mut top = ORDER.iter().filter(is_top);
        let (Some(&first), None) = (top.next(), top.next()) else {
            let compound = compound_of(polarity);
            let tone = if compound >= 0.05 {
                1
            } else if compound <= -0.05 {
                -1
            } else {
                0
            };
            let best = ORDER
                .iter()
                .filter(is_top)
                .find(|e| e.tone() == tone)
                .or_else(|| ORDER.iter().find(is_top));
            return best.map_or("neutral", |e| e.label());
        };
        first.label()
    }
}
