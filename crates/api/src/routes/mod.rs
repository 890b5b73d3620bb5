//! The route table: one function, so every route and its methods are visible at a glance.

mod auth;
mod catalogue;
mod chat;
mod conversations;
mod health;
mod observability;
mod usage;

use actix_web::{HttpResponse, web};

use crate::error::ApiError;

/// A resource named after its own pattern, so the telemetry middleware reads the route label
/// from the routing result ([`actix_web::HttpRequest::match_name`], a borrow) instead of
/// matching the path again. Other methods are answered with a JSON 405.
fn resource(path: &'static str) -> actix_web::Resource {
    web::resource(path)
        .name(path)
        .default_service(web::to(method_not_allowed))
}

/// Registers every route. Static paths come first: actix tries resources in registration
/// order, and a static pattern is a string comparison where a dynamic one runs a regex, so
/// the most frequent reads (history, health) never reach one.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v1/chat/history").route(web::get().to(conversations::history)))
        .service(resource("/api/v1/auth/register").route(web::post().to(auth::register)))
        .service(resource("/api/v1/auth/login").route(web::post().to(auth::login)))
        .service(resource("/api/v1/auth/me").route(web::get().to(auth::me)))
        .service(resource("/api/v1/auth/refresh").route(web::post().to(auth::refresh)))
        .service(resource("/api/v1/auth/logout").route(web::post().to(auth::logout)))
        .service(resource("/api/v1/chat/stream").route(web::post().to(chat::stream)))
        .service(
            resource("/api/v1/chat/conversations")
                .route(web::delete().to(conversations::delete_all)),
        )
        .service(resource("/api/v1/usage").route(web::get().to(usage::usage)))
        .service(resource("/api/v1/chat/models").route(web::get().to(catalogue::models)))
        .service(resource("/api/v1/chat/methods").route(web::get().to(catalogue::methods)))
        .service(resource("/").route(web::get().to(health::root)))
        .service(resource("/health").route(web::get().to(health::health)))
        .service(resource("/health/live").route(web::get().to(health::live)))
        .service(resource("/health/ready").route(web::get().to(health::ready)))
        .service(resource("/health/db").route(web::get().to(health::database)))
        .service(resource("/health/cache").route(web::get().to(health::cache)))
        .service(resource("/health/info").route(web::get().to(health::info)))
        .service(resource("/health/providers").route(web::get().to(health::providers)))
        .service(resource("/health/info/summary").route(web::get().to(health::info)))
        .service(resource("/metrics").route(web::get().to(observability::metrics)))
        .service(resource("/openapi.json").route(web::get().to(observability::openapi_document)))
        // Dynamic paths last.
        .service(
            resource("/api/v1/chat/conversation/{id}")
                .route(web::get().to(conversations::detail))
                .route(web::delete().to(conversations::delete)),
        )
        .service(
            resource("/api/v1/chat/conversation/{id}/rename")
                .route(web::patch().to(conversations::rename)),
        )
        .service(resource("/api/v1/chat/stream/{stream_id}").route(web::get().to(chat::resume)))
        .service(
            resource("/api/v1/chat/stream/{stream_id}/stop").route(web::post().to(chat::stop)),
        );
}

/// The routes of the separate operations listener.
pub fn configure_operations(config: &mut web::ServiceConfig) {
    config
        .service(resource("/metrics").route(web::get().to(observability::metrics)))
        .service(resource("/health/live").route(web::get().to(health::live)))
        .service(resource("/health/info").route(web::get().to(health::info)))
        .service(resource("/health/providers").route(web::get().to(health::providers)));
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// The JSON 404 for unknown routes.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Not found"))
}
