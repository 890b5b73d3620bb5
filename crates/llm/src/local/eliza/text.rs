//! Text handling for the ELIZA-style engine: splitting a message into clauses of words, and
//! reflecting a captured fragment from the user's point of view to Lia's.
//!
//! Only `str` methods split text (whitespace, then trimming punctuation from word ends), so
//! any UTF-8 input is handled without slicing inside a character.

use super::MAX_WORDS;

/// One word of a message, stripped of surrounding punctuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// The word as typed (typographic apostrophes made plain), echoed back in replies.
    pub(super) text: String,
    /// The lowercased word, used for matching and reflection.
    pub(super) lower: String,
}

/// A run of words up to sentence punctuation; rules match within one clause.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Clause {
    /// The clause's words, in order.
    pub(super) words: Vec<Word>,
    /// Whether the clause ended with a question mark.
    pub(super) question: bool,
}

/// Non-ASCII punctuation stripped from word ends, besides all ASCII punctuation.
const EXTRA_PUNCTUATION: &str = "“”‘’«»…¿¡—–。、！？，；：";
/// Punctuation that ends a clause.
const CLAUSE_ENDS: &str = ".!?;,:…。！？，；：";
/// Question marks, ASCII and full-width.
const QUESTION_MARKS: &str = "?？";

/// Splits a message into clauses of words, looking at no more than [`MAX_WORDS`] words.
pub(super) fn tokenize(input: &str) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let mut current = Clause::default();
    for raw in input.split_whitespace().take(MAX_WORDS) {
        let after_lead = raw.trim_start_matches(is_punct);
        let core = after_lead.trim_end_matches(is_punct);
        // Trimming yields a suffix and a prefix, so both offsets are char boundaries.
        let lead = raw.get(..raw.len() - after_lead.len()).unwrap_or_default();
        let trail = after_lead.get(core.len()..).unwrap_or_default();

        if lead.contains(|c: char| CLAUSE_ENDS.contains(c)) {
            current.question |= lead.contains(|c: char| QUESTION_MARKS.contains(c));
            flush(&mut clauses, &mut current);
        }
        if !core.is_empty() {
            let text = core.replace('’', "'");
            let lower = text.to_lowercase();
            current.words.push(Word { text, lower });
        }
        if trail.contains(|c: char| CLAUSE_ENDS.contains(c)) {
            current.question |= trail.contains(|c: char| QUESTION_MARKS.contains(c));
            flush(&mut clauses, &mut current);
        }
    }
    flush(&mut clauses, &mut current);
    clauses
}

/// Ends the current clause, keeping it if it has words or was a question.
fn flush(clauses: &mut Vec<Clause>, current: &mut Clause) {
    let clause = std::mem::take(current);
    if !clause.words.is_empty() || clause.question {
        clauses.push(clause);
    }
}

/// Punctuation stripped from the ends of words (inner apostrophes and hyphens stay).
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || EXTRA_PUNCTUATION.contains(c)
}

/// Swaps the speaker's point of view: "i am sure you know my name" becomes
/// "you are sure I know your name". Unchanged words keep the user's spelling.
pub(super) fn reflect(words: &[Word]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while let Some(word) = words.get(i) {
        let next = words.get(i + 1);
        if let Some((first, second)) = next.and_then(|n| reflect_pair(&word.lower, &n.lower)) {
            out.push(first);
            out.push(second);
            i += 2;
            continue;
        }
        let prev = i
            .checked_sub(1)
            .and_then(|p| words.get(p))
            .map(|w| w.lower.as_str());
        let next = next.map(|w| w.lower.as_str());
        out.push(reflect_word(&word.lower, prev, next).unwrap_or(word.text.as_str()));
        i += 1;
    }
    out.join(" ")
}

/// Two-word reflections, where the verb must agree with the swapped pronoun.
fn reflect_pair(first: &str, second: &str) -> Option<(&'static str, &'static str)> {
    Some(match (first, second) {
        ("i", "am") => ("you", "are"),
        ("i", "was") => ("you", "were"),
        ("you", "are") => ("I", "am"),
        ("you", "were") => ("I", "was"),
        ("am", "i") => ("are", "you"),
        ("was", "i") => ("were", "you"),
        ("are", "you") => ("am", "I"),
        ("were", "you") => ("was", "I"),
        _ => return None,
    })
}

/// One-word reflections; `prev` and `next` decide whether "you" becomes "I" or "me".
fn reflect_word(word: &str, prev: Option<&str>, next: Option<&str>) -> Option<&'static str> {
    Some(match word {
        "i" | "me" => "you",
        "my" => "your",
        "mine" => "yours",
        "myself" => "yourself",
        "am" => "are",
        "i'm" | "im" => "you're",
        "i've" => "you've",
        "i'd" => "you'd",
        "i'll" => "you'll",
        "your" => "my",
        "yours" => "mine",
        "yourself" => "myself",
        "you're" | "youre" => "I'm",
        "you've" => "I've",
        "you'd" => "I'd",
        "you'll" => "I'll",
        "you" | "u" if you_is_object(prev, next) => "me",
        "you" | "u" => "I",
        _ => return None,
    })
}

/// Words after which "you" is an object ("I told you", "with you"), space-separated.
const BEFORE_OBJECT: &str = "to with for about at from of than without by on in into after \
    before behind near against toward towards around through tell told thank love hate miss \
    trust need want see saw help ask asked call called hear heard";

/// Words that follow "you" when it is an object ("you too", "you a gift", "you to help").
const AFTER_OBJECT: &str = "to and or but so too very much more again anymore now today \
    tonight tomorrow yesterday because when if as than with for about at in on from by into a \
    an the that this back off up out here there enough well lately every everything anything \
    something nothing what how why where whether";

/// Whether "you" should reflect to "me" rather than "I", judged from its neighbours.
fn you_is_object(prev: Option<&str>, next: Option<&str>) -> bool {
    let listed = |list: &str, word: &str| list.split_whitespace().any(|w| w == word);
    prev.is_some_and(|p| listed(BEFORE_OBJECT, p)) || next.is_none_or(|n| listed(AFTER_OBJECT, n))
}
