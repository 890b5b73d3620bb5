//! `cargo xtask check-deps`: asserts the crate dependency rules of docs/architecture.md, so a new
//! edge between crates is a visible decision rather than a drift.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Each library crate and the `lia-*` crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("lia-domain", &[]),
    ("lia-llm", &[]),
    ("lia-migration", &[]),
    ("lia-sentiment", &["lia-domain", "lia-llm"]),
    ("lia-store", &["lia-domain", "lia-migration"]),
    ("lia-cache", &["lia-domain"]),
    ("lia-auth", &["lia-domain"]),
    ("lia-chat", &["lia-domain", "lia-llm", "lia-sentiment"]),
    ("lia-api", &["lia-chat", "lia-auth", "lia-domain"]),
];

/// External crates the pure domain crate must never use (no I/O, no runtime).
const NOT_IN_DOMAIN: &[&str] = &["tokio", "sea-orm", "fred", "actix-web", "reqwest", "sqlx"];

pub(crate) fn run() -> Result<()> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    let mut problems = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        let Some((_, allowed)) = ALLOWED.iter().find(|(crate_name, _)| *crate_name == name) else {
            continue;
        };
        let normal = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null());
        for dependency in normal {
            let dependency = dependency["name"].as_str().unwrap_or_default();
            if dependency.starts_with("lia-") && !allowed.contains(&dependency) {
                problems.push(format!("{name} must not depend on {dependency}"));
            }
            if name == "lia-domain" && NOT_IN_DOMAIN.contains(&dependency) {
                problems.push(format!(
                    "lia-domain must stay free of I/O, but depends on {dependency}"
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "crate dependency rules broken:\n  {}",
            problems.join("\n  ")
        );
    }
    println!("crate dependency rules hold");
    Ok(())
}
