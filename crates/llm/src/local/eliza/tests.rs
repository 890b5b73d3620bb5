//! Tests of the ELIZA-style engine: determinism, reflection, rule priority, memory and
//! robustness against arbitrary input.

use std::time::{Duration, Instant};

use super::*;

/// A user turn.
fn user(text: &str) -> Turn<'_> {
    Turn {
        from_user: true,
        text,
    }
}

/// One of Lia's turns.
fn lia(text: &str) -> Turn<'_> {
    Turn {
        from_user: false,
        text,
    }
}

/// The key of the rule that would answer `input`, if any.
fn rule_for(input: &str) -> Option<&'static str> {
    let clauses = tokenize(input);
    best_match(&clauses).map(|found| found.rule.key)
}

/// Reflects the words of the first clause of `input`.
fn reflect_text(input: &str) -> String {
    let clauses = tokenize(input);
    clauses
        .first()
        .map(|clause| reflect(&clause.words))
        .unwrap_or_default()
}

#[test]
fn fnv1a_matches_reference_vectors() {
    assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
}

#[test]
fn same_history_and_input_give_the_same_reply() {
    let history = [
        user("My sister never calls me"),
        lia("Your sister never calls you? Tell me more."),
    ];
    for input in [
        "hello",
        "I feel sad about my job",
        "pizza",
        "",
        "What is your name?",
        "🦀 rust!",
    ] {
        assert_eq!(
            respond(&history, input),
            respond(&history, input),
            "input {input:?}"
        );
        assert_eq!(respond(&[], input), respond(&[], input), "input {input:?}");
    }
}

#[test]
fn choice_ignores_case_and_surrounding_whitespace() {
    assert_eq!(respond(&[], "HELLO"), respond(&[], "  hello \n"));
}

#[test]
fn later_turns_can_vary_the_reply() {
    let mut replies = Vec::new();
    let mut history = Vec::new();
    for _ in 0..12 {
        replies.push(respond(&history, "hello"));
        history.push(user("hmm"));
    }
    replies.sort();
    replies.dedup();
    assert!(replies.len() > 1, "{replies:?}");
}

#[test]
fn previous_reply_is_not_repeated_when_there_is_another() {
    let first_history = [user("hello there")];
    let first = respond(&first_history, "hello");
    let second_history = [user("hello there"), lia(&first)];
    let second = respond(&second_history, "hello");
    assert_ne!(first, second);
}

#[test]
fn reflection_swaps_points_of_view() {
    let reply = respond(&[], "I feel sad about my job");
    let lower = reply.to_lowercase();
    assert!(lower.contains("your job"), "{reply}");
    assert!(!lower.contains("my job"), "{reply}");

    assert_eq!(
        reflect_text("i am sure you know my name"),
        "you are sure I know your name"
    );
    assert_eq!(reflect_text("you were kind to me"), "I was kind to you");
    assert_eq!(
        reflect_text("I’m tired of myself"),
        "you're tired of yourself"
    );
    assert_eq!(reflect_text("I've lost your book"), "you've lost my book");
    assert_eq!(
        reflect_text("I want you to help me"),
        "you want me to help you"
    );
    assert_eq!(reflect_text("you hate me"), "I hate you");
    assert_eq!(reflect_text("mine or yours"), "yours or mine");
    assert_eq!(reflect_text("I was late"), "you were late");
    assert_eq!(reflect_text("Paris is lovely"), "Paris is lovely");
}

#[test]
fn captured_fragments_lose_trailing_punctuation() {
    for history_len in 0..6 {
        let history = vec![user("hmm"); history_len];
        let reply = respond(&history, "I need a holiday!!!");
        assert!(
            reply.contains("a holiday?") || !reply.contains("holiday"),
            "{reply}"
        );
        assert!(!reply.contains('!'), "{reply}");
        let reply = respond(&history, "I feel “lost”...");
        assert!(
            reply.contains("lost?") || reply.contains("lost."),
            "{reply}"
        );
        assert!(!reply.contains('“') && !reply.contains('”'), "{reply}");
    }
}

#[test]
fn most_specific_rule_wins() {
    let cases = [
        ("What is your name?", Some("name")),
        ("Hi! What's your name?", Some("name")),
        ("How are you?", Some("how_are_you")),
        ("I am feeling sad", Some("feel")),
        ("I feel bad about this bug", Some("feel")),
        ("Hi, I feel lost", Some("feel")),
        ("I'm sorry", Some("sorry")),
        ("I am a student", Some("i_am")),
        ("I'm fine, thanks", Some("i_am_fine")),
        ("My mother hates me", Some("family")),
        ("My car broke down", Some("my")),
        ("My name is Ada", Some("my_name_is")),
        ("Can you help me with my homework?", Some("help_with")),
        ("I have an error in my python code", Some("bug")),
        ("I don't know", Some("i_dont_know")),
        ("I don't like mondays", Some("i_dont")),
        ("Thank you for helping me", Some("thanks")),
        ("Why is the sky blue?", Some("question")),
        ("xyzzy plugh", None),
    ];
    for (input, expected) in cases {
        assert_eq!(rule_for(input), expected, "input {input:?}");
    }
}

#[test]
fn the_name_question_introduces_lia() {
    for input in [
        "What is your name?",
        "what's your name",
        "Who are you?",
        "WHATS YOUR NAME",
    ] {
        let reply = respond(&[], input);
        assert!(reply.contains("Lia"), "{input:?} -> {reply}");
    }
}

#[test]
fn memory_recalls_an_earlier_my_statement() {
    let history = [
        user("My sister never calls me."),
        lia("Your sister never calls you? Tell me more."),
        user("hmm"),
        lia("Please tell me more."),
    ];
    let unmatched = [
        "pizza",
        "blue",
        "the weather",
        "tuesday",
        "hmm hmm",
        "well well",
        "lemons",
        "trains",
    ];
    let recalled: Vec<String> = unmatched
        .iter()
        .map(|input| respond(&history, input))
        .filter(|reply| reply.contains("your sister never calls you"))
        .collect();
    assert!(!recalled.is_empty());
    assert!(recalled.iter().all(|reply| {
        MEMORY_TEMPLATES
            .iter()
            .any(|t| t.split("{0}").all(|part| reply.contains(part)))
    }));

    for input in unmatched {
        let reply = respond(&[], input);
        assert!(FALLBACKS.contains(&reply.as_str()), "{input:?} -> {reply}");
    }
}

#[test]
fn memory_is_not_brought_up_twice() {
    let memory = "sister never calls you";
    let said: Vec<String> = MEMORY_TEMPLATES
        .iter()
        .filter_map(|t| fill(t, Some(memory), None))
        .collect();
    let mut history = vec![user("My sister never calls me.")];
    for text in &said {
        history.push(lia(text));
        history.push(user("ok"));
    }
    for input in [
        "pizza",
        "blue",
        "the weather",
        "tuesday",
        "hmm hmm",
        "well well",
        "lemons",
        "trains",
    ] {
        let reply = respond(&history, input);
        assert!(!reply.contains(memory), "{input:?} -> {reply}");
    }
}

#[test]
fn empty_input_gets_a_gentle_prompt() {
    for input in ["", "   ", "\n\t ", "\u{3000}"] {
        let reply = respond(&[], input);
        assert!(
            EMPTY_PROMPTS.contains(&reply.as_str()),
            "{input:?} -> {reply}"
        );
    }
}

#[test]
fn replies_are_non_empty_and_fully_filled() {
    let inputs = [
        "hello",
        "I feel",
        "I am",
        "my",
        "because",
        "why don't you",
        "can you",
        "what is",
        "how do i",
        "you are",
        "i think",
        "sorry",
        "thanks",
        "yes",
        "no",
        "maybe",
        "computer",
        "I had a dream",
        "my father",
        "always",
        "nobody",
        "help",
        "?",
        "rust",
        "bug",
        "what can you do",
        "tell me a joke",
        "I love you",
        "You never listen to me",
        "if only",
        "bye",
        "I feel like you don't listen",
    ];
    let mut history = Vec::new();
    for input in inputs {
        let reply = respond(&history, input);
        assert!(!reply.trim().is_empty(), "{input:?}");
        assert!(
            !reply.contains("{0}") && !reply.contains("{k}"),
            "{input:?} -> {reply}"
        );
        assert!(reply.ends_with(['.', '?', '!']), "{input:?} -> {reply}");
        history.push(user(input));
    }
}

#[test]
fn rule_table_is_well_formed() {
    let mut keys: Vec<&str> = RULES.iter().map(|rule| rule.key).collect();
    assert!(keys.len() >= 35, "only {} rules", keys.len());
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), RULES.len(), "duplicate rule keys");
    for rule in RULES {
        assert!(
            !rule.patterns.is_empty() && !rule.templates.is_empty(),
            "{}",
            rule.key
        );
        for &source in rule.patterns {
            let stars = source
                .split_whitespace()
                .filter(|token| *token == "*")
                .count();
            assert!(stars <= 1, "{source}");
            let pattern = parse(source);
            assert!(pattern.question || !pattern.prefix.is_empty(), "{source}");
            if stars == 0 {
                assert!(
                    rule.templates.iter().all(|t| !t.contains("{0}")),
                    "{}",
                    rule.key
                );
            }
        }
        for template in rule.templates {
            assert!(template.ends_with(['.', '?', '!']), "{template}");
        }
    }
    for template in MEMORY_TEMPLATES
        .iter()
        .chain(FALLBACKS)
        .chain(EMPTY_PROMPTS)
    {
        assert!(template.ends_with(['.', '?', '!']), "{template}");
    }
}

#[test]
fn tricky_input_never_panics_and_stays_short() {
    let long_inputs = [
        "a".repeat(10_000),
        "i ".repeat(5_000),
        "my ".repeat(3_300),
        "I feel ".repeat(1_500),
        "you i ".repeat(1_700),
        "e\u{301}".repeat(5_000),
        "😀".repeat(2_500),
        "?".repeat(10_000),
        format!("I feel {}", "x".repeat(10_000)),
        format!("my {} is here", "é".repeat(5_000)),
        format!("{} I feel sad", ". ".repeat(5_000)),
    ];
    let short_inputs = [
        "😀",
        "😀😀😀 🎉",
        "I feel 😀",
        "my 🐶 is sick",
        "e\u{301}\u{301}\u{301}",
        "I feel e\u{301}",
        "ñ",
        "İ",
        "İ feel",
        "ß",
        "ﬀ",
        "\u{200d}",
        "\u{0}",
        "?",
        "???",
        "...",
        "'",
        "’",
        "I’m sad",
        "i'm",
        "*",
        "{0}",
        "{k}",
        "{",
        "}",
        "i feel {0}",
        "my {k}",
        "^",
        "$",
        "|",
        "i | you",
        "* * *",
        "مرحبا",
        "我很难过。你好？",
        "Привет, как дела?",
        "¿qué?",
        "—",
        "i feel —",
        "a.b.c",
        ",,,my",
        "my, my",
        "you",
        "me",
        "I",
        "dream\u{301}ing",
        "\u{feff}hello",
    ];
    let history = [
        user("My dog is ill 🐶"),
        lia("Your dog is ill? Tell me more."),
        user(&long_inputs[0]),
    ];
    for input in long_inputs.iter().map(String::as_str).chain(short_inputs) {
        let started = Instant::now();
        let fresh = respond(&[], input);
        let with_history = respond(&history, input);
        let elapsed = started.elapsed();
        for reply in [&fresh, &with_history] {
            assert!(!reply.trim().is_empty(), "{input:?}");
            assert!(
                reply.chars().count() <= 400,
                "{} chars for input of {} bytes",
                reply.len(),
                input.len()
            );
        }
        assert!(
            elapsed < Duration::from_secs(1),
            "{elapsed:?} for input of {} bytes",
            input.len()
        );
    }
}
