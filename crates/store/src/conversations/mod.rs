//! [`ConversationRepository`] over sea-orm. Reads live in `history` and `detail`, the chat
//! turn's writes in `turns`, and owner-scoped changes in `changes`.

mod changes;
mod detail;
mod history;
mod turns;

use async_trait::async_trait;
use lia_domain::ports::{ActiveTurn, FinishOutcome, FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{
    Conversation, ConversationId, ConversationPage, ConversationRepository, ConversationSummary,
    HistoryPage, MessageWindow, RepositoryError, Title, UserId,
};

use crate::database::Database;

/// Conversations and messages in the `conversations` and `messages` tables, and the chat
/// turns' records in `active_turns`.
#[derive(Debug, Clone)]
pub struct SqlConversationRepository {
    database: Database,
}

impl SqlConversationRepository {
    /// A repository over `database` (cheap clones of its pools).
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl ConversationRepository for SqlConversationRepository {
    #[tracing::instrument(skip(self))]
    async fn history(
        &self,
        user_id: UserId,
        page: HistoryPage,
    ) -> Result<Vec<ConversationSummary>, RepositoryError> {
        history::load(self.database.reads(), user_id, page).await
    }

    #[tracing::instrument(skip(self))]
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Result<ConversationPage, RepositoryError> {
        detail::load(self.database.reads(), user_id, id, window).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %turn.user_id))]
    async fn start_turn(&self, turn: NewTurn) -> Result<StartedTurn, RepositoryError> {
        turns::start(self.database.writes(), turn).await
    }

    #[tracing::instrument(skip_all, fields(conversation_id = %turn.conversation_id))]
    async fn finish_turn(&self, turn: FinishedTurn) -> Result<FinishOutcome, RepositoryError> {
        turns::finish(self.database.writes(), turn).await
    }

    #[tracing::instrument(skip(self))]
    async fn active_turns(&self) -> Result<Vec<ActiveTurn>, RepositoryError> {
        turns::active_turns(self.database.reads(), None).await
    }

    #[tracing::instrument(skip(self))]
    async fn active_turn(&self, stream_id: &str) -> Result<Option<ActiveTurn>, RepositoryError> {
        Ok(turns::active_turns(self.database.reads(), Some(stream_id))
            .await?
            .pop())
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, user_id: UserId, id: ConversationId) -> Result<(), RepositoryError> {
        changes::delete(self.database.writes(), user_id, id).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_all(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        changes::delete_all(self.database.writes(), user_id).await
    }

    #[tracing::instrument(skip(self, title))]
    async fn rename(
        &self,
        user_id: UserId,
        id: ConversationId,
        title: Title,
    ) -> Result<Conversation, RepositoryError> {
        changes::rename(self.database.writes(), user_id, id, title).await
    }
}

/// `(SELECT ...)` as a scalar expression.
fn sub_query(select: sea_orm::sea_query::SelectStatement) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::SubQuery(None, Box::new(select.into()))
}
