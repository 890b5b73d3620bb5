//! `login`: whether a failed login's time tells an unknown email from a known one, or an
//! Argon2 account from a legacy bcrypt one. With the production hashing defaults (Argon2id
//! m=64 MiB, t=3, p=4; bcrypt cost 12 for legacy hashes), 20 sequential samples of each
//! kind, interleaved so drift affects all three alike; once with the bcrypt dummy off
//! (`legacy_bcrypt_cost = 0`, the old behaviour) and once with the default.

use std::time::Instant;

use anyhow::Result;
use lia_domain::{Email, NewUser, PasswordHash, Username};
use lia_store::StoreConfig;
use serde_json::{Value, json};

use super::{process, seed};

const SAMPLES: usize = 20;
const LEGACY_EMAIL: &str = "legacy@example.com";

pub(crate) async fn run(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    add_legacy_user(database).await?;
    let upstream = super::idle_upstream().await;
    let mut report = serde_json::Map::new();
    for (label, cost) in [("bcrypt_dummy_off", "0"), ("default", "12")] {
        let server = process::Server::start(
            root,
            database,
            &upstream.base_url,
            &[("LIA__AUTH__HASHING__LEGACY_BCRYPT_COST", cost)],
        )
        .await?;
        let medians = sample(&server).await?;
        println!(
            "login ({label}): median of {SAMPLES} failed logins: unknown email {:.1} ms, wrong password (argon2) {:.1} ms, wrong password (legacy bcrypt) {:.1} ms",
            medians[0], medians[1], medians[2]
        );
        report.insert(
            label.into(),
            json!({"unknown_email_ms": medians[0], "wrong_password_argon2_ms": medians[1], "wrong_password_bcrypt_ms": medians[2]}),
        );
    }
    Ok(Value::Object(report))
}

/// A user whose stored hash is the reference service's bcrypt (cost 12).
async fn add_legacy_user(database: &seed::Database) -> Result<()> {
    let config = StoreConfig {
        database_url: database.url.clone().map(Into::into),
        sqlite_path: database.sqlite_path.clone(),
        ..StoreConfig::default()
    };
    let connection = lia_store::connect(&config).await?;
    let hash =
        tokio::task::spawn_blocking(|| bcrypt::hash(crate::seed::SEED_PASSWORD, 12)).await??;
    let user = NewUser {
        email: Email::parse(LEGACY_EMAIL)?,
        username: Username::parse("legacy")?,
        password_hash: PasswordHash(hash),
    };
    lia_store::bulk::import_users(&connection, &[user]).await?;
    connection.close().await?;
    Ok(())
}

/// Medians in ms: unknown email, wrong password on an Argon2 account, on a bcrypt one.
async fn sample(server: &process::Server) -> Result<[f64; 3]> {
    let client = lia_llm::providers::http::client(std::time::Duration::from_secs(10))?;
    let emails = ["nobody@example.com", "user0@example.com", LEGACY_EMAIL];
    let mut samples: [Vec<f64>; 3] = Default::default();
    // Two warm-up rounds, not counted.
    for round in 0..SAMPLES + 2 {
        for offset in 0..emails.len() {
            let kind = (round + offset) % emails.len();
            let started = Instant::now();
            let response = client
                .post(format!("{}/api/v1/auth/login", server.base_url))
                .json(&json!({"email": emails[kind], "password": "Wrong-password-1"}))
                .send()
                .await?;
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(
                response.status() == 401,
                "login answered {}",
                response.status()
            );
            if round >= 2 {
                samples[kind].push(elapsed);
            }
        }
    }
    Ok(samples.map(|mut kind| {
        kind.sort_by(f64::total_cmp);
        kind[kind.len() / 2]
    }))
}
