//! The read-through cache port for conversation reads. Every method fails open: a cache
//! fault is a miss or a no-op (the adapter logs and counts it), never an error for the
//! user's request.
//!
//! **Fill-after-invalidate.** A reader that misses, reads the database and then fills the
//! cache could overwrite a newer invalidation with stale data. So every miss hands out a
//! [`FillToken`] (the owner's cache generation at that moment); every invalidation of the
//! owner's data bumps the generation; and a fill is stored only if the generation is still
//! the token's. A write that commits after the reader's database read therefore always wins.

use std::sync::Arc;

use async_trait::async_trait;

use crate::conversation::{ConversationPage, ConversationSummary};
use crate::ids::{ConversationId, UserId};
use crate::paging::{HistoryPage, MessageWindow};
use crate::shared::Shared;

/// The owner's cache generation when a read missed; pass it back to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillToken(pub u64);

/// A history page as a cache serves it: shared with every reader of the entry.
pub type SharedHistory = Arc<Shared<Vec<ConversationSummary>>>;

/// A conversation page as a cache serves it: shared with every reader of the entry.
pub type SharedPage = Arc<Shared<ConversationPage>>;

/// One conversation of a history fill, with the HTTP edge's encoding of its row when the
/// service has the edge's row encoder. A cache outside the process stores the encodings, so
/// a page it serves is the JSON array of its rows, `[row,row,...]`, already the bytes the edge
/// answers ([`Shared::from_encoding`]), with nothing decoded or encoded per read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The conversation.
    pub summary: ConversationSummary,
    /// The edge's encoding of this one row (a JSON object), if known.
    pub encoded: Option<Vec<u8>>,
}

impl From<ConversationSummary> for HistoryRow {
    fn from(summary: ConversationSummary) -> Self {
        Self {
            summary,
            encoded: None,
        }
    }
}

/// The outcome of a cache read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached<T> {
    /// Served from the cache.
    Hit(T),
    /// Not cached; fill with this token after reading the source of truth.
    Miss(FillToken),
    /// The cache is unavailable; read the source of truth and do not fill.
    Unavailable,
}

/// Caches the owner's history pages.
#[async_trait]
pub trait HistoryCache: Send + Sync + 'static {
    /// A page of the owner's history, newest first. An in-process cache hands the same
    /// [`Shared`] to every reader until the owner's history changes; a cache outside the
    /// process answers with the encoding alone ([`Shared::from_encoding`]) when every row of
    /// the page was stored with one.
    async fn history(&self, user_id: UserId, page: HistoryPage) -> Cached<SharedHistory>;

    /// Stores the newest conversations of the owner (`complete` when that is all of them),
    /// unless the owner's data changed since `token` was handed out.
    async fn fill_history(
        &self,
        user_id: UserId,
        token: FillToken,
        rows: &[HistoryRow],
        complete: bool,
    );

    /// Removes one conversation from the owner's cached history, in O(log N).
    async fn remove_history(&self, user_id: UserId, id: ConversationId);

    /// Drops the owner's cached history and bumps their generation (after a chat turn or a
    /// rename, which move a conversation, or delete-all).
    async fn invalidate_history(&self, user_id: UserId);
}

/// Caches the first page of each conversation, with its owner.
#[async_trait]
pub trait DetailCache: Send + Sync + 'static {
    /// The cached first page of a conversation, served only when its stored owner is
    /// `user_id` (a hit for another user is reported as a miss). A cache outside the process
    /// answers with the stored encoding alone ([`Shared::from_encoding`]) when the page was
    /// stored with one.
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Cached<SharedPage>;

    /// Stores a first page of a conversation with its owner, unless the owner's data changed
    /// since `token` was handed out. An in-process cache keeps `page` itself, so an encoding
    /// the reader that filled it stores is served to the next readers too; a cache outside the
    /// process stores the page's encoding when it has one (made before the call), so its hits
    /// are served without decoding, and the value otherwise. A page without a value (itself a
    /// hit) is not stored again.
    async fn store_detail(&self, token: FillToken, window: MessageWindow, page: &SharedPage);

    /// Drops the cached detail pages of one conversation by bumping the owner's generation
    /// (after a new message, a rename or a delete).
    async fn invalidate_conversation(&self, user_id: UserId, id: ConversationId);
}

/// Both conversation caches in one: what Lia's adapters implement. The two share the owner's
/// generation (an invalidation of either voids fills of both in flight), which is why one
/// adapter serves both; a consumer that needs one asks for that one
/// ([`HistoryCache`] or [`DetailCache`]), and `Arc<dyn ConversationCache>` coerces to either.
pub trait ConversationCache: HistoryCache + DetailCache {}

impl<T: HistoryCache + DetailCache> ConversationCache for T {}
