//! VADER's constants and fixed word lists, copied verbatim from `vaderSentiment` 3.3.2
//! (`vaderSentiment/vaderSentiment.py`, MIT licence, see `data/VADER-LICENSE.txt`).
//!
//! They live apart from the scoring rules so the rules read like the Python original and the
//! lists can be checked against it line by line.

/// Empirically derived mean intensity increase contributed by a booster word ("very").
pub(super) const B_INCR: f64 = 0.293;
/// Empirically derived mean intensity decrease contributed by a dampener word ("kind of").
pub(super) const B_DECR: f64 = -0.293;
/// Intensity increase for a sentiment word written in ALL CAPS among non-caps words.
pub(super) const C_INCR: f64 = 0.733;
/// Multiplier applied to a valence when it is negated ("not good").
pub(super) const N_SCALAR: f64 = -0.74;
/// Normalisation constant for the compound score: approximates the maximum expected sum.
pub(super) const ALPHA: f64 = 15.0;

/// Words that negate a following sentiment word (VADER's `NEGATE`). Any word containing
/// `n't` negates as well; that test is done separately.
pub(super) const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Single-word boosters (degree adverbs that raise intensity), VADER's `BOOSTER_DICT`
/// entries worth [`B_INCR`].
pub(super) const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// Single-word dampeners (degree adverbs that lower intensity), VADER's `BOOSTER_DICT`
/// entries worth [`B_DECR`]. The two-word entries ("kind of", "sort of", "just enough")
/// are in [`booster_bigram`].
pub(super) const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// The two-word `BOOSTER_DICT` keys. VADER looks these up by joining two lower-cased tokens
/// with a space; tokens never contain whitespace, so matching the pair is equivalent.
pub(super) fn booster_bigram(first: &str, second: &str) -> Option<f64> {
    match (first, second) {
        ("just", "enough") | ("kind", "of") | ("sort", "of") => Some(B_DECR),
        _ => None,
    }
}

/// VADER's `SPECIAL_CASES`: idioms containing lexicon words whose meaning overrides the
/// words' own valence. VADER joins 2 or 3 lower-cased tokens with spaces and looks the
/// result up; matching the token slice is equivalent because tokens hold no whitespace.
/// (The one-word key "badass" can never match a joined sequence, in Python or here.)
pub(super) fn special_case(words: &[&str]) -> Option<f64> {
    match words {
        ["the", "shit"] | ["the", "bomb"] => Some(3.0),
        ["bad", "ass"] => Some(1.5),
        ["bus", "stop"] => Some(0.0),
        ["yeah", "right"] => Some(-2.0),
        ["kiss", "of", "death"] => Some(-1.5),
        ["to", "die", "for"] => Some(3.0),
        ["beating", "heart"] => Some(3.5),
        _ => None,
    }
}
