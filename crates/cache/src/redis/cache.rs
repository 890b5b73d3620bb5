//! [`ConversationCache`] over Redis. History pages, fills and guarded detail stores are Lua
//! scripts (one atomic round trip each); invalidations and removals are MULTI/EXEC
//! transactions. Every operation is bounded by the command timeout and fails open.

use std::sync::Arc;

use async_trait::async_trait;
use fred::bytes::Bytes;
use fred::prelude::{
    HashesInterface, KeysInterface, SortedSetsInterface, TransactionInterface, Value,
};
use lia_domain::ports::{
    Cached, DetailCache, FillToken, HistoryCache, HistoryRow, SharedHistory, SharedPage,
};
use lia_domain::{
    ConversationId, ConversationSummary, HistoryPage, MessageAnchor, MessageWindow, UserId,
};

use super::RedisConnection;
use super::codec::{SummaryJson, detail_entry, detail_entry_bytes, history_row_bytes};
use super::scripts::{
    DETAIL_SCRIPT, FILL_HISTORY_SCRIPT, HISTORY_PAGE_SCRIPT, STORE_IF_CURRENT_SCRIPT,
};
use crate::config::{BUILT_PAGES_MAX, CacheConfig};
use crate::stats::CacheKind;

/// The history script's answer for a page of rows in the cache's own JSON layout.
const PAGE_OF_CACHE_ROWS: i64 = 1;
/// The history script's answer for a page of rows stored as the edge's encoding.
const PAGE_OF_EDGE_ROWS: i64 = 2;

/// The Redis conversation cache.
#[derive(Debug, Clone)]
pub struct RedisCache {
    redis: RedisConnection,
    config: CacheConfig,
}

fn random_generation() -> String {
    // Below 2^62, so INCR (a signed 64-bit counter) can always bump it.
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 2).to_string()
}

fn score(summary: &ConversationSummary) -> String {
    // Microseconds since the epoch: exact in a double until the year 2255.
    format!("{}", summary.updated_at.unix_timestamp_nanos() / 1_000)
}

impl RedisCache {
    /// A cache over `redis`, with `config`'s TTLs and sizes.
    #[must_use]
    pub fn new(redis: RedisConnection, config: CacheConfig) -> Self {
        Self { redis, config }
    }
}

#[async_trait]
impl HistoryCache for RedisCache {
    async fn history(&self, user_id: UserId, page: HistoryPage) -> Cached<SharedHistory> {
        let keys = &self.redis.keys;
        let script_keys = keys.history_group(user_id);
        let args = vec![
            page.offset().to_string(),
            page.limit().to_string(),
            random_generation(),
            BUILT_PAGES_MAX.to_string(),
        ];
        let client = self.redis.pool.next();
        let Some(reply) = self
            .redis
            .bounded(
                "history",
                HISTORY_PAGE_SCRIPT.evalsha_with_reload::<Vec<Value>, _, _>(
                    client,
                    script_keys,
                    args,
                ),
            )
            .await
        else {
            return Cached::Unavailable;
        };
        let mut items = reply.into_iter();
        let kind = items.next().and_then(|v| v.as_i64());
        if let Some(kind @ (PAGE_OF_CACHE_ROWS | PAGE_OF_EDGE_ROWS)) = kind {
            let page = items.next().and_then(|page| {
                let bytes = page.as_bytes()?;
                if kind == PAGE_OF_EDGE_ROWS {
                    return Some(lia_domain::Shared::from_encoding(Arc::from(bytes)));
                }
                let rows = serde_json::from_slice::<Vec<SummaryJson>>(bytes).ok()?;
                Some(lia_domain::Shared::new(
                    rows.into_iter().map(ConversationSummary::from).collect(),
                ))
            });
            if let Some(page) = page {
                self.redis.stats.hit(CacheKind::History);
                return Cached::Hit(page);
            }
            return Cached::Unavailable;
        }
        self.redis.stats.miss(CacheKind::History);
        match items
            .next()
            .and_then(|v| v.as_str().and_then(|s| s.parse::<u64>().ok()))
        {
            Some(generation) => Cached::Miss(FillToken(generation)),
            None => Cached::Unavailable,
        }
    }

    async fn fill_history(
        &self,
        user_id: UserId,
        token: FillToken,
        rows: &[HistoryRow],
        complete: bool,
    ) {
        let keys = &self.redis.keys;
        let max = usize::try_from(self.config.history_max_entries).unwrap_or(usize::MAX);
        let complete = complete && rows.len() <= max;
        let mut args: Vec<Value> = vec![
            token.0.to_string().into(),
            self.config.history_ttl_secs.max(1).to_string().into(),
            if complete { "complete" } else { "partial" }.into(),
        ];
        // One layout for the whole fill: the edge's rows only when every row has one.
        let encoded = rows.iter().take(max).all(|row| row.encoded.is_some());
        for row in rows.iter().take(max) {
            args.push(score(&row.summary).into());
            args.push(row.summary.id.to_string().into());
            args.push(Value::from(Bytes::from(history_row_bytes(row, encoded))));
        }
        let script_keys = keys.history_group(user_id);
        self.redis
            .bounded(
                "fill_history",
                FILL_HISTORY_SCRIPT.evalsha_with_reload::<i64, _, _>(
                    self.redis.pool.next(),
                    script_keys,
                    args,
                ),
            )
            .await;
    }

    async fn remove_history(&self, user_id: UserId, id: ConversationId) {
        let keys = &self.redis.keys;
        let transaction = self.redis.pool.multi();
        let _: Result<(), _> = transaction
            .zrem(keys.history(user_id), id.to_string())
            .await;
        let _: Result<(), _> = transaction
            .hdel(keys.history_meta(user_id), id.to_string())
            .await;
        let _: Result<(), _> = transaction.del(keys.history_pages(user_id)).await;
        self.redis
            .bounded("remove_history", transaction.exec::<Value>(true))
            .await;
    }

    async fn invalidate_history(&self, user_id: UserId) {
        let keys = &self.redis.keys;
        let transaction = self.redis.pool.multi();
        // One slot: the history keys and the generation, bumped so fills in flight are void.
        let generation = keys.generation(user_id);
        let mut cached = keys.history_group(user_id);
        cached.retain(|key| *key != generation);
        let _: Result<(), _> = transaction.incr(generation).await;
        let _: Result<(), _> = transaction.del(cached).await;
        self.redis
            .bounded("invalidate_history", transaction.exec::<Value>(true))
            .await;
    }
}

#[async_trait]
impl DetailCache for RedisCache {
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Cached<SharedPage> {
        let keys = &self.redis.keys;
        let cacheable = matches!(window.anchor(), MessageAnchor::FromNewest { offset: 0 });
        let script_keys = keys.detail_group(user_id, id, window.limit());
        let call = DETAIL_SCRIPT.evalsha_with_reload::<(Option<Bytes>, String), _, _>(
            self.redis.pool.next(),
            script_keys,
            vec![random_generation()],
        );
        let Some((stored, generation)) = self.redis.bounded("detail", call).await else {
            return Cached::Unavailable;
        };
        let Ok(generation) = generation.parse::<u64>() else {
            return Cached::Unavailable;
        };
        let entry = stored
            .filter(|_| cacheable)
            .and_then(|stored| detail_entry(&stored));
        match entry {
            Some(entry) if entry.owner == user_id && entry.generation == generation => {
                self.redis.stats.hit(CacheKind::Detail);
                Cached::Hit(entry.page)
            }
            _ => {
                self.redis.stats.miss(CacheKind::Detail);
                Cached::Miss(FillToken(generation))
            }
        }
    }

    async fn store_detail(&self, token: FillToken, window: MessageWindow, page: &SharedPage) {
        if !matches!(window.anchor(), MessageAnchor::FromNewest { offset: 0 }) {
            return;
        }
        let (Some(value), Some(entry)) = (page.value(), detail_entry_bytes(token.0, page)) else {
            return;
        };
        let conversation = &value.conversation;
        let keys = &self.redis.keys;
        let script_keys = keys.detail_group(conversation.user_id, conversation.id, window.limit());
        let args = vec![
            Value::from(token.0.to_string()),
            Value::from(Bytes::from(entry)),
            Value::from(self.config.detail_ttl_secs.max(1).to_string()),
        ];
        self.redis
            .bounded(
                "store_detail",
                STORE_IF_CURRENT_SCRIPT.evalsha_with_reload::<i64, _, _>(
                    self.redis.pool.next(),
                    script_keys,
                    args,
                ),
            )
            .await;
    }

    async fn invalidate_conversation(&self, user_id: UserId, _id: ConversationId) {
        let _: Option<i64> = self
            .redis
            .bounded(
                "invalidate_conversation",
                self.redis.pool.incr(self.redis.keys.generation(user_id)),
            )
            .await;
    }
}
