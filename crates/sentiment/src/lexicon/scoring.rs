//! VADER's scoring rules, ported from `SentiText` and `SentimentIntensityAnalyzer` in
//! `vaderSentiment` 3.3.2 (MIT licence). Each function mirrors the Python method of the
//! same name; comments note where Python's behaviour is odd but kept on purpose, because
//! the goal is identical scores.
//!
//! Speed: each token is lower-cased once into a shared buffer and looked up once (valence,
//! booster and negation together); rules then compare `&str` slices, never allocating.

use std::borrow::Cow;

use super::constants::{ALPHA, C_INCR, N_SCALAR, booster_bigram, special_case};
use super::text::{is_py_space, push_lower, py_isupper, py_round};
use super::{LexiconAnalyzer, Polarity};

/// One token of `SentiText.words_and_emoticons`, with what the rules need precomputed.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// Start of the lower-cased token in the shared buffer.
    start: usize,
    /// End of the lower-cased token in the shared buffer.
    end: usize,
    /// Lexicon valence of the lower-cased token.
    valence: Option<f64>,
    /// `BOOSTER_DICT` value of the lower-cased token.
    booster: Option<f64>,
    /// Python's `token.isupper()` on the original token.
    upper: bool,
    /// VADER's `negated([token])`: in `NEGATE` or containing "n't".
    negation: bool,
}

/// The tokens of one text plus `SentiText.is_cap_diff`.
struct Sentence<'a> {
    lower: &'a str,
    tokens: &'a [Token],
    cap_diff: bool,
}

impl Sentence<'_> {
    /// The lower-cased token `k`, or "" out of range.
    fn word(&self, k: usize) -> &str {
        self.tokens
            .get(k)
            .and_then(|t| self.lower.get(t.start..t.end))
            .unwrap_or("")
    }

    /// The lower-cased token `back` places before `i`, or "" when there is none.
    fn before(&self, i: usize, back: usize) -> &str {
        i.checked_sub(back).map_or("", |k| self.word(k))
    }

    /// Whether the lower-cased token `k` is a lexicon word.
    fn in_lexicon(&self, k: usize) -> bool {
        self.tokens.get(k).is_some_and(|t| t.valence.is_some())
    }

    /// Whether token `back` places before `i` is a negation.
    fn negated_before(&self, i: usize, back: usize) -> bool {
        i.checked_sub(back)
            .and_then(|k| self.tokens.get(k))
            .is_some_and(|t| t.negation)
    }

    /// `sentiment_valence`: the valence of token `i` after all contextual rules.
    fn sentiment_valence(&self, i: usize) -> f64 {
        let Some(token) = self.tokens.get(i) else {
            return 0.0;
        };
        let Some(base) = token.valence else {
            return 0.0;
        };
        let last = self.tokens.len().saturating_sub(1);
        let mut valence = base;
        // "no" before another lexicon word negates that word instead of scoring itself.
        if self.word(i) == "no" && i != last && self.in_lexicon(i + 1) {
            valence = 0.0;
        }
        if (i > 0 && self.before(i, 1) == "no")
            || (i > 1 && self.before(i, 2) == "no")
            || (i > 2 && self.before(i, 3) == "no" && matches!(self.before(i, 1), "or" | "nor"))
        {
            valence = base * N_SCALAR;
        }
        if token.upper && self.cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3_usize {
            // Preceding words that are themselves lexicon words are skipped entirely,
            // negation and idiom checks included (as in Python).
            if i > start_i && !self.in_lexicon(i - (start_i + 1)) {
                let mut s = self.scalar_inc_dec(i - (start_i + 1), valence);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = self.negation_check(valence, start_i, i);
                if start_i == 2 {
                    valence = self.special_idioms_check(valence, i);
                }
            }
        }
        self.least_check(valence, i)
    }

    /// `scalar_inc_dec`: the booster/dampener contribution of token `k` to `valence`.
    fn scalar_inc_dec(&self, k: usize, valence: f64) -> f64 {
        let Some(token) = self.tokens.get(k) else {
            return 0.0;
        };
        let Some(booster) = token.booster else {
            return 0.0;
        };
        let mut scalar = booster;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if token.upper && self.cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
        scalar
    }

    /// `_negation_check` for the word `start_i + 1` places before `i`.
    fn negation_check(&self, valence: f64, start_i: usize, i: usize) -> f64 {
        let (w1, w2, w3) = (self.before(i, 1), self.before(i, 2), self.before(i, 3));
        let so_this = |w: &str| w == "so" || w == "this";
        match start_i {
            0 if self.negated_before(i, 1) => valence * N_SCALAR,
            1 => {
                if w2 == "never" && so_this(w1) {
                    valence * 1.25
                } else if w2 == "without" && w1 == "doubt" {
                    valence
                } else if self.negated_before(i, 2) {
                    valence * N_SCALAR
                } else {
                    valence
                }
            }
            2 => {
                // Python: `a and b or c`, i.e. "so"/"this" right before the word boosts
                // even without "never"; kept as is.
                if (w3 == "never" && so_this(w2)) || so_this(w1) {
                    valence * 1.25
                } else if w3 == "without" && (w2 == "doubt" || w1 == "doubt") {
                    valence
                } else if self.negated_before(i, 3) {
                    valence * N_SCALAR
                } else {
                    valence
                }
            }
            _ => valence,
        }
    }

    /// `_special_idioms_check`: idioms override the valence; "kind of"-style bigrams dampen.
    fn special_idioms_check(&self, mut valence: f64, i: usize) -> f64 {
        let (w0, w1, w2, w3) = (
            self.word(i),
            self.before(i, 1),
            self.before(i, 2),
            self.before(i, 3),
        );
        let one_zero = [w1, w0];
        let two_one_zero = [w2, w1, w0];
        let two_one = [w2, w1];
        let three_two_one = [w3, w2, w1];
        let three_two = [w3, w2];
        let sequences: [&[&str]; 5] = [
            &one_zero,
            &two_one_zero,
            &two_one,
            &three_two_one,
            &three_two,
        ];
        for sequence in sequences {
            if let Some(v) = special_case(sequence) {
                valence = v;
                break;
            }
        }
        let len = self.tokens.len();
        if i + 1 < len
            && let Some(v) = special_case(&[w0, self.word(i + 1)])
        {
            valence = v;
        }
        if i + 2 < len
            && let Some(v) = special_case(&[w0, self.word(i + 1), self.word(i + 2)])
        {
            valence = v;
        }
        // Python also tries the three-word sequence, which can never be a booster key.
        for (first, second) in [(w3, w2), (w2, w1)] {
            if let Some(b) = booster_bigram(first, second) {
                valence += b;
            }
        }
        valence
    }

    /// `_least_check`: "least good" negates, "at least" and "very least" do not.
    fn least_check(&self, valence: f64, i: usize) -> f64 {
        let least_before = !self.in_lexicon(i.wrapping_sub(1)) && self.before(i, 1) == "least";
        if i > 1 && least_before {
            let w2 = self.before(i, 2);
            if w2 != "at" && w2 != "very" {
                return valence * N_SCALAR;
            }
            valence
        } else if i > 0 && least_before {
            valence * N_SCALAR
        } else {
            valence
        }
    }

    /// `_but_check`: halve sentiments before the first "but", add half to those after.
    ///
    /// Python finds each value's position with `list.index`, i.e. the *first* equal value,
    /// so a repeated value can be scaled at the wrong position, or twice. Reproduced exactly.
    fn but_check(&self, sentiments: &mut [f64]) {
        let Some(bi) = (0..self.tokens.len()).position(|k| self.word(k) == "but") else {
            return;
        };
        for k in 0..sentiments.len() {
            let Some(&value) = sentiments.get(k) else {
                continue;
            };
            let Some(si) = sentiments.iter().position(|&x| x == value) else {
                continue;
            };
            if let Some(slot) = sentiments.get_mut(si) {
                if si < bi {
                    *slot = value * 0.5;
                } else if si > bi {
                    *slot = value * 1.5;
                }
            }
        }
    }
}

impl LexiconAnalyzer {
    /// `polarity_scores`: the whole VADER pipeline for one text.
    pub(super) fn score(&self, text: &str) -> Polarity {
        let text = self.replace_emoji(text);
        let mut lower = String::with_capacity(text.len());
        let mut tokens = Vec::with_capacity(text.len() / 4 + 1);
        self.tokenize(&text, &mut lower, &mut tokens);
        let upper = tokens.iter().filter(|t| t.upper).count();
        let sentence = Sentence {
            lower: &lower,
            tokens: &tokens,
            cap_diff: upper > 0 && upper < tokens.len(),
        };
        let mut sentiments = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            if token.booster.is_some()
                || (i + 1 < tokens.len()
                    && sentence.word(i) == "kind"
                    && sentence.word(i + 1) == "of")
            {
                sentiments.push(0.0);
            } else {
                sentiments.push(sentence.sentiment_valence(i));
            }
        }
        sentence.but_check(&mut sentiments);
        score_valence(&sentiments, &text)
    }

    /// The emoji substitution at the top of `polarity_scores`: every character with an
    /// emoji-lexicon entry becomes its description, preceded by a space unless the previous
    /// character was a space. (Python's final `strip()` is skipped: it cannot change the
    /// tokens or the "!"/"?" counts, the only things the text is used for.)
    fn replace_emoji<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let is_emoji = |c: char| c >= self.min_emoji && self.emoji.contains_key(&c);
        let Some(first) = text
            .char_indices()
            .find(|&(_, c)| is_emoji(c))
            .map(|(k, _)| k)
        else {
            return Cow::Borrowed(text);
        };
        let (Some(head), Some(tail)) = (text.get(..first), text.get(first..)) else {
            return Cow::Borrowed(text);
        };
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str(head);
        let mut prev_space = head.is_empty() || head.ends_with(' ');
        for c in tail.chars() {
            let description = if c >= self.min_emoji {
                self.emoji.get(&c)
            } else {
                None
            };
            if let Some(description) = description {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        Cow::Owned(out)
    }

    /// `SentiText._words_and_emoticons`: split on Python whitespace, strip leading and
    /// trailing ASCII punctuation unless that leaves two characters or fewer.
    fn tokenize(&self, text: &str, lower: &mut String, tokens: &mut Vec<Token>) {
        for raw in text.split(is_py_space) {
            if raw.is_empty() {
                continue;
            }
            let stripped = raw.trim_matches(|c: char| c.is_ascii_punctuation());
            let word = if stripped.chars().nth(2).is_none() {
                raw
            } else {
                stripped
            };
            let start = lower.len();
            push_lower(lower, word);
            let end = lower.len();
            let lowered = lower.get(start..end).unwrap_or("");
            let info = self.words.get(lowered).copied().unwrap_or_default();
            tokens.push(Token {
                start,
                end,
                valence: info.valence,
                booster: info.booster,
                upper: py_isupper(word),
                negation: info.negate || lowered.contains("n't"),
            });
        }
    }
}

/// `normalize`: map an unbounded sum into (-1, 1).
fn normalize(score: f64) -> f64 {
    let norm = score / (score * score + ALPHA).sqrt();
    norm.clamp(-1.0, 1.0)
}

/// `_punctuation_emphasis`: up to 4 "!" at 0.292 each; 2 or 3 "?" at 0.18 each, more 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.bytes().filter(|&b| b == b'!').count().min(4);
    let questions = text.bytes().filter(|&b| b == b'?').count();
    let ep = exclamations as f64 * 0.292;
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// `score_valence` with `_sift_sentiment_scores`: compound plus the three proportions,
/// rounded as Python's `round` does.
fn score_valence(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity {
            negative: 0.0,
            neutral: 0.0,
            positive: 0.0,
            compound: 0.0,
        };
    }
    let mut sum = sentiments.iter().fold(0.0_f64, |acc, &s| acc + s);
    let amplifier = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += amplifier;
    } else if sum < 0.0 {
        sum -= amplifier;
    }
    let compound = normalize(sum);

    let mut pos_sum = 0.0_f64;
    let mut neg_sum = 0.0_f64;
    let mut neu_count = 0_usize;
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amplifier;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    Polarity {
        negative: py_round((neg_sum / total).abs(), 1e3),
        neutral: py_round((neu_count as f64 / total).abs(), 1e3),
        positive: py_round((pos_sum / total).abs(), 1e3),
        compound: py_round(compound, 1e4),
    }
}
