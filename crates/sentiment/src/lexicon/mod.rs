//! Lexicon- and rule-based sentiment: a faithful port of VADER (Hutto & Gilbert, 2014,
//! "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text"),
//! following the reference Python package `vaderSentiment` 3.3.2 (MIT licence, kept in
//! `data/VADER-LICENSE.txt`), plus a small keyword-based emotion detector.
//!
//! Why VADER: it needs no model, runs in microseconds per message, and is tuned for short,
//! informal chat text (slang, emoticons, emoji, ALL CAPS, "!!!"). Scores match the Python
//! package: compound to 4 decimal places, negative/neutral/positive to 3, rounded the way
//! Python's `round` does.
//!
//! Ported rules (see `scoring.rs`): emoji replaced by their text descriptions
//! (`data/emoji_utf8_lexicon.txt`); whitespace tokenisation with leading/trailing ASCII
//! punctuation stripped unless that leaves two characters or fewer (keeps ":)" and "ok");
//! ALL-CAPS emphasis when the text mixes case; boosters and dampeners decaying with
//! distance; negations ("not", "n't", "never so/this", "without doubt"); "no" as a negator;
//! "least"; "kind of"; VADER's special-case idioms ("the shit", "the bomb", "bad ass",
//! "yeah right", "kiss of death", "to die for", "beating heart", "bus stop"); "but"
//! contrast (including the Python original's first-equal-value quirk); "!" and "?"
//! amplification; normalisation with alpha = 15.
//!
//! # Emotion words
//!
//! [`LexiconAnalyzer::emotion`] lower-cases the text, splits it into words (letters, digits
//! and apostrophes; `’` counts as `'`) and counts keyword hits per emotion:
//!
//! | emotion | words (also the listed emoji) |
//! |---|---|
//! | gratitude | thanks, thank, thx, thanx, grateful, gratitude, thankful, appreciate(d/s), appreciating, appreciation; 🙏 |
//! | love | love(d/s), loving, adore(d/s), adorable, beloved, darling, sweetheart, xoxo, luv; ❤ 💕 💖 💗 💘 💞 💓 💙 💚 💛 💜 🧡 😍 🥰 😘 😻 |
//! | joy | happy, happier, happiest, happily, glad, great, awesome, excited, exciting, excellent, wonderful, fantastic, amazing, delighted, delightful, cheerful, joy, joyful, yay, yippee, hooray, hurray, woohoo, fun, enjoy(ed/ing), pleased, thrilled, ecstatic, celebrate, celebrating, lol, haha, hahaha, lmao; phrases "love it", "loved it", "love this", "loved this"; 😀 😃 😄 😁 😆 😊 🙂 ☺ 😂 🤣 😎 🎉 🥳 |
//! | anger | angry, anger, furious, fury, hate(d/s), hating, annoyed, annoying, frustrated, frustrating, frustration, mad, pissed, rage, raging, outraged, irritated, irritating, livid, infuriated, infuriating, disgusted, disgusting, resent; phrase "fed up"; 😠 😡 🤬 💢 👿 |
//! | sadness | sad, sadly, sadness, depressed, depressing, depression, unhappy, miss, missed, missing, lonely, heartbroken, cry, crying, cried, tears, upset, miserable, gloomy, grief, grieving, sorrow, disappointed, disappointing, hopeless; phrases "bad day", "bad week", "rough day", "rough week", "hard day", "terrible day", "terrible week", "awful day", "worst day"; 😢 😭 😞 😔 😥 ☹ 🙁 💔 😿 |
//! | fear | afraid, scared, scary, worried, worry, worries, worrying, nervous, anxious, anxiety, terrified, terrifying, frightened, frightening, panic, panicking, fear, fears, dread, dreading, horrified, uneasy; 😨 😰 😱 😧 😟 |
//! | surprise | wow, whoa, woah, omg, surprised, surprise, surprising, surprisingly, unexpected, unexpectedly, unbelievable, shocked, shocking, astonished, astonishing, amazed, stunned, speechless; phrases "can't believe", "cant believe", "cannot believe", "no way"; 😮 😲 😯 😳 🤯 |
//! | curiosity | wonder, wondering, wondered, curious, curiosity, intrigued, intriguing; and, only when the text contains "?", how, why, what, when, where, who, which |
//!
//! A hit preceded within three words (same clause: `.,;!?` end a clause) by a negator
//! (VADER's negation list, any word with "n't", or "no") does not count; a negated
//! gratitude/love/joy hit counts as sadness instead ("not happy").
//!
//! The emotion with most hits wins. Ties go to the tied emotion whose tone agrees with the
//! compound score (gratitude, love, joy positive; anger, fear, sadness negative; surprise,
//! curiosity neutral; compound ≥ 0.05 is positive, ≤ -0.05 negative), and then to the first
//! in the order gratitude, love, joy, anger, fear, sadness, surprise, curiosity. With no
//! hits: compound > 0.5 gives "joy", < -0.5 "sadness", a text ending in "?" "curiosity",
//! anything else "neutral".

mod constants;
mod emotion;
mod scoring;
#[cfg(test)]
mod tests;
mod text;

use std::collections::HashMap;
use std::fmt;

use constants::{B_DECR, B_INCR, BOOSTERS_DOWN, BOOSTERS_UP, NEGATE};
use emotion::Emotion;
use text::{FxBuild, is_py_space};

/// The VADER valence lexicon (word, mean valence in -4..=4, ...), tab separated.
const VADER_LEXICON: &str = include_str!("../../data/vader_lexicon.txt");
/// VADER's emoji lexicon: one emoji, a tab, its English description.
const EMOJI_LEXICON: &str = include_str!("../../data/emoji_utf8_lexicon.txt");

/// Everything VADER knows about one lower-cased word, so scoring needs one lookup per token.
#[derive(Debug, Clone, Copy, Default)]
struct WordInfo {
    /// Valence from the lexicon, when the word is in it.
    valence: Option<f64>,
    /// Booster (positive) or dampener (negative) increment, when the word is one.
    booster: Option<f64>,
    /// Whether the word is in VADER's negation list.
    negate: bool,
}

/// VADER sentiment analyser with the lexicons parsed once; cheap to share (`&self` methods,
/// `Send + Sync`), so build one and reuse it for every message.
pub struct LexiconAnalyzer {
    /// Lower-cased word → lexicon valence, booster value and negation flag.
    words: HashMap<&'static str, WordInfo, FxBuild>,
    /// Single-character emoji → description (VADER only ever matches single code points).
    emoji: HashMap<char, &'static str, FxBuild>,
    /// Smallest emoji key, so most characters skip the emoji lookup.
    min_emoji: char,
    /// Emotion keywords (single words) → emotion.
    emotion_words: HashMap<&'static str, Emotion, FxBuild>,
}

/// VADER's polarity scores for one text.
///
/// `negative`, `neutral` and `positive` are the proportions of the text in each class
/// (they sum to about 1, rounded to 3 decimals; all 0 for text without words). `compound`
/// is the normalised, weighted sum in `[-1, 1]`, rounded to 4 decimals; VADER's usual
/// thresholds are ≥ 0.05 positive and ≤ -0.05 negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    /// Proportion of negative sentiment, 0..=1.
    pub negative: f64,
    /// Proportion of neutral words, 0..=1.
    pub neutral: f64,
    /// Proportion of positive sentiment, 0..=1.
    pub positive: f64,
    /// Normalised overall sentiment, -1 (most negative) ..= 1 (most positive).
    pub compound: f64,
}

impl LexiconAnalyzer {
    /// Parses the embedded VADER and emoji lexicons and the emotion word list once.
    ///
    /// Takes a few milliseconds, so create one analyser and reuse it. Duplicate lexicon
    /// entries resolve to the last one, as in Python's dict construction.
    pub fn new() -> Self {
        let mut words: HashMap<&'static str, WordInfo, FxBuild> =
            HashMap::with_capacity_and_hasher(7_700, FxBuild::default());
        for line in VADER_LEXICON.trim_end_matches('\n').split('\n') {
            if line.is_empty() {
                continue;
            }
            let mut fields = line.trim_matches(is_py_space).split('\t');
            let (Some(word), Some(measure)) = (fields.next(), fields.next()) else {
                continue;
            };
            if let Ok(valence) = measure.parse::<f64>() {
                words.entry(word).or_default().valence = Some(valence);
            }
        }
        for &word in BOOSTERS_UP {
            words.entry(word).or_default().booster = Some(B_INCR);
        }
        for &word in BOOSTERS_DOWN {
            words.entry(word).or_default().booster = Some(B_DECR);
        }
        for &word in NEGATE {
            words.entry(word).or_default().negate = true;
        }

        let mut emoji: HashMap<char, &'static str, FxBuild> =
            HashMap::with_capacity_and_hasher(1_300, FxBuild::default());
        for line in EMOJI_LEXICON.trim_end_matches('\n').split('\n') {
            let mut fields = line.trim_matches(is_py_space).split('\t');
            let (Some(key), Some(description)) = (fields.next(), fields.next()) else {
                continue;
            };
            let mut chars = key.chars();
            // Python iterates the text one code point at a time, so longer keys never match.
            if let (Some(c), None) = (chars.next(), chars.next()) {
                emoji.insert(c, description);
            }
        }
        let min_emoji = emoji.keys().copied().min().unwrap_or(char::MAX);

        Self {
            words,
            emoji,
            min_emoji,
            emotion_words: emotion::word_table(),
        }
    }

    /// VADER polarity scores for `text`, identical to `vaderSentiment` 3.3.2's
    /// `polarity_scores` (compound to 4 decimals). Never panics; empty or
    /// whitespace-only text scores all zeros.
    pub fn polarity(&self, text: &str) -> Polarity {
        self.score(text)
    }

    /// A one-word emotion label for `text`: one of "joy", "gratitude", "love", "anger",
    /// "sadness", "fear", "surprise", "curiosity" or "neutral", chosen from the keyword
    /// list in this module's documentation. Computes the polarity only when it is needed
    /// (ties and texts without keywords).
    pub fn emotion(&self, text: &str) -> &'static str {
        self.detect_emotion(text, None)
    }

    /// Like [`LexiconAnalyzer::emotion`], reusing a polarity already computed for the same
    /// `text` so callers wanting both pay for scoring once.
    pub fn emotion_with_polarity(&self, text: &str, polarity: &Polarity) -> &'static str {
        self.detect_emotion(text, Some(polarity))
    }
}

impl Default for LexiconAnalyzer {
    /// Same as [`LexiconAnalyzer::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LexiconAnalyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LexiconAnalyzer")
            .field("words", &self.words.len())
            .field("emoji", &self.emoji.len())
            .field("emotion_words", &self.emotion_words.len())
            .finish_non_exhaustive()
    }
}
