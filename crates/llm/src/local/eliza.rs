//! A small rule-based conversational engine in the spirit of Weizenbaum's ELIZA (1966).
//!
//! The offline `local` provider answers with it, so a fresh checkout of the chat backend can
//! hold a conversation with no network, no API key and no model weights. Replies are fully
//! deterministic (the same history and input always give the same reply), which keeps tests
//! and demos reproducible.
//!
//! How a reply is made:
//! 1. the message is split into clauses at sentence punctuation and into words at whitespace;
//! 2. every rule of [`RULES`] is tried on every clause and the highest-ranked match wins;
//! 3. the winner's capture is *reflected* ("my job" becomes "your job") and put into one of
//!    its templates, chosen by an FNV-1a hash of the lowercased input and the number of prior
//!    user turns (never the same as Lia's previous reply when the rule offers another);
//! 4. when nothing matches, Lia sometimes recalls an earlier "my ..." statement from the
//!    history, as ELIZA's memory did, and otherwise falls back to a generic prompt.
//!
//! Any UTF-8 input is safe: text is only split with `str` methods (never sliced inside a
//! character), nothing indexes or unwraps, and work is bounded by [`MAX_WORDS`] however long
//! the message is.

use std::ops::Range;

use super::eliza_rules::{EMPTY_PROMPTS, FALLBACKS, MEMORY_TEMPLATES, RULES, Rule};
use text::{Clause, Word, reflect, tokenize};

#[cfg(test)]
mod tests;
mod text;

/// Only this many whitespace-separated words of a message are examined, which bounds the
/// work (and the quadratic worst case of matching) for arbitrarily long input.
const MAX_WORDS: usize = 256;
/// A capture longer than this many words is not echoed back; a placeholder-free template is
/// used instead, so replies stay short.
const MAX_FRAGMENT_WORDS: usize = 16;
/// A reflected capture longer than this many characters is not echoed back either (a single
/// "word" can be thousands of characters long).
const MAX_FRAGMENT_CHARS: usize = 160;
/// A keyword longer than this many characters (possible with prefix patterns) is not echoed.
const MAX_KEYWORD_CHARS: usize = 40;
/// Only the most recent turns of the history are searched for memories.
const MEMORY_LOOKBACK: usize = 64;
/// Used when every candidate list is somehow empty, so a reply is never empty.
const LAST_RESORT: &str = "Please tell me more.";

/// One prior turn, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Turn<'a> {
    /// Whether the user (rather than Lia) said it.
    pub(crate) from_user: bool,
    /// What was said.
    pub(crate) text: &'a str,
}

/// The reply to `input` given the conversation so far. Deterministic: the same history and
/// input always give the same reply.
pub(crate) fn respond(history: &[Turn<'_>], input: &str) -> String {
    let user_turns = history.iter().filter(|turn| turn.from_user).count();
    let seed = seed(input, user_turns);
    let last_reply = history
        .iter()
        .rev()
        .find(|turn| !turn.from_user)
        .map(|turn| turn.text.trim());

    if input.trim().is_empty() {
        let prompts = EMPTY_PROMPTS.iter().map(|p| (*p).to_owned()).collect();
        return choose(prompts, seed, "empty", last_reply);
    }

    let clauses = tokenize(input);
    if let Some(found) = best_match(&clauses) {
        let options = render(found.rule, found.clause, &found.matched);
        if !options.is_empty() {
            return choose(options, seed, found.rule.key, last_reply);
        }
    }

    if let Some(memory) = recall(history)
        && pick(seed, "use-memory", 3) != 0
    {
        let options = MEMORY_TEMPLATES
            .iter()
            .filter_map(|t| fill(t, Some(memory.as_str()), None))
            .collect();
        return choose(options, seed, "memory", last_reply);
    }

    let fallbacks = FALLBACKS.iter().map(|p| (*p).to_owned()).collect();
    choose(fallbacks, seed, "fallback", last_reply)
}

/// A decomposition pattern parsed from the notation described in [`super::eliza_rules`].
#[derive(Debug, Default)]
struct Pattern {
    /// `^`: must match at the start of the clause.
    anchored_start: bool,
    /// `$`: must match at the end of the clause.
    anchored_end: bool,
    /// `?`: matches any clause that ended with a question mark.
    question: bool,
    /// Literal words before the capture (or all of them when there is none).
    prefix: Vec<&'static str>,
    /// Whether there is a capture.
    star: bool,
    /// Literal words after the capture.
    suffix: Vec<&'static str>,
}

/// Parses one pattern of the rule table.
fn parse(source: &'static str) -> Pattern {
    let mut pattern = Pattern::default();
    for token in source.split_whitespace() {
        match token {
            "^" => pattern.anchored_start = true,
            "$" => pattern.anchored_end = true,
            "?" => pattern.question = true,
            "*" => pattern.star = true,
            literal if pattern.star => pattern.suffix.push(literal),
            literal => pattern.prefix.push(literal),
        }
    }
    pattern
}

/// Where a pattern matched in a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Match {
    /// Index of the keyword (the last literal before the capture), if any.
    key: Option<usize>,
    /// The captured words, if the pattern has a capture.
    capture: Option<Range<usize>>,
}

/// Matches `pattern` against `clause`: the leftmost match, with the shortest capture when
/// literals follow it.
fn match_pattern(pattern: &Pattern, clause: &Clause) -> Option<Match> {
    if pattern.question {
        return clause.question.then_some(Match {
            key: None,
            capture: None,
        });
    }
    let words = &clause.words;
    let n = words.len();
    if pattern.prefix.is_empty() || n < pattern.prefix.len() + pattern.suffix.len() {
        return None;
    }
    let last_start = if pattern.anchored_start {
        0
    } else {
        n - pattern.prefix.len()
    };
    for start in 0..=last_start {
        if !literals_match(&pattern.prefix, words, start) {
            continue;
        }
        let after = start + pattern.prefix.len();
        let key = Some(after - 1);
        if !pattern.star {
            if !pattern.anchored_end || after == n {
                return Some(Match { key, capture: None });
            }
            continue;
        }
        if pattern.suffix.is_empty() {
            return Some(Match {
                key,
                capture: Some(after..n),
            });
        }
        let last_end = n - pattern.suffix.len();
        let first_end = if pattern.anchored_end {
            last_end
        } else {
            after + 1
        };
        for end in first_end.max(after + 1)..=last_end {
            if literals_match(&pattern.suffix, words, end) {
                return Some(Match {
                    key,
                    capture: Some(after..end),
                });
            }
        }
    }
    None
}

/// Whether the literals match the words starting at index `at`.
fn literals_match(literals: &[&str], words: &[Word], at: usize) -> bool {
    literals.iter().enumerate().all(|(i, literal)| {
        words
            .get(at + i)
            .is_some_and(|word| literal_matches(literal, &word.lower))
    })
}

/// Whether one pattern literal (`a|b`, `prefix*`) matches one lowercased word.
fn literal_matches(literal: &str, word: &str) -> bool {
    literal
        .split('|')
        .any(|alternative| match alternative.strip_suffix('*') {
            Some(prefix) => !prefix.is_empty() && word.starts_with(prefix),
            None => alternative == word,
        })
}

/// The winning rule and where it matched.
struct Found<'c> {
    /// The rule.
    rule: &'static Rule,
    /// The clause it matched in.
    clause: &'c Clause,
    /// Where it matched.
    matched: Match,
}

/// The highest-ranked rule matching any clause; ties go to the earlier clause, then to the
/// earlier rule. Lower-ranked rules are not even tried once a better match is known.
fn best_match(clauses: &[Clause]) -> Option<Found<'_>> {
    let rules: Vec<(&'static Rule, Vec<Pattern>)> = RULES
        .iter()
        .map(|rule| (rule, rule.patterns.iter().copied().map(parse).collect()))
        .collect();
    let mut best: Option<Found<'_>> = None;
    for clause in clauses {
        for (rule, patterns) in &rules {
            let rule: &'static Rule = rule;
            if best.as_ref().is_some_and(|b| b.rule.rank >= rule.rank) {
                continue;
            }
            if let Some(matched) = patterns.iter().find_map(|p| match_pattern(p, clause)) {
                best = Some(Found {
                    rule,
                    clause,
                    matched,
                });
            }
        }
    }
    best
}

/// Every template of `rule` that can be filled from this match, filled in.
fn render(rule: &Rule, clause: &Clause, matched: &Match) -> Vec<String> {
    let captured = fragment(clause, matched);
    let keyword = matched
        .key
        .and_then(|i| clause.words.get(i))
        .map(|word| word.lower.as_str())
        .filter(|k| k.chars().count() <= MAX_KEYWORD_CHARS);
    rule.templates
        .iter()
        .filter_map(|t| fill(t, captured.as_deref(), keyword))
        .collect()
}

/// The reflected capture of a match, if it exists and is short enough to echo.
fn fragment(clause: &Clause, matched: &Match) -> Option<String> {
    let words = clause.words.get(matched.capture.clone()?)?;
    if words.is_empty() || words.len() > MAX_FRAGMENT_WORDS {
        return None;
    }
    let text = reflect(words);
    (!text.is_empty() && text.chars().count() <= MAX_FRAGMENT_CHARS).then_some(text)
}

/// Fills `{0}` and `{k}` in one pass (so user text is never re-scanned for placeholders);
/// `None` if the template needs a value that is missing.
fn fill(template: &str, fragment: Option<&str>, keyword: Option<&str>) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(rest.get(..pos)?);
        let tail = rest.get(pos..)?;
        if let Some(after) = tail.strip_prefix("{0}") {
            out.push_str(fragment?);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{k}") {
            out.push_str(keyword?);
            rest = after;
        } else {
            out.push('{');
            rest = tail.get(1..)?;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The oldest recent "my ..." statement of the user that Lia has not yet brought up again,
/// reflected ("your sister never calls you").
fn recall(history: &[Turn<'_>]) -> Option<String> {
    let recent = history
        .get(history.len().saturating_sub(MEMORY_LOOKBACK)..)
        .unwrap_or_default();
    let pattern = parse("my *");
    let already_recalled = |memory: &str| {
        recent.iter().filter(|turn| !turn.from_user).any(|turn| {
            MEMORY_TEMPLATES
                .iter()
                .filter_map(|t| fill(t, Some(memory), None))
                .any(|said| turn.text.contains(&said))
        })
    };
    recent
        .iter()
        .filter(|turn| turn.from_user)
        .find_map(|turn| {
            tokenize(turn.text).iter().find_map(|clause| {
                let memory = fragment(clause, &match_pattern(&pattern, clause)?)?;
                (!already_recalled(&memory)).then_some(memory)
            })
        })
}

/// Picks one option deterministically, avoiding an exact repeat of Lia's previous reply
/// when another option exists.
fn choose(options: Vec<String>, seed: u64, salt: &str, last_reply: Option<&str>) -> String {
    let n = options.len();
    let start = pick(seed, salt, n);
    let fresh = (0..n)
        .filter_map(|step| options.get((start + step) % n))
        .find(|option| Some(option.as_str()) != last_reply);
    fresh
        .or_else(|| options.get(start))
        .cloned()
        .unwrap_or_else(|| LAST_RESORT.to_owned())
}

/// FNV-1a (64-bit) offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a (64-bit) prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Continues an FNV-1a hash over `bytes`: stable across runs, platforms and Rust versions,
/// unlike `std`'s randomly seeded hasher.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The hash every choice of a reply derives from: the trimmed, lowercased input and the
/// number of prior user turns (so repeating a message later in a chat can vary the reply).
fn seed(input: &str, user_turns: usize) -> u64 {
    let mut buf = [0_u8; 4];
    let hash = input
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .fold(FNV_OFFSET, |hash, c| {
            fnv1a(hash, c.encode_utf8(&mut buf).as_bytes())
        });
    fnv1a(
        hash,
        &u64::try_from(user_turns).unwrap_or(u64::MAX).to_le_bytes(),
    )
}

/// A deterministic index below `n` (0 when `n` is 0), salted so different decisions made
/// from the same seed are independent.
fn pick(seed: u64, salt: &str, n: usize) -> usize {
    let Ok(n) = u64::try_from(n) else { return 0 };
    if n == 0 {
        return 0;
    }
    let hash = fnv1a(seed, salt.as_bytes());
    // Fold the high bits in: FNV's low bits alone are weakly mixed for small moduli.
    let mixed = hash ^ (hash >> 29) ^ (hash >> 47);
    usize::try_from(mixed % n).unwrap_or(0)
}
