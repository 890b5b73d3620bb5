//! `cargo xtask user set-quota EMAIL TOKENS|default`: a user's own daily token budget
//! (0 = unlimited for them), or `default` to fall back to `quotas.daily_tokens` again.

use anyhow::{Context, Result, bail};
use lia_domain::ports::UsageRepository;
use lia_domain::{Email, UserRepository};
use lia_store::StoreConfig;

const USAGE: &str = "usage: cargo xtask user set-quota EMAIL TOKENS|default";

pub(crate) async fn run(config: &StoreConfig, args: &[String]) -> Result<()> {
    let [command, email, tokens] = args else {
        bail!(USAGE)
    };
    if command != "set-quota" {
        bail!(USAGE)
    }
    let budget = match tokens.as_str() {
        "default" => None,
        number => Some(
            number
                .parse::<u64>()
                .context("TOKENS must be a non-negative number, or `default`")?,
        ),
    };
    let email = Email::parse(email).context("not an email address")?;
    let database = lia_store::Database::open(config).await?;
    database.migrate().await?;
    let Some(credentials) = database.users().find_credentials(&email).await? else {
        bail!("no user with the email {}", email.as_str());
    };
    let user = credentials.user;
    database.usage().set_quota_override(user.id, budget).await?;
    match budget {
        None => println!("{}: the default daily quota applies", email.as_str()),
        Some(0) => println!("{}: no daily quota", email.as_str()),
        Some(tokens) => println!("{}: {tokens} tokens per day", email.as_str()),
    }
    println!("database: {}", config.masked_url());
    Ok(())
}
