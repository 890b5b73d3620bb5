//! Unit tests: exact scores taken from Python `vaderSentiment` 3.3.2, the rules' direction
//! (negation flips, boosters raise, ...), the emotion labels, and robustness on odd input.

use std::sync::OnceLock;

use super::text::{py_isupper, py_round};
use super::{LexiconAnalyzer, Polarity};

fn analyzer() -> &'static LexiconAnalyzer {
    static ANALYZER: OnceLock<LexiconAnalyzer> = OnceLock::new();
    ANALYZER.get_or_init(LexiconAnalyzer::new)
}

fn compound(text: &str) -> f64 {
    analyzer().polarity(text).compound
}

#[test]
fn matches_python_exactly() {
    // (text, neg, neu, pos, compound) from vaderSentiment 3.3.2.
    let cases: &[(&str, f64, f64, f64, f64)] = &[
        ("good", 0.0, 0.0, 1.0, 0.4404),
        ("not good", 0.706, 0.294, 0.0, -0.3412),
        ("very good", 0.0, 0.238, 0.762, 0.4927),
        ("kind of good", 0.0, 0.408, 0.592, 0.4404),
        ("GOOD", 0.0, 0.0, 1.0, 0.4404),
        ("The food is GOOD", 0.0, 0.452, 0.548, 0.5622),
        ("good!!!", 0.0, 0.0, 1.0, 0.5826),
        ("good :)", 0.0, 0.0, 1.0, 0.7096),
        ("sad :(", 1.0, 0.0, 0.0, -0.7184),
        (":)", 0.0, 0.0, 1.0, 0.4588),
        (":(", 1.0, 0.0, 0.0, -0.4404),
        ("😀", 0.0, 0.286, 0.714, 0.3612),
        ("😢", 0.756, 0.244, 0.0, -0.4767),
        (
            "The food was good but the service was bad",
            0.347,
            0.511,
            0.142,
            -0.5859,
        ),
        ("barely good", 0.0, 0.277, 0.723, 0.3832),
        ("I love it", 0.0, 0.323, 0.677, 0.6369),
        ("no", 1.0, 0.0, 0.0, -0.296),
        ("The book was good.", 0.0, 0.508, 0.492, 0.4404),
        ("Good, good, good but bad", 0.409, 0.086, 0.504, -0.2263),
        ("😀abc", 0.0, 0.286, 0.714, 0.3612),
        ("a😀b 😀", 0.0, 0.375, 0.625, 0.6124),
    ];
    for &(text, negative, neutral, positive, compound) in cases {
        let expected = Polarity {
            negative,
            neutral,
            positive,
            compound,
        };
        assert_eq!(analyzer().polarity(text), expected, "text: {text:?}");
    }
}

#[test]
fn empty_and_blank_text_is_all_zero() {
    let zero = Polarity {
        negative: 0.0,
        neutral: 0.0,
        positive: 0.0,
        compound: 0.0,
    };
    for text in ["", " ", "   ", "\t\n", "\u{a0}\u{3000}", "\u{1c}\u{1f}"] {
        assert_eq!(analyzer().polarity(text), zero, "text: {text:?}");
    }
}

#[test]
fn rules_move_scores_the_right_way() {
    // (lower, higher): the second text must score strictly higher.
    let ordered: &[(&str, &str)] = &[
        ("not good", "good"),                                      // negation flips
        ("good", "very good"),                                     // booster
        ("barely good", "good"),                                   // dampener
        ("The book was only kind of good.", "The book was good."), // "kind of"
        ("The food is good", "The food is GOOD"),                  // ALL CAPS among lower case
        ("good", "good!!!"),                                       // exclamation
        ("good!!!", "good!!!!!!!!"), // ... capped at 4, but still >= 3
        ("bad!!!", "bad"),           // "!" amplifies negatives too
        (
            "The food was good but the service was bad",
            "The food was bad but the service was good",
        ),
        ("😢", "😀"),                 // emoji
        (":(", ":)"),                 // emoticons
        ("I am sad", "I am not sad"), // negated negative
        ("It was never good", "It was never this good"),
        ("the bomb", "That was the bomb!"), // special-case idiom
    ];
    for &(lower, higher) in ordered {
        let (l, h) = (compound(lower), compound(higher));
        assert!(l < h, "{lower:?} ({l}) should score below {higher:?} ({h})");
    }
}

#[test]
fn signs_of_common_sentences() {
    for text in [
        "I love this!",
        "thanks so much :)",
        "Great job 👏",
        "not bad at all",
        "😀😀",
    ] {
        assert!(compound(text) > 0.05, "{text:?} should be positive");
    }
    for text in [
        "I hate this",
        "this is terrible :(",
        "not good",
        "😢",
        "kiss of death",
    ] {
        assert!(compound(text) < -0.05, "{text:?} should be negative");
    }
    for text in [
        "the table is brown",
        "the bus left at noon",
        "hello there",
        "12345",
    ] {
        assert!(compound(text).abs() < 0.05, "{text:?} should be neutral");
    }
}

#[test]
fn question_marks_amplify_from_two() {
    assert_eq!(compound("good?"), compound("good"));
    assert!(compound("good??") > compound("good?"));
    assert!(compound("good????") > compound("good???"));
}

#[test]
fn proportions_sum_to_about_one() {
    for text in [
        "good but bad",
        "The movie was okay, I guess :)",
        "no no no",
        "a b c",
    ] {
        let p = analyzer().polarity(text);
        let sum = p.negative + p.neutral + p.positive;
        assert!((sum - 1.0).abs() < 0.01, "{text:?}: {p:?}");
    }
}

#[test]
fn emotions() {
    let cases: &[(&str, &str)] = &[
        ("I'm so happy today!", "joy"),
        ("This is awesome, I love it", "joy"),
        ("thank you so much", "gratitude"),
        ("Thanks, I really appreciate it", "gratitude"),
        ("I love you", "love"),
        ("I adore my cat ❤️", "love"),
        ("I'm so angry right now", "anger"),
        ("This is so frustrating 😡", "anger"),
        ("I feel sad and lonely", "sadness"),
        ("I miss you 😢", "sadness"),
        ("I'm not happy", "sadness"),
        ("I'm scared of the dark", "fear"),
        ("really nervous about the interview", "fear"),
        ("wow I did not see that coming", "surprise"),
        ("I can't believe it", "surprise"),
        ("I wonder how it works", "curiosity"),
        ("How does this work?", "curiosity"),
        ("is it raining?", "curiosity"),
        ("The table is brown.", "neutral"),
        ("", "neutral"),
        ("I'm not afraid", "neutral"),
        ("What a beautiful, wonderful, perfect day", "joy"),
    ];
    for &(text, expected) in cases {
        assert_eq!(analyzer().emotion(text), expected, "text: {text:?}");
        let polarity = analyzer().polarity(text);
        assert_eq!(
            analyzer().emotion_with_polarity(text, &polarity),
            expected,
            "text: {text:?}"
        );
    }
}

#[test]
fn emotion_fallback_uses_compound() {
    // No keywords, strongly positive / negative.
    assert_eq!(
        analyzer().emotion("best day ever, brilliant and beautiful"),
        "joy"
    );
    assert_eq!(
        analyzer().emotion("this is a horrible, disgusting disaster"),
        "anger"
    );
    assert_eq!(
        analyzer().emotion("a horrible, terrible disaster"),
        "sadness"
    );
}

const TRICKY: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\u{feff}",
    "\u{200b}\u{200d}",
    "e\u{301}\u{301}\u{301}",
    "\u{301}",
    "😀😀😀😀😀😀😀😀",
    "👨‍👩‍👧‍👦 family",
    "🏳️‍🌈",
    "👍🏽",
    "🇫🇷",
    "ΣΣΣ ς Σ",
    "İstanbul",
    "ǅ ǈ ᾈ",
    "!!!!!!!!!!!!!!!!!!!!",
    "????????????",
    "but but but",
    "but",
    "no no no no",
    "least",
    "kind of",
    "kind",
    "of",
    "the",
    "never so",
    "without doubt",
    "n't n't",
    "'''",
    ":) :( :D <3 </3 :/",
    "\u{1c}good\u{1d}bad\u{1e}",
    "a\tb\nc\rd",
    "x",
    "X",
    "GOOD bad GOOD bad",
    "very very very very very",
    "😀a😀b😀c",
    "\u{10ffff}",
    "💯💯💯 100",
    "ＧＯＯＤ",
    "good\u{0}bad",
];

#[test]
fn never_panics_on_tricky_input() {
    let analyzer = analyzer();
    for text in TRICKY {
        let p = analyzer.polarity(text);
        assert!((-1.0..=1.0).contains(&p.compound), "{text:?}: {p:?}");
        for part in [p.negative, p.neutral, p.positive] {
            assert!((0.0..=1.0).contains(&part), "{text:?}: {p:?}");
        }
        let label = analyzer.emotion(text);
        assert!(!label.is_empty());
    }
    let long = "good but bad, ".repeat(2_000);
    let p = analyzer.polarity(&long);
    assert!((-1.0..=1.0).contains(&p.compound));
}

#[test]
fn python_isupper() {
    assert!(py_isupper("GOOD!"));
    assert!(py_isupper("A1"));
    assert!(!py_isupper(":)"));
    assert!(!py_isupper("Good"));
    assert!(!py_isupper("123"));
    assert!(py_isupper("ÉTÉ"));
    assert!(!py_isupper("ǅ"));
}

#[test]
fn python_round() {
    assert_eq!(py_round(0.0625, 1e3), 0.062);
    assert_eq!(py_round(-0.0625, 1e3), -0.062);
    assert_eq!(py_round(0.0635, 1e3), 0.064);
    assert_eq!(py_round(0.44043, 1e4), 0.4404);
    assert_eq!(py_round(0.44045, 1e4), 0.4405); // 0.44045 is stored slightly above
    assert_eq!(py_round(1.0, 1e3), 1.0);
}

proptest::proptest! {
    #[test]
    fn never_panics_and_stays_in_range(text in "\\PC*") {
        let p = analyzer().polarity(&text);
        proptest::prop_assert!((-1.0..=1.0).contains(&p.compound));
        proptest::prop_assert!((0.0..=1.0).contains(&p.positive));
        proptest::prop_assert!((0.0..=1.0).contains(&p.negative));
        proptest::prop_assert!((0.0..=1.0).contains(&p.neutral));
        let _ = analyzer().emotion(&text);
    }

    #[test]
    fn never_panics_on_word_soup(words in proptest::collection::vec(
        proptest::sample::select(vec![
            "good", "bad", "not", "no", "but", "very", "kind", "of", "least", "at", "never",
            "so", "this", "without", "doubt", "the", "shit", "bomb", "GOOD", "BAD", "VERY",
            "!", "?", ":)", ":(", "😀", "😢", "n't", "or", "nor", "kiss", "death", "happy",
        ]),
        0..40,
    )) {
        let text = words.join(" ");
        let p = analyzer().polarity(&text);
        proptest::prop_assert!((-1.0..=1.0).contains(&p.compound));
        let _ = analyzer().emotion(&text);
    }
}
