//! Request and response bodies, field by field as the React frontend reads them
//! (`docs/api.md` sections 2 and 5). Only this crate knows the JSON shapes.

use lia_domain::{
    Conversation, ConversationPage, ConversationSummary, Message, MessageSentiment, ModelInfo,
    Role, User,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An ISO-8601 UTC timestamp with a `Z`, microseconds only when non-zero (Pydantic's form).
pub(crate) fn timestamp(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    let micros = utc.microsecond();
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    if micros == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{micros:06}Z")
    }
}

/// `POST /auth/register`.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisterRequest {
    pub(crate) email: String,
    pub(crate) username: String,
    pub(crate) password: String,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginRequest {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// `PATCH /chat/conversation/{id}/rename`.
#[derive(Debug, Deserialize)]
pub(crate) struct RenameRequest {
    pub(crate) title: String,
}

/// A user.
#[derive(Debug, Serialize)]
pub(crate) struct UserResponse {
    id: i32,
    email: String,
    username: String,
    created_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            email: user.email.as_str().to_owned(),
            username: user.username.as_str().to_owned(),
            created_at: timestamp(user.created_at),
        }
    }
}

/// Register, login and refresh answers.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: u64,
    pub(crate) user: UserResponse,
}

/// One row of the history list.
#[derive(Debug, Serialize)]
pub(crate) struct SummaryResponse {
    id: String,
    title: Option<String>,
    created_at: String,
    updated_at: String,
    message_count: u64,
}

impl From<&ConversationSummary> for SummaryResponse {
    fn from(summary: &ConversationSummary) -> Self {
        Self {
            id: summary.id.to_string(),
            title: summary.title.clone(),
            created_at: timestamp(summary.created_at),
            updated_at: timestamp(summary.updated_at),
            message_count: summary.message_count,
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Serialize)]
pub(crate) struct MessageResponse<'a> {
    id: i32,
    role: Role,
    content: &'a str,
    sentiment_data: Option<&'a MessageSentiment>,
    model_info: Option<&'a ModelInfo>,
    created_at: String,
}

impl<'a> From<&'a Message> for MessageResponse<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            id: message.id.0,
            role: message.role,
            content: &message.content,
            sentiment_data: message.sentiment_data.as_ref(),
            model_info: message.model_info.as_ref(),
            created_at: timestamp(message.created_at),
        }
    }
}

/// `GET /chat/conversation/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct DetailResponse<'a> {
    id: String,
    title: Option<&'a str>,
    created_at: String,
    updated_at: String,
    total_messages: u64,
    limit: u64,
    offset: u64,
    has_more: bool,
    messages: Vec<MessageResponse<'a>>,
}

impl<'a> DetailResponse<'a> {
    pub(crate) fn new(page: &'a ConversationPage, limit: u64, offset: u64) -> Self {
        let conversation: &Conversation = &page.conversation;
        Self {
            id: conversation.id.to_string(),
            title: conversation.title.as_deref(),
            created_at: timestamp(conversation.created_at),
            updated_at: timestamp(conversation.updated_at),
            total_messages: page.total_messages,
            limit,
            offset,
            has_more: page.has_more,
            messages: page.messages.iter().map(MessageResponse::from).collect(),
        }
    }
}

/// Delete answers.
#[derive(Debug, Serialize)]
pub(crate) struct DeleteResponse {
    pub(crate) success: bool,
    pub(crate) message: String,
    pub(crate) deleted_count: Option<u64>,
}

/// Rename and similar answers.
#[derive(Debug, Serialize)]
pub(crate) struct SuccessResponse {
    pub(crate) success: bool,
    pub(crate) message: &'static str,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_match_pydantic() {
        assert_eq!(
            timestamp(datetime!(2025-12-03 10:00:00 UTC)),
            "2025-12-03T10:00:00Z"
        );
        assert_eq!(
            timestamp(datetime!(2025-12-03 10:00:00.123456 UTC)),
            "2025-12-03T10:00:00.123456Z"
        );
        assert_eq!(
            timestamp(datetime!(2025-12-03 10:00:00.1 UTC)),
            "2025-12-03T10:00:00.100000Z"
        );
    }
}
