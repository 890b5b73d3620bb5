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
        let session = self.database.read_session().await?;
        let outcome = history::load(&session, user_id, page).await;
        session.end(outcome).await
    }

    #[tracing::instrument(skip(self))]
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Result<ConversationPage, RepositoryError> {
        let session = self.database.read_session().await?;
        let outcome = detail::load(&session, user_id, id, window).await;
        session.end(outcome).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %turn.user_id))]
    async fn start_turn(&self, turn: NewTurn) -> Result<StartedTurn, RepositoryError> {
        turns::start(&self.database, turn).await
    }

    #[tracing::instrument(skip_all, fields(conversation_id = %turn.conversation_id))]
    async fn finish_turn(&self, turn: FinishedTurn) -> Result<FinishOutcome, RepositoryError> {
        turns::finish(&self.database, turn).await
    }

    #[tracing::instrument(skip(self))]
    async fn active_turns(&self) -> Result<Vec<ActiveTurn>, RepositoryError> {
        let session = self.database.read_session().await?;
        let outcome = turns::active_turns(&session, None).await;
        session.end(outcome).await
    }

    #[tracing::instrument(skip(self))]
    async fn active_turn(&self, stream_id: &str) -> Result<Option<ActiveTurn>, RepositoryError> {
        let session = self.database.read_session().await?;
        let outcome = turns::active_turns(&session, Some(stream_id)).await;
        session.end(outcome).await.map(|mut turns| turns.pop())
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, user_id: UserId, id: ConversationId) -> Result<(), RepositoryError> {
        let session = self.database.write_session().await?;
        let outcome = changes::delete(&session, user_id, id).await;
        session.end(outcome).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_all(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        let session = self.database.write_session().await?;
        let outcome = changes::delete_all(&session, user_id).await;
        session.end(outcome).await
    }

    #[tracing::instrument(skip(self, title))]
    async fn rename(
        &self,
        user_id: UserId,
        id: ConversationId,
        title: Title,
    ) -> Result<Conversation, RepositoryError> {
        let session = self.database.write_session().await?;
        let outcome = changes::rename(&session, user_id, id, title).await;
        session.end(outcome).await
    }
}

/// `(SELECT ...)` as a scalar expression.
fn sub_query(select: sea_orm::sea_query::SelectStatement) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::SubQuery(None, Box::new(select.into()))
}
