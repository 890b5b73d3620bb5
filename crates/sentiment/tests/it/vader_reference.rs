//! Compares `LexiconAnalyzer::polarity` with the Python reference implementation
//! (`vaderSentiment` 3.3.2) on the sentences in `tests/data/vader_reference.tsv`
//! (`text<TAB>compound`, compound as printed by Python with 4 decimals).

use lia_sentiment::lexicon::LexiconAnalyzer;

const REFERENCE: &str = include_str!("../data/vader_reference.tsv");

#[test]
fn compound_matches_python_vader() {
    let analyzer = LexiconAnalyzer::new();
    let mut total = 0_usize;
    let mut exact = 0_usize;
    let mut max_diff = 0.0_f64;
    let mut worst = String::new();
    let mut failures = Vec::new();
    for line in REFERENCE.lines() {
        if line.is_empty() {
            continue;
        }
        let Some((text, expected)) = line.rsplit_once('\t') else {
            panic!("line is not text<TAB>compound: {line:?}");
        };
        let Ok(expected) = expected.parse::<f64>() else {
            panic!("compound is not a number: {line:?}");
        };
        let got = analyzer.polarity(text).compound;
        total += 1;
        if format!("{got:.4}") == format!("{expected:.4}") {
            exact += 1;
        }
        let diff = (got - expected).abs();
        if diff > max_diff {
            max_diff = diff;
            worst = format!("{text:?}: rust {got:.4}, python {expected:.4}");
        }
        if diff > 0.01 {
            failures.push(format!("{text:?}: rust {got:.4}, python {expected:.4}"));
        }
    }
    eprintln!(
        "VADER reference: {exact}/{total} exact at 4 dp, max |diff| {max_diff:.6}{}",
        if worst.is_empty() {
            String::new()
        } else {
            format!(" ({worst})")
        }
    );
    assert!(total >= 200, "reference file has only {total} lines");
    assert!(
        failures.is_empty(),
        "{} sentences differ by more than 0.01:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
