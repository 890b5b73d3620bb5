//! Request and response bodies, field by field as the React frontend reads them
//! (`docs/api.md` sections 2 and 5). Only this crate knows the JSON shapes.

use lia_domain::{
    Conversation, ConversationId, ConversationPage, ConversationSummary, Message, MessageSentiment,
    ModelInfo, Role, User,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod stream;

pub(crate) use stream::{MAX_SDK_MESSAGES, StreamRequest};

/// An ISO-8601 UTC timestamp with a `Z`, microseconds only when non-zero (Pydantic's form).
/// Written digit by digit into a fixed buffer and serialised from it: it is on every listed
/// conversation and message, and `core::fmt` and a `String` per field made it a visible
/// share of a read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp {
    bytes: [u8; 27],
    len: usize,
}

impl Timestamp {
    pub(crate) fn new(instant: OffsetDateTime) -> Self {
        let utc = instant.to_offset(time::UtcOffset::UTC);
        let mut out = [0_u8; 27];
        let year = u32::try_from(utc.year()).unwrap_or(0).min(9_999);
        put_digits(&mut out[0..4], year);
        out[4] = b'-';
        put_digits(&mut out[5..7], u32::from(u8::from(utc.month())));
        out[7] = b'-';
        put_digits(&mut out[8..10], u32::from(utc.day()));
        out[10] = b'T';
        put_digits(&mut out[11..13], u32::from(utc.hour()));
        out[13] = b':';
        put_digits(&mut out[14..16], u32::from(utc.minute()));
        out[16] = b':';
        put_digits(&mut out[17..19], u32::from(utc.second()));
        let micros = utc.microsecond();
        let len = if micros == 0 {
            out[19] = b'Z';
            20
        } else {
            out[19] = b'.';
            put_digits(&mut out[20..26], micros);
            out[26] = b'Z';
            27
        };
        Self { bytes: out, len }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators are written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// [`Timestamp`] as an owned string, for the few answers that keep one.
pub(crate) fn timestamp(instant: OffsetDateTime) -> String {
    Timestamp::new(instant).as_str().to_owned()
}

/// `value`'s last `slot.len()` decimal digits, zero-padded, into `slot`.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for byte in slot.iter_mut().rev() {
        // `value % 10` is below 10, so the cast cannot truncate.
        *byte = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
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

/// One row of the history list, borrowed from the summary: serialising it allocates nothing.
#[derive(Debug, Serialize)]
pub(crate) struct SummaryResponse<'a> {
    id: ConversationId,
    title: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    message_count: u64,
}

impl<'a> From<&'a ConversationSummary> for SummaryResponse<'a> {
    fn from(summary: &'a ConversationSummary) -> Self {
        Self {
            id: summary.id,
            title: summary.title.as_deref(),
            created_at: Timestamp::new(summary.created_at),
            updated_at: Timestamp::new(summary.updated_at),
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
    created_at: Timestamp,
}

impl<'a> From<&'a Message> for MessageResponse<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            id: message.id.0,
            role: message.role,
            content: &message.content,
            sentiment_data: message.sentiment_data.as_ref(),
            model_info: message.model_info.as_ref(),
            created_at: Timestamp::new(message.created_at),
        }
    }
}

/// `GET /chat/conversation/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct DetailResponse<'a> {
    id: ConversationId,
    title: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
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
            id: conversation.id,
            title: conversation.title.as_deref(),
            created_at: Timestamp::new(conversation.created_at),
            updated_at: Timestamp::new(conversation.updated_at),
            total_messages: page.total_messages,
            limit,
            offset,
            has_more: page.has_more,
            messages: page.messages.iter().map(MessageResponse::from).collect(),
        }
    }
}

/// The answer to `GET /chat/conversation/{id}` for `window`, as bytes. The composition root
/// hands it to the conversation service, so a first page is encoded once, when cached.
///
/// # Errors
/// Serialisation failures (none for these types in practice).
pub fn encode_detail(
    page: &ConversationPage,
    window: lia_domain::MessageWindow,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&DetailResponse::new(page, window.limit(), window.offset()))
}

/// One row of `GET /chat/history`, as bytes. The composition root hands it to the
/// conversation service, so rows are encoded once, when cached; a page is
/// [`encode_history`] of its rows.
///
/// # Errors
/// Serialisation failures (none for these types in practice).
pub fn encode_history_row(summary: &ConversationSummary) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&SummaryResponse::from(summary))
}

/// The answer to `GET /chat/history`: the JSON array of the rows, each as
/// [`encode_history_row`] writes it, so a page joined from cached rows is the same bytes.
///
/// # Errors
/// Serialisation failures (none for these types in practice).
pub fn encode_history(summaries: &[ConversationSummary]) -> Result<Vec<u8>, serde_json::Error> {
    let mut page = Vec::with_capacity(summaries.len() * 160 + 2);
    page.push(b'[');
    for (index, summary) in summaries.iter().enumerate() {
        if index > 0 {
            page.push(b',');
        }
        serde_json::to_writer(&mut page, &SummaryResponse::from(summary))?;
    }
    page.push(b']');
    Ok(page)
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
    fn a_history_page_is_its_rows_joined() {
        let summary = |title: Option<&str>, minutes: i64| ConversationSummary {
            id: ConversationId::new_v7(),
            title: title.map(str::to_owned),
            created_at: datetime!(2025-12-03 10:00:00.5 UTC),
            updated_at: datetime!(2025-12-03 10:00:00 UTC) + time::Duration::minutes(minutes),
            message_count: 3,
        };
        let rows = [summary(Some("a \"quoted\" title"), 1), summary(None, 2)];
        let page = encode_history(&rows).unwrap();
        let as_a_list: Vec<SummaryResponse<'_>> = rows.iter().map(SummaryResponse::from).collect();
        assert_eq!(page, serde_json::to_vec(&as_a_list).unwrap());
        let joined = [
            b"[".to_vec(),
            encode_history_row(&rows[0]).unwrap(),
            b",".to_vec(),
            encode_history_row(&rows[1]).unwrap(),
            b"]".to_vec(),
        ]
        .concat();
        assert_eq!(page, joined);
        assert_eq!(encode_history(&[]).unwrap(), b"[]");
    }

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
        assert_eq!(
            timestamp(datetime!(2025-12-03 01:02:03.000004 +02:00)),
            "2025-12-02T23:02:03.000004Z",
            "converted to UTC"
        );
    }

    #[test]
    fn the_fixed_width_writer_agrees_with_fmt_across_the_calendar() {
        let reference = |instant: OffsetDateTime| {
            let utc = instant.to_offset(time::UtcOffset::UTC);
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute(),
                utc.second()
            );
            match utc.microsecond() {
                0 => format!("{base}Z"),
                micros => format!("{base}.{micros:06}Z"),
            }
        };
        let mut instant = datetime!(1999-12-31 23:59:59.999999 UTC);
        for step in 0..5_000_i64 {
            assert_eq!(timestamp(instant), reference(instant), "{instant}");
            instant +=
                time::Duration::seconds(86_413 + step) + time::Duration::microseconds(step * 7);
        }
    }
}
