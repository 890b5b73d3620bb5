//! `cargo xtask`: project automation written in Rust, so it runs wherever cargo does.
//!
//! ```text
//! cargo xtask migrate up [N] | down [N] | status | fresh
//! cargo xtask seed [--users N] [--conversations M] [--messages K] [--seed S]
//! cargo xtask bench [http|sustained|memory|startup|login]
//! cargo xtask user set-quota EMAIL TOKENS|default
//! cargo xtask check-deps
//! cargo xtask config-reference
//! ```
//!
//! They act on `DATABASE_URL`, or on the default SQLite file `lia.db` when it is unset.

mod bench;
mod check_deps;
mod migrate;
mod rng;
mod seed;
mod text;
mod user;

use anyhow::{Context, Result, bail};
use lia_store::StoreConfig;

const USAGE: &str = "\
usage:
  cargo xtask migrate up [N] | down [N] | status | fresh
  cargo xtask seed [--users N] [--conversations M] [--messages K] [--seed S]
  cargo xtask bench [http|sustained|memory|startup|login]
  cargo xtask user set-quota EMAIL TOKENS|default
  cargo xtask check-deps
  cargo xtask config-reference

They act on DATABASE_URL, or on the SQLite file lia.db when it is unset.";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // This binary's TLS stack, for the clients it builds itself (the benchmark's streams).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&args))
}

async fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        bail!("{USAGE}")
    };
    let config = store_config();
    match command.as_str() {
        "migrate" => migrate::run(&config, rest).await,
        "seed" => seed::run(&config, &seed::Options::parse(rest)?).await,
        "bench" => bench::run(rest).await,
        "user" => user::run(&config, rest).await,
        "check-deps" => check_deps::run(),
        "config-reference" => config_reference(),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

/// Writes the configuration reference generated from the settings types.
fn config_reference() -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(lia_server::config_reference::PATH);
    std::fs::write(&path, lia_server::config_reference::markdown())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", lia_server::config_reference::PATH);
    Ok(())
}

fn store_config() -> StoreConfig {
    StoreConfig {
        database_url: std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .map(Into::into),
        ..StoreConfig::default()
    }
}

/// Parses the value following a flag.
fn flag_value<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .with_context(|| format!("{flag} needs a value"))?
        .parse()
        .with_context(|| format!("invalid value for {flag}"))
}
