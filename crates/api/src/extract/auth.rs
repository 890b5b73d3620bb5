//! The authenticated user: the `access_token` cookie first (even when a valid bearer header is
//! also sent, as the reference did), then `Authorization: Bearer`. [`AuthUser`] also counts
//! the request against the user's general rate limit; the chat route calls [`authenticate`]
//! itself, after reading its body, and counts against its own limit.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use lia_domain::User;
use lia_domain::ports::RateLimitScope;

use crate::error::ApiError;
use crate::state::ApiState;

/// A user authenticated by token, counted against the general limit.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

/// The token the request carries, cookie first.
fn token(request: &HttpRequest, cookie_name: &str) -> Option<String> {
    if let Some(cookie) = request
        .cookie(cookie_name)
        .filter(|c| !c.value().is_empty())
    {
        return Some(cookie.value().to_owned());
    }
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

/// Authenticates `request` and counts it against `limit`. Handlers that take a body call
/// this after reading it, because actix runs extractors concurrently and the reference
/// reports a malformed body (400) before missing credentials (401).
///
/// # Errors
/// [`ApiError::Unauthorized`] with the refusal reason, or [`ApiError::RateLimited`].
pub async fn authenticate(
    request: HttpRequest,
    limit: Option<RateLimitScope>,
) -> Result<User, ApiError> {
    let state = request
        .app_data::<web::Data<ApiState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let token = token(&request, &state.settings.cookie.name)
        .ok_or_else(|| ApiError::Unauthorized("Authentication required".into()))?;
    let user = state.accounts.authenticate(&token).await?;
    if let Some(scope) = limit {
        state.enforce_limit(scope, &user.id.to_string()).await?;
    }
    Ok(user)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            authenticate(request, Some(RateLimitScope::General))
                .await
                .map(Self)
        })
    }
}
