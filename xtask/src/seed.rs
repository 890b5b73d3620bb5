//! `cargo xtask seed`: deterministic development and benchmark data, bulk-inserted.
//! Every seeded user has the password `Password123`.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use lia_auth::{HashingConfig, PasswordHasher};
use lia_domain::{Email, NewUser, Role, Username};
use lia_store::StoreConfig;
use lia_store::bulk::{ImportConversation, ImportMessage, import_conversations, import_users};
use time::{Duration, OffsetDateTime};

use crate::rng::SplitMix64;
use crate::{flag_value, text};

/// The password of every seeded user.
pub(crate) const SEED_PASSWORD: &str = "Password123";
/// Conversations inserted per transaction.
const CONVERSATIONS_PER_BATCH: usize = 200;

pub(crate) struct Options {
    users: u64,
    conversations: u64,
    messages: u64,
    seed: u64,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self {
            users: 10,
            conversations: 5,
            messages: 20,
            seed: 42,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "--users" => options.users = flag_value(flag, args.next())?,
                "--conversations" => options.conversations = flag_value(flag, args.next())?,
                "--messages" => options.messages = flag_value(flag, args.next())?,
                "--seed" => options.seed = flag_value(flag, args.next())?,
                other => bail!(
                    "unknown flag {other:?}; usage: cargo xtask seed [--users N] [--conversations M per user] [--messages K per conversation] [--seed S]"
                ),
            }
        }
        Ok(options)
    }
}

pub(crate) async fn run(config: &StoreConfig, options: &Options) -> Result<()> {
    let connection = lia_store::connect(config).await?;
    lia_store::migrate(&connection).await?;
    let mut rng = SplitMix64::new(options.seed);

    let hasher = PasswordHasher::new(&HashingConfig::default())?;
    let password_hash = hasher.hash(SEED_PASSWORD).await?;
    let users: Vec<NewUser> = (0..options.users)
        .map(|i| {
            Ok(NewUser {
                email: Email::parse(&format!("user{i}@example.com"))?,
                username: Username::parse(&format!("user{i}"))?,
                password_hash: password_hash.clone(),
            })
        })
        .collect::<Result<_, lia_domain::ValidationError>>()?;
    let user_ids = import_users(&connection, &users).await.context(
        "inserting users (already seeded? `cargo xtask migrate fresh` empties the database)",
    )?;

    let total = options.users * options.conversations;
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} conversations {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let now = OffsetDateTime::now_utc();
    let mut batch = Vec::with_capacity(CONVERSATIONS_PER_BATCH);
    for user_id in &user_ids {
        for _ in 0..options.conversations {
            batch.push(conversation(&mut rng, *user_id, options.messages, now));
            if batch.len() == CONVERSATIONS_PER_BATCH {
                import_conversations(&connection, std::mem::take(&mut batch)).await?;
                progress.inc(CONVERSATIONS_PER_BATCH as u64);
            }
        }
    }
    let remaining = batch.len() as u64;
    import_conversations(&connection, batch).await?;
    let n_messages = total * options.messages;
    progress.inc(remaining);
    progress.finish();
    println!(
        "seeded {} users ({}), {total} conversations, {n_messages} messages into {}",
        user_ids.len(),
        users.first().map_or("none".to_owned(), |u| format!(
            "first: {} / {SEED_PASSWORD}",
            u.email
        )),
        config.masked_url()
    );
    Ok(())
}

fn conversation(
    rng: &mut SplitMix64,
    user_id: lia_domain::UserId,
    n_messages: u64,
    now: OffsetDateTime,
) -> ImportConversation {
    let age = Duration::minutes(i64::try_from(rng.below(90 * 24 * 60)).unwrap_or(0));
    let created_at = now - age - Duration::hours(1);
    let mut at = created_at;
    let messages = (0..n_messages)
        .map(|i| {
            at += Duration::seconds(5 + i64::try_from(rng.below(300)).unwrap_or(0));
            let (role, content) = if i % 2 == 0 {
                (Role::User, text::user_message(rng))
            } else {
                (Role::Assistant, text::assistant_message(rng))
            };
            ImportMessage {
                role,
                content,
                created_at: at,
            }
        })
        .collect();
    ImportConversation {
        user_id,
        title: Some(text::title(rng)),
        created_at,
        messages,
    }
}
