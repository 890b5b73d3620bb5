//! Conversation reads and changes, cache-aside: history and first detail pages are served
//! from the cache when it has them, filled after a database read (with the fill token, so a
//! concurrent change always wins), and every change updates or invalidates what it touches
//! after it commits, so a client reads its own writes at once.

use std::sync::Arc;

use lia_domain::ports::{
    Cached, ConversationCache, DetailCache, HistoryCache, HistoryRow, SharedHistory, SharedPage,
};
use lia_domain::{
    BoxError, ConversationId, ConversationPage, ConversationRepository, ConversationSummary,
    HistoryPage, MessageWindow, RepositoryError, Shared, Title, UserId,
};

/// The HTTP edge's encoding of a conversation page (what it answers for `window`). Given to
/// the service, a first page is encoded before it is cached, so a cache that keeps entries
/// outside the process (Redis) serves the bytes instead of decoding and serialising the page
/// on every read.
pub type DetailEncoder =
    Arc<dyn Fn(&ConversationPage, MessageWindow) -> Result<Vec<u8>, BoxError> + Send + Sync>;

/// The HTTP edge's encoding of one history row (a JSON object; the edge answers a page as the
/// JSON array of its rows). Given to the service, every row is encoded once, when the history
/// is cached, so a cache outside the process serves a page as stored bytes.
pub type HistoryRowEncoder =
    Arc<dyn Fn(&ConversationSummary) -> Result<Vec<u8>, BoxError> + Send + Sync>;

/// The page the edge answers for `rows`: `[row,row,...]`, when every row has its encoding.
fn joined_rows(rows: &[HistoryRow]) -> Option<Vec<u8>> {
    let size: usize = rows
        .iter()
        .map(|r| r.encoded.as_ref().map_or(0, Vec::len) + 1)
        .sum();
    let mut page = Vec::with_capacity(size + 2);
    page.push(b'[');
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            page.push(b',');
        }
        page.extend_from_slice(row.encoded.as_deref()?);
    }
    page.push(b']');
    Some(page)
}

/// Conversation reads and owner-scoped changes.
#[derive(Clone)]
pub struct ConversationService {
    repository: Arc<dyn ConversationRepository>,
    history_cache: Arc<dyn HistoryCache>,
    detail_cache: Arc<dyn DetailCache>,
    history_fill: u64,
    detail_encoder: Option<DetailEncoder>,
    history_row_encoder: Option<HistoryRowEncoder>,
}

impl std::fmt::Debug for ConversationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationService")
            .finish_non_exhaustive()
    }
}

impl ConversationService {
    /// The service over `repository` and `cache`; on a history miss, the newest
    /// `history_fill` conversations are read and cached, so later pages hit too.
    #[must_use]
    pub fn new(
        repository: Arc<dyn ConversationRepository>,
        cache: Arc<dyn ConversationCache>,
        history_fill: u64,
    ) -> Self {
        Self {
            repository,
            history_cache: Arc::clone(&cache) as Arc<dyn HistoryCache>,
            detail_cache: cache,
            history_fill: history_fill.clamp(1, HistoryPage::MAX_LIMIT),
            detail_encoder: None,
            history_row_encoder: None,
        }
    }

    /// The same service, encoding first pages with `encoder` before caching them.
    #[must_use]
    pub fn with_detail_encoder(mut self, encoder: DetailEncoder) -> Self {
        self.detail_encoder = Some(encoder);
        self
    }

    /// The same service, encoding history rows with `encoder` before caching them.
    #[must_use]
    pub fn with_history_row_encoder(mut self, encoder: HistoryRowEncoder) -> Self {
        self.history_row_encoder = Some(encoder);
        self
    }

    /// The owner's conversations, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn history(
        &self,
        user_id: UserId,
        page: HistoryPage,
    ) -> Result<SharedHistory, RepositoryError> {
        let token = match self.history_cache.history(user_id, page).await {
            Cached::Hit(summaries) => return Ok(summaries),
            Cached::Miss(token) => Some(token),
            Cached::Unavailable => None,
        };
        let end = page.offset().saturating_add(page.limit());
        let Some(token) = token.filter(|_| end <= self.history_fill) else {
            return self
                .repository
                .history(user_id, page)
                .await
                .map(Shared::new);
        };
        // One read fills the cache with the newest conversations and serves this page.
        let fill = HistoryPage::new(0, self.history_fill)
            .map_err(|e| RepositoryError::Other(Box::new(e)))?;
        let newest = self.repository.history(user_id, fill).await?;
        let complete = (newest.len() as u64) < self.history_fill;
        let rows = self.history_rows(newest);
        self.history_cache
            .fill_history(user_id, token, &rows, complete)
            .await;
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let take = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        let served = rows.get(skip..).unwrap_or_default();
        let served = served.get(..take.min(served.len())).unwrap_or_default();
        let encoded = joined_rows(served);
        let page = Shared::new(served.iter().map(|row| row.summary.clone()).collect());
        if let Some(encoded) = encoded {
            let _ = page.encoded_with(|_| Ok::<_, std::convert::Infallible>(encoded));
        }
        Ok(page)
    }

    /// `summaries` as cache rows, each with its encoding when the service has the encoder
    /// (none when any row fails to encode: a fill has one layout).
    fn history_rows(&self, summaries: Vec<ConversationSummary>) -> Vec<HistoryRow> {
        let encoded: Option<Vec<Vec<u8>>> = self
            .history_row_encoder
            .as_ref()
            .and_then(|encode| summaries.iter().map(|s| encode(s).ok()).collect());
        match encoded {
            Some(encoded) => summaries
                .into_iter()
                .zip(encoded)
                .map(|(summary, bytes)| HistoryRow {
                    summary,
                    encoded: Some(bytes),
                })
                .collect(),
            None => summaries.into_iter().map(HistoryRow::from).collect(),
        }
    }

    /// One window of a conversation; the first page is cached with its owner.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is someone else's.
    pub async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Result<SharedPage, RepositoryError> {
        let token = match self.detail_cache.detail(user_id, id, window).await {
            Cached::Hit(page) => return Ok(page),
            Cached::Miss(token) => Some(token),
            Cached::Unavailable => None,
        };
        let page = Shared::new(self.repository.detail(user_id, id, window).await?);
        if let Some(token) = token {
            if let Some(encode) = &self.detail_encoder {
                // A failure leaves the page unencoded: the edge encodes it again and reports it.
                let _ = page.encoded_with(|page| encode(page, window));
            }
            self.detail_cache.store_detail(token, window, &page).await;
        }
        Ok(page)
    }

    /// Deletes one conversation.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is someone else's.
    pub async fn delete(&self, user_id: UserId, id: ConversationId) -> Result<(), RepositoryError> {
        self.repository.delete(user_id, id).await?;
        self.detail_cache.invalidate_conversation(user_id, id).await;
        self.history_cache.remove_history(user_id, id).await;
        Ok(())
    }

    /// Deletes all the owner's conversations; returns how many there were.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn delete_all(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        let n_deleted = self.repository.delete_all(user_id).await?;
        // One generation bump invalidates every cached page of the owner: no per-id work.
        self.history_cache.invalidate_history(user_id).await;
        Ok(n_deleted)
    }

    /// Renames a conversation, which moves it to the top of the history.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is someone else's.
    pub async fn rename(
        &self,
        user_id: UserId,
        id: ConversationId,
        title: Title,
    ) -> Result<(), RepositoryError> {
        self.repository.rename(user_id, id, title).await?;
        // One generation bump covers the history and every detail page of the owner.
        self.history_cache.invalidate_history(user_id).await;
        Ok(())
    }
}
