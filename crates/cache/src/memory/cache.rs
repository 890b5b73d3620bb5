//! [`ConversationCache`] in process memory (moka), with the same generation rule as Redis.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lia_domain::ports::{
    Cached, DetailCache, FillToken, HistoryCache, HistoryRow, SharedHistory, SharedPage,
};
use lia_domain::{
    ConversationId, ConversationSummary, HistoryPage, MessageAnchor, MessageWindow, Shared, UserId,
};
use moka::sync::Cache;
use time::OffsetDateTime;

use crate::config::{BUILT_PAGES_MAX, CacheConfig};
use crate::stats::{CacheKind, CacheStats};

/// The newest conversations of one user, ordered as the history list is.
#[derive(Debug, Default)]
struct HistoryIndex {
    order: BTreeSet<(Reverse<OffsetDateTime>, Reverse<ConversationId>)>,
    entries: HashMap<ConversationId, ConversationSummary>,
    /// Whether these are all the user's conversations, or only a prefix of them.
    complete: bool,
    /// Pages already built from this index, shared with every reader (and their encoding
    /// with them) until the index changes.
    built: HashMap<(u64, u64), SharedHistory>,
}

impl HistoryIndex {
    fn insert(&mut self, summary: ConversationSummary) {
        self.remove(summary.id);
        self.order
            .insert((Reverse(summary.updated_at), Reverse(summary.id)));
        self.entries.insert(summary.id, summary);
    }

    fn remove(&mut self, id: ConversationId) {
        self.built.clear();
        if let Some(old) = self.entries.remove(&id) {
            self.order.remove(&(Reverse(old.updated_at), Reverse(id)));
        }
    }

    /// The page, if the cached prefix covers it: built once, then shared.
    fn page(&mut self, page: HistoryPage) -> Option<SharedHistory> {
        let end = page.offset().saturating_add(page.limit());
        if !self.complete && end > self.order.len() as u64 {
            return None;
        }
        let key = (page.offset(), page.limit());
        if let Some(built) = self.built.get(&key) {
            return Some(Arc::clone(built));
        }
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let take = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        let summaries = self
            .order
            .iter()
            .skip(skip)
            .take(take)
            .filter_map(|(_, Reverse(id))| self.entries.get(id).cloned())
            .collect();
        let built = Shared::new(summaries);
        if self.built.len() >= BUILT_PAGES_MAX {
            self.built.clear();
        }
        self.built.insert(key, Arc::clone(&built));
        Some(built)
    }
}

#[derive(Debug)]
struct DetailEntry {
    owner: UserId,
    generation: u64,
    page: SharedPage,
}

/// The in-process conversation cache.
pub struct MemoryCache {
    histories: Cache<UserId, Arc<Mutex<HistoryIndex>>>,
    details: Cache<(ConversationId, u64), Arc<DetailEntry>>,
    /// Per-user generations; an absent user starts at a random value, so a forgotten
    /// generation can never match an old token.
    generations: Mutex<HashMap<UserId, u64>>,
    max_generations: usize,
    history_max: usize,
    stats: Arc<CacheStats>,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache").finish_non_exhaustive()
    }
}

impl MemoryCache {
    /// A cache bounded and timed by `config`, counting into `stats`.
    #[must_use]
    pub fn new(config: &CacheConfig, stats: Arc<CacheStats>) -> Self {
        let build = |ttl: u64| Duration::from_secs(ttl.max(1));
        Self {
            histories: Cache::builder()
                .max_capacity(config.memory_max_entries)
                .time_to_live(build(config.history_ttl_secs))
                .build(),
            details: Cache::builder()
                .max_capacity(config.memory_max_entries)
                .time_to_live(build(config.detail_ttl_secs))
                .build(),
            generations: Mutex::new(HashMap::new()),
            max_generations: usize::try_from(config.memory_max_entries).unwrap_or(usize::MAX),
            history_max: usize::try_from(config.history_max_entries).unwrap_or(usize::MAX),
            stats,
        }
    }

    fn with_generations<T>(&self, work: impl FnOnce(&mut HashMap<UserId, u64>) -> T) -> Option<T> {
        let mut generations = self.generations.lock().ok()?;
        if generations.len() > self.max_generations {
            generations.clear();
        }
        Some(work(&mut generations))
    }

    fn generation(&self, user: UserId) -> Option<u64> {
        self.with_generations(|generations| *generations.entry(user).or_insert_with(random_u64))
    }

    fn bump(&self, user: UserId) {
        self.with_generations(|generations| {
            let next = generations
                .get(&user)
                .map_or_else(random_u64, |g| g.wrapping_add(1));
            generations.insert(user, next);
        });
    }

    /// Runs `store` only if `user`'s generation is still `token`, holding the lock so no
    /// invalidation can slip in between the check and the store.
    fn if_current(&self, user: UserId, token: FillToken, store: impl FnOnce()) {
        let Ok(generations) = self.generations.lock() else {
            return;
        };
        if generations.get(&user) == Some(&token.0) {
            store();
        }
    }
}

fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

/// Only the first page (offset 0, newest messages) is cached, per page size.
fn detail_key(id: ConversationId, window: MessageWindow) -> Option<(ConversationId, u64)> {
    matches!(window.anchor(), MessageAnchor::FromNewest { offset: 0 })
        .then_some((id, window.limit()))
}

#[async_trait]
impl HistoryCache for MemoryCache {
    async fn history(&self, user_id: UserId, page: HistoryPage) -> Cached<SharedHistory> {
        if let Some(index) = self.histories.get(&user_id)
            && let Ok(mut index) = index.lock()
            && let Some(summaries) = index.page(page)
        {
            self.stats.hit(CacheKind::History);
            return Cached::Hit(summaries);
        }
        self.stats.miss(CacheKind::History);
        self.generation(user_id)
            .map_or(Cached::Unavailable, |g| Cached::Miss(FillToken(g)))
    }

    async fn fill_history(
        &self,
        user_id: UserId,
        token: FillToken,
        rows: &[HistoryRow],
        complete: bool,
    ) {
        // The values are kept: each page's encoding is made once, by its first reader.
        let mut index = HistoryIndex {
            complete: complete && rows.len() <= self.history_max,
            ..HistoryIndex::default()
        };
        for row in rows.iter().take(self.history_max) {
            index.insert(row.summary.clone());
        }
        self.if_current(user_id, token, || {
            self.histories.insert(user_id, Arc::new(Mutex::new(index)))
        });
    }

    async fn remove_history(&self, user_id: UserId, id: ConversationId) {
        if let Some(index) = self.histories.get(&user_id)
            && let Ok(mut index) = index.lock()
        {
            index.remove(id);
        }
    }

    async fn invalidate_history(&self, user_id: UserId) {
        self.bump(user_id);
        self.histories.invalidate(&user_id);
    }
}

#[async_trait]
impl DetailCache for MemoryCache {
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Cached<SharedPage> {
        let Some(generation) = self.generation(user_id) else {
            return Cached::Unavailable;
        };
        let Some(key) = detail_key(id, window) else {
            return Cached::Miss(FillToken(generation));
        };
        match self.details.get(&key) {
            Some(entry) if entry.owner == user_id && entry.generation == generation => {
                self.stats.hit(CacheKind::Detail);
                Cached::Hit(Arc::clone(&entry.page))
            }
            _ => {
                self.stats.miss(CacheKind::Detail);
                Cached::Miss(FillToken(generation))
            }
        }
    }

    async fn store_detail(&self, token: FillToken, window: MessageWindow, page: &SharedPage) {
        let Some(conversation) = page.value().map(|page| &page.conversation) else {
            return;
        };
        let Some(key) = detail_key(conversation.id, window) else {
            return;
        };
        let owner = conversation.user_id;
        let entry = Arc::new(DetailEntry {
            owner,
            generation: token.0,
            page: Arc::clone(page),
        });
        self.if_current(owner, token, || self.details.insert(key, entry));
    }

    async fn invalidate_conversation(&self, user_id: UserId, _id: ConversationId) {
        // The generation covers every detail page of the owner.
        self.bump(user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(minutes_ago: i64, title: &str) -> ConversationSummary {
        let at = lia_domain::clock::now_utc() - time::Duration::minutes(minutes_ago);
        ConversationSummary {
            id: ConversationId::new_v7(),
            title: Some(title.into()),
            created_at: at,
            updated_at: at,
            message_count: 1,
        }
    }

    async fn filled(cache: &MemoryCache, user: UserId, summaries: &[ConversationSummary]) {
        let Cached::Miss(token) = cache.history(user, HistoryPage::default()).await else {
            panic!("expected a miss");
        };
        let rows: Vec<HistoryRow> = summaries.iter().cloned().map(HistoryRow::from).collect();
        cache.fill_history(user, token, &rows, true).await;
    }

    async fn hit(cache: &MemoryCache, user: UserId, page: HistoryPage) -> SharedHistory {
        match cache.history(user, page).await {
            Cached::Hit(page) => page,
            other => panic!("expected a hit, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_history_page_is_built_once_and_shared_until_the_history_changes() {
        let cache = MemoryCache::new(&CacheConfig::default(), Arc::default());
        let user = UserId(1);
        let (a, b) = (summary(2, "a"), summary(1, "b"));
        filled(&cache, user, &[b.clone(), a.clone()]).await;
        let page = HistoryPage::default();
        let first = hit(&cache, user, page).await;
        first
            .encoded_with(|_| Ok::<_, ()>(b"[encoded]".to_vec()))
            .unwrap();
        let second = hit(&cache, user, page).await;
        assert!(Arc::ptr_eq(&first, &second), "one build for both readers");
        assert!(second.is_encoded(), "and its encoding with it");

        let other_size = hit(&cache, user, HistoryPage::new(0, 1).unwrap()).await;
        assert_eq!(
            other_size.value().map(Vec::len),
            Some(1),
            "each page size is its own build"
        );

        cache.remove_history(user, b.id).await;
        let after = hit(&cache, user, page).await;
        assert!(
            !Arc::ptr_eq(&first, &after),
            "a change drops the built pages"
        );
        assert!(!after.is_encoded());
        assert_eq!(after.value().map(Vec::as_slice), Some(&[a][..]));
    }

    #[tokio::test]
    async fn invented_page_sizes_do_not_grow_an_entry() {
        let cache = MemoryCache::new(&CacheConfig::default(), Arc::default());
        let user = UserId(2);
        filled(&cache, user, &[summary(1, "a")]).await;
        for limit in 1..=50 {
            hit(&cache, user, HistoryPage::new(0, limit).unwrap()).await;
        }
        let index = cache.histories.get(&user).unwrap();
        assert!(index.lock().unwrap().built.len() <= BUILT_PAGES_MAX);
    }
}
