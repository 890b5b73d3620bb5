//! [`ConversationRepository`] over sea-orm. Reads live in `history` and `detail`, the chat
//! turn's writes in `turns`, and owner-scoped changes in `changes`.

mod changes;
mod detail;
mod history;
mod turns;

use async_trait::async_trait;
use lia_domain::ports::{FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{
    ContextMessage, Conversation, ConversationId, ConversationPage, ConversationRepository,
    ConversationSummary, HistoryPage, MessageId, MessageWindow, RepositoryError, Title, UserId,
};
use sea_orm::DatabaseConnection;

use crate::write_gate::WriteGate;

/// Conversations and messages in the `conversations` and `messages` tables.
#[derive(Debug, Clone)]
pub struct SqlConversationRepository {
    connection: DatabaseConnection,
    writes: WriteGate,
}

impl SqlConversationRepository {
    /// A repository over `connection` (a cheap clone of the pool).
    #[must_use]
    pub fn new(connection: DatabaseConnection) -> Self {
        let writes = WriteGate::for_connection(&connection);
        Self { connection, writes }
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
        history::load(&self.connection, user_id, page).await
    }

    #[tracing::instrument(skip(self))]
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Result<ConversationPage, RepositoryError> {
        detail::load(&self.connection, user_id, id, window).await
    }

    #[tracing::instrument(skip(self))]
    async fn recent_messages(
        &self,
        user_id: UserId,
        id: ConversationId,
        limit: u64,
    ) -> Result<Vec<ContextMessage>, RepositoryError> {
        detail::recent(&self.connection, user_id, id, limit).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %turn.user_id))]
    async fn start_turn(&self, turn: NewTurn) -> Result<StartedTurn, RepositoryError> {
        {
            let _writing = self.writes.enter().await;
            turns::start(&self.connection, turn).await
        }
    }

    #[tracing::instrument(skip_all, fields(conversation_id = %turn.conversation_id))]
    async fn finish_turn(&self, turn: FinishedTurn) -> Result<MessageId, RepositoryError> {
        {
            let _writing = self.writes.enter().await;
            turns::finish(&self.connection, turn).await
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete(&self, user_id: UserId, id: ConversationId) -> Result<(), RepositoryError> {
        {
            let _writing = self.writes.enter().await;
            changes::delete(&self.connection, user_id, id).await
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_all(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        {
            let _writing = self.writes.enter().await;
            changes::delete_all(&self.connection, user_id).await
        }
    }

    #[tracing::instrument(skip(self, title))]
    async fn rename(
        &self,
        user_id: UserId,
        id: ConversationId,
        title: Title,
    ) -> Result<Conversation, RepositoryError> {
        {
            let _writing = self.writes.enter().await;
            changes::rename(&self.connection, user_id, id, title).await
        }
    }
}

/// `(SELECT ...)` as a scalar expression.
fn sub_query(select: sea_orm::sea_query::SelectStatement) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::SubQuery(None, Box::new(select.into()))
}
