//! `POST /api/v1/chat/stream` and its re-attach and stop routes. Checks happen in the
//! reference's order (malformed JSON, authentication, schema, chat rate limit, text), each
//! as an ordinary JSON error; once the 200 headers are out, failures are `error` events.
//! The response follows the turn's stream buffer, so a disconnect loses nothing: the
//! generation goes on, and `GET /chat/stream/{id}` with `Last-Event-ID` resumes it.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::{Stream, StreamExt};
use lia_chat::{ChatError, ModelChoice, SentimentMethod, TurnRequest, write_frame};
use lia_domain::ports::{EventStream, RateLimitScope};
use lia_domain::{ConversationId, MessageText};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, authenticate};
use crate::state::ApiState;
use crate::wire::{MAX_SDK_MESSAGES, StreamRequest};

/// A comment line sent while the provider is silent, so idle-timeout proxies keep the
/// connection (the client ignores it).
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) async fn stream(
    request: HttpRequest,
    body: JsonBody,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = authenticate(request, None).await?;
    let chat = chat_service(&state)?;
    let parsed: StreamRequest = body.parse()?;
    if parsed
        .messages
        .as_ref()
        .is_some_and(|m| m.len() > MAX_SDK_MESSAGES)
    {
        return Err(ApiError::invalid("messages", "must have at most 50 items"));
    }
    if let Some(message) = &parsed.message {
        MessageText::parse(message)?;
    }
    let ModelChoice { provider, model } = chat
        .choose_model(parsed.provider.as_deref(), parsed.model.as_deref())
        .map_err(|refused| ApiError::invalid(refused.field, refused.reason))?;
    let method: SentimentMethod = match parsed.sentiment_method.as_deref() {
        None => SentimentMethod::LlmSeparate,
        Some(name) => name.parse().map_err(|_| {
            ApiError::invalid(
                "sentiment_method",
                "must be nlp_api, llm_separate, structured or lexicon",
            )
        })?,
    };
    let settings = parsed.settings()?;
    let conversation_id = match parsed
        .conversation_id
        .as_deref()
        .filter(|id| !id.is_empty())
    {
        Some(id) => Some(
            id.parse::<ConversationId>()
                .map_err(|_| ApiError::invalid("conversation_id", "must be a UUID"))?,
        ),
        None => None,
    };
    state
        .enforce_limit(RateLimitScope::Chat, &user.id.to_string())
        .await?;
    let text = MessageText::parse(&parsed.text()?)?;
    let started = chat
        .start(TurnRequest {
            user_id: user.id,
            text,
            conversation_id,
            provider,
            model,
            sentiment_method: method,
            settings,
        })
        .await
        .map_err(chat_error)?;
    let events = chat
        .follow(user.id, &started.stream_id, 0)
        .await
        .map_err(chat_error)?;
    let mut response = event_stream_response(events);
    if let Some(status) = &started.quota {
        for (name, value) in crate::error::quota_headers(status) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

pub(super) async fn resume(
    request: HttpRequest,
    path: web::Path<String>,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let chat = chat_service(&state)?;
    let from_header = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(request.query_string())
            .ok()
            .and_then(|q| q.get("after").cloned());
    let after = match from_header.or(from_query) {
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .map_err(|_| ApiError::invalid("after", "must be an event id"))?,
        None => 0,
    };
    let events = chat
        .follow(user.0.id, &path, after)
        .await
        .map_err(chat_error)?;
    Ok(event_stream_response(events))
}

pub(super) async fn stop(
    path: web::Path<String>,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let chat = chat_service(&state)?;
    chat.stop(user.0.id, &path).await.map_err(chat_error)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"success": true, "message": "Stopping"})))
}

/// The chat service; an app built without one answers 500, which tests without chat never hit.
pub(super) fn chat_service(state: &ApiState) -> Result<&lia_chat::ChatService, ApiError> {
    state
        .chat
        .as_ref()
        .ok_or_else(|| ApiError::Internal("chat is not configured".into()))
}

pub(super) fn chat_error(error: ChatError) -> ApiError {
    match error {
        ChatError::ShuttingDown => ApiError::Unavailable(Box::new(error)),
        ChatError::TooManyActiveTurns => ApiError::TooManyActiveTurns,
        ChatError::QuotaExceeded(status) => ApiError::QuotaExceeded(status),
        ChatError::UnknownProvider(_) => {
            ApiError::invalid("provider", "is not an available provider")
        }
        ChatError::NotFound => ApiError::NotFound("Conversation not found"),
        ChatError::Repository(inner) => ApiError::from(inner),
        ChatError::Buffer(inner) => ApiError::Unavailable(Box::new(inner)),
    }
}

/// The SSE response: frames from the buffer, a keep-alive comment after 15 s of silence,
/// ending after `done` or `error`. Never compressed.
fn event_stream_response(events: EventStream) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header((
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        ))
        .streaming(frames(events))
}

fn frames(events: EventStream) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    // Every event already available goes out in one write: a turn's events arrive in
    // batches (as the durable copy takes them), and a write per event would cost a system
    // call and a wake-up each.
    let batches = events.ready_chunks(64);
    futures::stream::unfold(Some(batches), |batches| async move {
        let mut batches = batches?;
        match tokio::time::timeout(KEEP_ALIVE, batches.next()).await {
            Err(_) => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), Some(batches))),
            Ok(Some(batch)) => {
                let mut out = String::new();
                let mut last = false;
                for item in batch {
                    match item {
                        Ok(event) => {
                            last = event.is_terminal();
                            write_frame(&mut out, &event);
                        }
                        Err(error) => {
                            // Once the headers are out, failures are in-band: end with an
                            // `error` event.
                            tracing::warn!(%error, "stream buffer failed while following");
                            out.push_str("event: error\ndata: {\"message\":\"The stream was interrupted. Reload the conversation.\",\"kind\":\"unavailable\"}\n\n");
                            last = true;
                        }
                    }
                    if last {
                        break;
                    }
                }
                Some((Ok(Bytes::from(out)), (!last).then_some(batches)))
            }
            Ok(None) => None,
        }
    })
}
