//! `GET /chat/models` and `GET /chat/methods`: built once at start-up, served from memory.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};

use crate::state::ApiState;

pub(super) async fn models(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(state.answers.models.clone())
}

pub(super) async fn methods(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(state.answers.methods.clone())
}
