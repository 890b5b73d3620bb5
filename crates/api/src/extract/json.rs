//! A JSON body: sent as `application/json` (415 otherwise: a form or `text/plain` post is
//! what a browser sends cross-site without asking first), read up to the configured limit
//! (413 past it), parsed as JSON (400 if it is not), and turned into a typed request by the
//! handler (422 naming the field, never echoing the value).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::StreamExt;
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::ApiState;

/// A syntactically valid JSON body, not yet checked against a schema.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl JsonBody {
    /// The body as `T`.
    ///
    /// # Errors
    /// [`ApiError::Validation`] naming the first field that does not fit.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        serde_path_to_error::deserialize(self.0).map_err(|error| {
            let path = error.path().to_string();
            let reason = reason_of(&error.into_inner().to_string());
            ApiError::Validation(vec![lia_domain::ValidationError::new(
                field_name(&path),
                reason,
            )])
        })
    }
}

/// A readable reason from a serde message, without the submitted value.
fn reason_of(message: &str) -> String {
    if message.starts_with("missing field") {
        "is required".into()
    } else if message.starts_with("invalid type") {
        let expected = message
            .rsplit_once("expected ")
            .map_or("another type", |(_, e)| e);
        format!("must be {expected}")
    } else {
        "is invalid".into()
    }
}

/// Field names are a small known set; anything else is reported as `body`.
fn field_name(path: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "email",
        "username",
        "password",
        "title",
        "message",
        "messages",
        "conversation_id",
        "provider",
        "model",
        "sentiment_method",
        "model_settings",
        "temperature",
        "max_tokens",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
    ];
    let last = path.rsplit('.').next().unwrap_or(path);
    KNOWN
        .iter()
        .find(|known| **known == last)
        .copied()
        .unwrap_or("body")
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = request
            .app_data::<web::Data<ApiState>>()
            .map_or(65_536, |state| state.settings.body_limit_bytes);
        let is_json = is_json_content_type(request);
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::MalformedJson)?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice(&body)
                .map(JsonBody)
                .map_err(|_| ApiError::MalformedJson)
        })
    }
}

/// Whether the request says its body is `application/json` (parameters such as
/// `charset` allowed, case-insensitive).
pub(crate) fn is_json_content_type(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Login {
        email: String,
        password: String,
    }

    #[test]
    fn schema_errors_name_the_field_and_never_echo_the_value() {
        let error = JsonBody(serde_json::json!({"email": "a@b.c"}))
            .parse::<Login>()
            .unwrap_err();
        assert_eq!(error.to_string(), "body: is required");
        let error = JsonBody(serde_json::json!({"email": "a@b.c", "password": 12345678}))
            .parse::<Login>()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("password: must be"), "{text}");
        assert!(!text.contains("12345678"));
    }
}
