//! [`lia_domain::ports::HistoryCache`]: history order and removal, partial histories, rows
//! stored as the edge's encoding, and the fill-after-invalidate rule.

use lia_cache::{CacheKind, RateLimitConfig};
use lia_domain::ports::{Cached, HistoryRow};
use lia_domain::{ConversationId, ConversationSummary, HistoryPage, UserId};

use crate::backends::backends;

use super::miss_token;

fn summary(minutes_ago: i64, title: &str) -> ConversationSummary {
    let at = lia_domain::clock::now_utc() - time::Duration::minutes(minutes_ago);
    ConversationSummary {
        id: ConversationId::new_v7(),
        title: Some(title.into()),
        created_at: at,
        updated_at: at,
        message_count: 2,
    }
}

/// Rows of a fill by an instance without the edge's encoder.
fn rows(summaries: &[ConversationSummary]) -> Vec<HistoryRow> {
    summaries.iter().cloned().map(HistoryRow::from).collect()
}

fn titles(page: Option<&Vec<ConversationSummary>>) -> Vec<&str> {
    page.expect("a history hit carries its value")
        .iter()
        .map(|s| s.title.as_deref().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn history_pages_follow_removals_and_invalidation() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(1);
        let page = HistoryPage::new(0, 2).unwrap();
        let token = miss_token(backend.cache.history(user, page).await).await;
        let (a, b, c) = (summary(30, "a"), summary(20, "b"), summary(10, "c"));
        backend
            .cache
            .fill_history(user, token, &rows(&[c.clone(), b.clone(), a.clone()]), true)
            .await;
        let Cached::Hit(first) = backend.cache.history(user, page).await else {
            panic!("{}: expected a hit", backend.name)
        };
        assert_eq!(titles(first.value()), ["c", "b"]);
        // A page read again is served as built the first time (Redis keeps it as one JSON
        // array): the same rows, whatever the path.
        let Cached::Hit(again) = backend.cache.history(user, page).await else {
            panic!("{}: expected a hit", backend.name)
        };
        assert_eq!(again.value(), first.value(), "{}", backend.name);
        let Cached::Hit(second) = backend
            .cache
            .history(user, HistoryPage::new(2, 2).unwrap())
            .await
        else {
            panic!()
        };
        assert_eq!(
            titles(second.value()),
            ["a"],
            "{}: any page, not just the first",
            backend.name
        );

        backend.cache.remove_history(user, c.id).await;
        let Cached::Hit(all) = backend
            .cache
            .history(user, HistoryPage::new(0, 10).unwrap())
            .await
        else {
            panic!()
        };
        assert_eq!(titles(all.value()), ["b", "a"], "{}", backend.name);
        assert!(
            backend.stats.hits(CacheKind::History) >= 3
                && backend.stats.misses(CacheKind::History) >= 1,
            "{}: hits and misses are counted",
            backend.name
        );

        backend.cache.invalidate_history(user).await;
        assert!(matches!(
            backend.cache.history(user, page).await,
            Cached::Miss(_)
        ));
        assert_eq!(
            backend.cache.history(UserId(2), page).await,
            Cached::Miss(miss_token(backend.cache.history(UserId(2), page).await).await)
        );
    }
}

/// Rows of a fill by an instance with an edge encoder (here: the title as a JSON object).
fn encoded_rows(summaries: &[ConversationSummary]) -> Vec<HistoryRow> {
    summaries
        .iter()
        .map(|summary| HistoryRow {
            summary: summary.clone(),
            encoded: Some(
                format!(
                    r#"{{"t":"{}"}}"#,
                    summary.title.as_deref().unwrap_or_default()
                )
                .into_bytes(),
            ),
        })
        .collect()
}

#[tokio::test]
async fn history_rows_stored_with_their_encoding_are_served_as_one_array_of_them() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(4);
        let page = HistoryPage::new(0, 2).unwrap();
        let newest = [summary(1, "x"), summary(2, "y"), summary(3, "z")];
        let token = miss_token(backend.cache.history(user, page).await).await;
        backend
            .cache
            .fill_history(user, token, &encoded_rows(&newest), true)
            .await;
        for read in ["assembled from rows", "built page"] {
            let Cached::Hit(hit) = backend.cache.history(user, page).await else {
                panic!("{}: expected a hit", backend.name)
            };
            if backend.name == "memory" {
                // In process the values are kept, and each page encoded by its first reader.
                assert_eq!(titles(hit.value()), ["x", "y"], "{read}");
            } else {
                assert_eq!(hit.value(), None, "{}: {read}", backend.name);
                let served = hit.encoded_with(|_| Err("the stored rows, not a new encoding"));
                assert_eq!(
                    served.as_deref(),
                    Ok(&br#"[{"t":"x"},{"t":"y"}]"#[..]),
                    "{}: {read}",
                    backend.name
                );
            }
        }

        // A fill where one row has no encoding stores the cache's own layout for all.
        backend.cache.invalidate_history(user).await;
        let token = miss_token(backend.cache.history(user, page).await).await;
        let mut mixed = encoded_rows(&newest);
        mixed[1].encoded = None;
        backend.cache.fill_history(user, token, &mixed, true).await;
        let Cached::Hit(hit) = backend.cache.history(user, page).await else {
            panic!("{}: expected a hit", backend.name)
        };
        assert_eq!(titles(hit.value()), ["x", "y"], "{}", backend.name);
    }
}

#[tokio::test]
async fn a_partial_history_serves_only_the_pages_it_holds() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(3);
        let token = miss_token(backend.cache.history(user, HistoryPage::default()).await).await;
        let newest: Vec<ConversationSummary> =
            (0..4).map(|i| summary(i, &format!("s{i}"))).collect();
        backend
            .cache
            .fill_history(user, token, &rows(&newest), false)
            .await;
        assert!(
            matches!(
                backend
                    .cache
                    .history(user, HistoryPage::new(0, 4).unwrap())
                    .await,
                Cached::Hit(_)
            ),
            "{}",
            backend.name
        );
        assert!(
            matches!(
                backend
                    .cache
                    .history(user, HistoryPage::new(2, 4).unwrap())
                    .await,
                Cached::Miss(_)
            ),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn a_fill_that_raced_an_invalidation_is_refused() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(4);
        let page = HistoryPage::default();
        let stale_token = miss_token(backend.cache.history(user, page).await).await;
        // A writer commits and invalidates while the reader is still reading the database.
        backend.cache.invalidate_history(user).await;
        backend
            .cache
            .fill_history(user, stale_token, &rows(&[summary(5, "stale")]), true)
            .await;
        assert!(
            matches!(backend.cache.history(user, page).await, Cached::Miss(_)),
            "{}: the stale fill was dropped",
            backend.name
        );
    }
}
