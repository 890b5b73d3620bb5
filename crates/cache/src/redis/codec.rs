//! JSON forms of the cached domain values. The domain types stay free of serialisation
//! concerns; these mirrors exist only here, and decoding re-validates.

use lia_domain::{
    Conversation, ConversationId, ConversationPage, ConversationSummary, CumulativeSentiment,
    Message, MessageId, MessageSentiment, ModelInfo, Role, UserId,
};
use std::sync::Arc;

use lia_domain::Shared;
use lia_domain::ports::{HistoryRow, SharedPage};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Serialize, Deserialize)]
pub(crate) struct SummaryJson {
    id: ConversationId,
    title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    message_count: u64,
}

impl From<&ConversationSummary> for SummaryJson {
    fn from(s: &ConversationSummary) -> Self {
        Self {
            id: s.id,
            title: s.title.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            message_count: s.message_count,
        }
    }
}

impl From<SummaryJson> for ConversationSummary {
    fn from(s: SummaryJson) -> Self {
        Self {
            id: s.id,
            title: s.title,
            created_at: s.created_at,
            updated_at: s.updated_at,
            message_count: s.message_count,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ConversationJson {
    id: ConversationId,
    user_id: UserId,
    title: Option<String>,
    sentiment_state: Option<CumulativeSentiment>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct MessageJson {
    id: MessageId,
    role: Role,
    content: String,
    sentiment_data: Option<MessageSentiment>,
    model_info: Option<ModelInfo>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

/// A cached first page, with the owner and the generation it was stored under.
#[derive(Serialize, Deserialize)]
pub(crate) struct DetailJson {
    pub(crate) owner: UserId,
    pub(crate) generation: u64,
    conversation: ConversationJson,
    messages: Vec<MessageJson>,
    total_messages: u64,
    has_more: bool,
}

impl DetailJson {
    pub(crate) fn new(generation: u64, page: &ConversationPage) -> Self {
        let c = &page.conversation;
        Self {
            owner: c.user_id,
            generation,
            conversation: ConversationJson {
                id: c.id,
                user_id: c.user_id,
                title: c.title.clone(),
                sentiment_state: c.sentiment_state.clone(),
                created_at: c.created_at,
                updated_at: c.updated_at,
            },
            messages: page
                .messages
                .iter()
                .map(|m| MessageJson {
                    id: m.id,
                    role: m.role,
                    content: m.content.clone(),
                    sentiment_data: m.sentiment_data.clone(),
                    model_info: m.model_info.clone(),
                    created_at: m.created_at,
                })
                .collect(),
            total_messages: page.total_messages,
            has_more: page.has_more,
        }
    }

    pub(crate) fn into_page(self) -> ConversationPage {
        let c = self.conversation;
        let conversation_id = c.id;
        ConversationPage {
            conversation: Conversation {
                id: c.id,
                user_id: c.user_id,
                title: c.title,
                sentiment_state: c.sentiment_state,
                created_at: c.created_at,
                updated_at: c.updated_at,
            },
            messages: self
                .messages
                .into_iter()
                .map(|m| Message {
                    id: m.id,
                    conversation_id,
                    role: m.role,
                    content: m.content,
                    sentiment_data: m.sentiment_data,
                    model_info: m.model_info,
                    created_at: m.created_at,
                })
                .collect(),
            total_messages: self.total_messages,
            has_more: self.has_more,
        }
    }
}

/// The first byte of a detail entry kept as the edge's encoding.
const ENCODED_TAG: u8 = b'E';

/// A history row as stored: `E` and the edge's encoding of the row when `encoded` (the fill
/// has one for every row), else the [`SummaryJson`]. The history script serves a page in one
/// layout: `[` and the rows, `E` removed, joined by commas, `]`.
pub(crate) fn history_row_bytes(row: &HistoryRow, encoded: bool) -> Vec<u8> {
    match row.encoded.as_deref().filter(|_| encoded) {
        Some(bytes) => {
            let mut stored = Vec::with_capacity(bytes.len() + 1);
            stored.push(ENCODED_TAG);
            stored.extend_from_slice(bytes);
            stored
        }
        None => serde_json::to_vec(&SummaryJson::from(&row.summary)).unwrap_or_default(),
    }
}

/// A cached first page read back: its owner and generation, and the page.
pub(crate) struct DetailEntry {
    pub(crate) owner: UserId,
    pub(crate) generation: u64,
    pub(crate) page: SharedPage,
}

/// A first page as stored: when the edge encoded it, `E<owner>:<generation>` and a line break,
/// then those bytes (a hit is served as they are, nothing decoded or encoded); otherwise the
/// [`DetailJson`] (a hit is decoded into the value).
pub(crate) fn detail_entry_bytes(generation: u64, page: &SharedPage) -> Option<Vec<u8>> {
    let value = page.value()?;
    let Some(encoded) = page.encoded() else {
        return serde_json::to_vec(&DetailJson::new(generation, value)).ok();
    };
    let owner = value.conversation.user_id.0;
    let header = format!("{}{owner}:{generation}\n", char::from(ENCODED_TAG));
    let mut entry = Vec::with_capacity(header.len() + encoded.len());
    entry.extend_from_slice(header.as_bytes());
    entry.extend_from_slice(&encoded);
    Some(entry)
}

/// [`detail_entry_bytes`] read back; `None` for anything else, which the reader counts as a
/// miss (and the next store replaces).
pub(crate) fn detail_entry(stored: &[u8]) -> Option<DetailEntry> {
    let Some(rest) = stored.strip_prefix(&[ENCODED_TAG]) else {
        let json = serde_json::from_slice::<DetailJson>(stored).ok()?;
        return Some(DetailEntry {
            owner: json.owner,
            generation: json.generation,
            page: Shared::new(json.into_page()),
        });
    };
    let line_end = rest.iter().position(|&b| b == b'\n')?;
    let (header, encoded) = (
        std::str::from_utf8(&rest[..line_end]).ok()?,
        &rest[line_end + 1..],
    );
    let (owner, generation) = header.split_once(':')?;
    Some(DetailEntry {
        owner: UserId(owner.parse().ok()?),
        generation: generation.parse().ok()?,
        page: Shared::from_encoding(Arc::from(encoded)),
    })
}
