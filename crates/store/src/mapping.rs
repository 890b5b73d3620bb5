//! Conversions between rows and domain values. Stored data written by the reference service
//! is read tolerantly; data that cannot be read at all is reported as corrupt, never panicked on.

use lia_domain::{
    Conversation, ConversationId, CumulativeSentiment, Email, Message, MessageId, MessageSentiment,
    ModelInfo, RepositoryError, Role, User, UserId, Username,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entities::{conversation, message, user};
use crate::error::corrupt;
use crate::timestamps::from_db;

pub(crate) fn user_from_row(row: user::Model) -> Result<User, RepositoryError> {
    let email = Email::parse(&row.email).map_err(|e| corrupt("email", e))?;
    let username = Username::parse(&row.username).map_err(|e| corrupt("username", e))?;
    Ok(User {
        id: UserId(row.id),
        email,
        username,
        created_at: from_db(row.created_at),
    })
}

pub(crate) fn conversation_from_row(
    row: conversation::Model,
) -> Result<Conversation, RepositoryError> {
    Ok(Conversation {
        id: ConversationId(row.id),
        user_id: UserId(row.user_id),
        title: row.title,
        sentiment_state: from_json::<CumulativeSentiment>("sentiment_state", row.sentiment_state)?,
        created_at: from_db(row.created_at),
        updated_at: from_db(row.updated_at),
    })
}

pub(crate) fn message_from_row(row: message::Model) -> Result<Message, RepositoryError> {
    Ok(Message {
        id: MessageId(row.id),
        conversation_id: ConversationId(row.conversation_id),
        role: Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?,
        content: row.content,
        sentiment_data: from_json::<MessageSentiment>("sentiment_data", row.sentiment_data)?,
        model_info: from_json::<ModelInfo>("model_info", row.model_info)?,
        created_at: from_db(row.created_at),
    })
}

/// A JSON column as a domain value; JSON `null` and SQL NULL are both `None`.
fn from_json<T: DeserializeOwned>(
    what: &'static str,
    value: Option<serde_json::Value>,
) -> Result<Option<T>, RepositoryError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| corrupt(what, e)),
    }
}

/// A domain value as a JSON column.
pub(crate) fn to_json<T: Serialize>(
    what: &'static str,
    value: &T,
) -> Result<serde_json::Value, RepositoryError> {
    serde_json::to_value(value).map_err(|e| corrupt(what, e))
}
