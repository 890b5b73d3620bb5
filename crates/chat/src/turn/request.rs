//! The request sent to the model: the system prompt, the conversation as it stood when the
//! user's message was stored (without empty messages: a turn stopped before its first token
//! leaves none, and some providers refuse empty parts), then that message.

use lia_domain::{ContextMessage, Role};
use lia_llm::{ChatMessage, ChatRequest, ChatRole, ResponseFormat};
use lia_sentiment::SentimentMethod;

use super::TurnRequest;
use crate::prompt::system_prompt;

pub(super) fn chat_request(
    persona: Option<&str>,
    context: &[ContextMessage],
    request: &TurnRequest,
) -> ChatRequest {
    let structured = request.sentiment_method == SentimentMethod::Structured;
    let mut messages = Vec::with_capacity(context.len() + 2);
    messages.push(ChatMessage::new(
        ChatRole::System,
        system_prompt(persona, structured),
    ));
    messages.extend(
        context
            .iter()
            .filter(|m| !m.content.trim().is_empty())
            .map(|m| {
                let role = match m.role {
                    Role::User => ChatRole::User,
                    Role::Assistant => ChatRole::Assistant,
                };
                ChatMessage::new(role, m.content.clone())
            }),
    );
    messages.push(ChatMessage::new(ChatRole::User, request.text.as_str()));
    ChatRequest {
        model: request.model.clone(),
        messages,
        settings: request.settings,
        format: if structured {
            lia_sentiment::structured::reply_format()
        } else {
            ResponseFormat::Text
        },
    }
}
