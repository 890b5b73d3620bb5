//! `/api/v1/auth/*`: register, login, me, refresh, logout.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use lia_auth::Session;
use lia_domain::ports::RateLimitScope;
use lia_domain::{Email, Password, Username};

use crate::error::ApiError;
use crate::extract::{AuthUser, ClientIp, JsonBody};
use crate::state::{ApiState, CookieSettings};
use crate::wire::{LoginRequest, RegisterRequest, TokenResponse, UserResponse};

pub(super) async fn register(
    body: JsonBody,
    client: ClientIp,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let request: RegisterRequest = body.parse()?;
    let mut problems = Vec::new();
    let email = Email::parse(&request.email)
        .map_err(|e| problems.push(e))
        .ok();
    let username = Username::parse(&request.username)
        .map_err(|e| problems.push(e))
        .ok();
    let password = Password::parse(&request.password)
        .map_err(|e| problems.push(e))
        .ok();
    let (Some(email), Some(username), Some(password)) = (email, username, password) else {
        return Err(ApiError::Validation(problems));
    };
    state.enforce_limit(RateLimitScope::Auth, &client.0).await?;
    let session = state.accounts.register(email, username, password).await?;
    Ok(token_response(
        StatusCode::CREATED,
        &session,
        &state.settings.cookie,
    ))
}

pub(super) async fn login(
    body: JsonBody,
    client: ClientIp,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let request: LoginRequest = body.parse()?;
    let email = Email::parse(&request.email)?;
    state.enforce_limit(RateLimitScope::Auth, &client.0).await?;
    let session = state.accounts.login(&email, &request.password).await?;
    Ok(token_response(
        StatusCode::OK,
        &session,
        &state.settings.cookie,
    ))
}

pub(super) async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserResponse::from(&user.0))
}

pub(super) async fn refresh(user: AuthUser, state: web::Data<ApiState>) -> HttpResponse {
    let token = state.accounts.refresh(&user.0);
    let session = Session {
        user: user.0,
        token,
    };
    token_response(StatusCode::OK, &session, &state.settings.cookie)
}

pub(super) async fn logout(state: web::Data<ApiState>) -> HttpResponse {
    let settings = &state.settings.cookie;
    let mut cookie = Cookie::build(settings.name.clone(), "")
        .path("/")
        .max_age(CookieDuration::ZERO)
        .expires(actix_web::cookie::time::OffsetDateTime::now_utc())
        .same_site(same_site(settings))
        .finish();
    if let Some(domain) = &settings.domain {
        cookie.set_domain(domain.clone());
    }
    HttpResponse::Ok()
        .cookie(cookie)
        .json(serde_json::json!({"message": "Logged out"}))
}

fn token_response(
    status: StatusCode,
    session: &Session,
    settings: &CookieSettings,
) -> HttpResponse {
    let max_age = i64::try_from(session.token.expires_in).unwrap_or(i64::MAX);
    let mut cookie = Cookie::build(settings.name.clone(), session.token.token.clone())
        .http_only(true)
        .max_age(CookieDuration::seconds(max_age))
        .path("/")
        .same_site(same_site(settings))
        .secure(settings.secure)
        .finish();
    if let Some(domain) = &settings.domain {
        cookie.set_domain(domain.clone());
    }
    HttpResponse::build(status)
        .cookie(cookie)
        .json(TokenResponse {
            access_token: session.token.token.clone(),
            token_type: "bearer",
            expires_in: session.token.expires_in,
            user: UserResponse::from(&session.user),
        })
}

fn same_site(settings: &CookieSettings) -> SameSite {
    match settings.same_site.to_ascii_lowercase().as_str() {
        "strict" => SameSite::Strict,
        "none" => SameSite::None,
        _ => SameSite::Lax,
    }
}
