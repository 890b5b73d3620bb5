//! Read-path benchmarks: a detail page of 50 from a 10,000-message conversation (latest page,
//! a deep offset page, and a deep keyset page) and a history page of 20 from 1,000
//! conversations. SQLite always; PostgreSQL too when `LIA_BENCH_DATABASE_URL` (or
//! `LIA_TEST_DATABASE_URL`) is set, in a scratch database `lia_bench`.

#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use lia_domain::{
    ConversationRepository, Email, HistoryPage, MessageAnchor, MessageWindow, NewUser,
    PasswordHash, Role, UserId, UserRepository, Username,
};
use lia_store::bulk::{ImportConversation, ImportMessage, import_conversations};
use lia_store::{DatabaseConnection, SqlConversationRepository, SqlUserRepository, StoreConfig};
use sea_orm::{ConnectionTrait, Database};
use time::{Duration, OffsetDateTime};

struct Fixture {
    conversations: SqlConversationRepository,
    user: UserId,
    long: lia_domain::ConversationId,
    deep_anchor: lia_domain::MessageId,
}

async fn fixture(connection: DatabaseConnection) -> Fixture {
    lia_store::migrate(&connection).await.unwrap();
    let users = SqlUserRepository::new(lia_store::Database::from_connection(connection.clone()));
    let user = users
        .create(NewUser {
            email: Email::parse("bench@example.com").unwrap(),
            username: Username::parse("bench").unwrap(),
            password_hash: PasswordHash("x".into()),
        })
        .await
        .unwrap()
        .id;
    let base = OffsetDateTime::now_utc() - Duration::days(30);
    let message = |i: i64| ImportMessage {
        role: if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        },
        content: format!("message number {i} with a little text to make it realistic"),
        created_at: base + Duration::seconds(i),
    };
    let long = ImportConversation {
        user_id: user,
        title: Some("long".into()),
        created_at: base,
        messages: (0..10_000).map(message).collect(),
    };
    let long = import_conversations(&connection, vec![long]).await.unwrap()[0];
    let others = (0..999)
        .map(|i| ImportConversation {
            user_id: user,
            title: Some(format!("conversation {i}")),
            created_at: base + Duration::minutes(i),
            messages: (0..4).map(|j| message(i * 10 + j)).collect(),
        })
        .collect();
    import_conversations(&connection, others).await.unwrap();
    let conversations =
        SqlConversationRepository::new(lia_store::Database::from_connection(connection));
    let deep = conversations
        .detail(
            user,
            long,
            MessageWindow::new(MessageAnchor::FromNewest { offset: 9_000 }, 1).unwrap(),
        )
        .await
        .unwrap();
    Fixture {
        conversations,
        user,
        long,
        deep_anchor: deep.messages[0].id,
    }
}

fn bench_backend(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    fixture: &Fixture,
) {
    let mut group = c.benchmark_group(name);
    let detail = |anchor| MessageWindow::new(anchor, 50).unwrap();
    for (label, window) in [
        (
            "detail_latest_50_of_10k",
            detail(MessageAnchor::FromNewest { offset: 0 }),
        ),
        (
            "detail_offset_9000_50_of_10k",
            detail(MessageAnchor::FromNewest { offset: 9_000 }),
        ),
        (
            "detail_before_cursor_9000_50_of_10k",
            detail(MessageAnchor::Before(fixture.deep_anchor)),
        ),
    ] {
        group.bench_function(label, |b| {
            b.to_async(runtime).iter(|| {
                fixture
                    .conversations
                    .detail(fixture.user, fixture.long, window)
            });
        });
    }
    group.bench_function("history_first_20_of_1000", |b| {
        b.to_async(runtime).iter(|| {
            fixture
                .conversations
                .history(fixture.user, HistoryPage::default())
        });
    });
    group.bench_function("history_offset_500_20_of_1000", |b| {
        b.to_async(runtime).iter(|| {
            fixture
                .conversations
                .history(fixture.user, HistoryPage::new(500, 20).unwrap())
        });
    });
    group.finish();
}

fn reads(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StoreConfig {
        sqlite_path: dir.path().join("bench.db").display().to_string(),
        ..StoreConfig::default()
    };
    let fixture_sqlite =
        runtime.block_on(async { fixture(lia_store::connect(&sqlite).await.unwrap()).await });
    bench_backend(c, "sqlite", &runtime, &fixture_sqlite);

    let postgres_url =
        std::env::var("LIA_BENCH_DATABASE_URL").or_else(|_| std::env::var("LIA_TEST_DATABASE_URL"));
    if let Ok(admin_url) = postgres_url
        .map(|url| url.trim().to_owned())
        .as_deref()
        .map(str::to_owned)
    {
        if admin_url.is_empty() {
            return;
        }
        let fixture_postgres = runtime.block_on(async {
            let admin = Database::connect(&admin_url).await.unwrap();
            admin
                .execute_unprepared("DROP DATABASE IF EXISTS lia_bench WITH (FORCE)")
                .await
                .unwrap();
            admin
                .execute_unprepared("CREATE DATABASE lia_bench")
                .await
                .unwrap();
            let url = match admin_url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/lia_bench"),
                None => admin_url.clone(),
            };
            let config = StoreConfig {
                database_url: Some(url.into()),
                ..StoreConfig::default()
            };
            fixture(lia_store::connect(&config).await.unwrap()).await
        });
        bench_backend(c, "postgres", &runtime, &fixture_postgres);
    }
}

criterion_group!(benches, reads);
criterion_main!(benches);
