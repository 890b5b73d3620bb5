//! `/api/v1/chat/history` and `/api/v1/chat/conversation(s)`: owner-scoped reads and changes.
//! Another user's conversation is always "not found".

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use lia_domain::ports::RateLimitScope;
use lia_domain::{ConversationId, HistoryPage, MessageAnchor, MessageId, MessageWindow, Title};

use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, authenticate};
use crate::state::ApiState;
use crate::wire::{DeleteResponse, RenameRequest, SuccessResponse};

/// The query parameters, as text.
pub(super) fn query(request: &HttpRequest) -> Result<HashMap<String, String>, ApiError> {
    web::Query::<HashMap<String, String>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::invalid("query", "is not a valid query string"))
}

/// An optional non-negative integer parameter.
fn number(query: &HashMap<String, String>, field: &'static str) -> Result<Option<u64>, ApiError> {
    query
        .get(field)
        .map(|value| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| ApiError::invalid(field, "must be a non-negative integer"))
        })
        .transpose()
}

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::invalid("conversation_id", "must be a UUID"))
}

pub(super) async fn history(
    request: HttpRequest,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = query(&request)?;
    let offset = number(&query, "offset")?.unwrap_or(0);
    let limit = number(&query, "limit")?.unwrap_or(HistoryPage::DEFAULT_LIMIT);
    let page = HistoryPage::new(offset, limit)?;
    let summaries = state.conversations.history(user.0.id, page).await?;
    let body = summaries.encoded_with(|summaries| crate::wire::encode_history(summaries))?;
    Ok(json_bytes(body))
}

/// A JSON answer from bytes already encoded (and kept with a cached page), without a copy.
fn json_bytes(body: std::sync::Arc<[u8]>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(web::Bytes::from_owner(body))
}

pub(super) async fn detail(
    request: HttpRequest,
    path: web::Path<String>,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id = conversation_id(&path)?;
    let query = query(&request)?;
    let limit = number(&query, "limit")?.unwrap_or(MessageWindow::DEFAULT_LIMIT);
    let offset = number(&query, "offset")?;
    let cursor = |field| -> Result<Option<MessageId>, ApiError> {
        number(&query, field)?
            .map(|id| {
                i32::try_from(id)
                    .map(MessageId)
                    .map_err(|_| ApiError::invalid(field, "is not a message id"))
            })
            .transpose()
    };
    let anchor = match (offset, cursor("before")?, cursor("after")?) {
        (offset, None, None) => MessageAnchor::FromNewest {
            offset: offset.unwrap_or(0),
        },
        (None, Some(before), None) => MessageAnchor::Before(before),
        (None, None, Some(after)) => MessageAnchor::After(after),
        _ => {
            return Err(ApiError::invalid(
                "before",
                "use only one of offset, before and after",
            ));
        }
    };
    let window = MessageWindow::new(anchor, limit)?;
    let page = state.conversations.detail(user.0.id, id, window).await?;
    // A cached page is a first page of exactly this limit and offset, so its stored encoding
    // is this answer.
    let body = page.encoded_with(|page| crate::wire::encode_detail(page, window))?;
    Ok(json_bytes(body))
}

pub(super) async fn delete(
    path: web::Path<String>,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id = conversation_id(&path)?;
    state.conversations.delete(user.0.id, id).await?;
    Ok(HttpResponse::Ok().json(DeleteResponse {
        success: true,
        message: "Conversation deleted successfully".into(),
        deleted_count: None,
    }))
}

pub(super) async fn delete_all(
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let n_deleted = state.conversations.delete_all(user.0.id).await?;
    Ok(HttpResponse::Ok().json(DeleteResponse {
        success: true,
        message: format!("Deleted {n_deleted} conversation(s)"),
        deleted_count: Some(n_deleted),
    }))
}

pub(super) async fn rename(
    request: HttpRequest,
    path: web::Path<String>,
    body: JsonBody,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let user = authenticate(request, Some(RateLimitScope::General)).await?;
    let id = conversation_id(&path)?;
    let request: RenameRequest = body.parse()?;
    let title = Title::parse(&request.title)?;
    state.conversations.rename(user.id, id, title).await?;
    Ok(HttpResponse::Ok().json(SuccessResponse {
        success: true,
        message: "Conversation renamed successfully",
    }))
}
