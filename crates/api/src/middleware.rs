//! The application with its middleware: CORS with credentials for the configured origins
//! (exact origin echoed, never `*`), security headers, gzip for JSON (never for event
//! streams, which carry `Content-Encoding: identity`), trailing slashes trimmed, JSON 404.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, DefaultHeaders, NormalizePath, TrailingSlash};
use actix_web::{App, Error, web};

use crate::routes;
use crate::state::{ApiSettings, ApiState};

fn cors(settings: &ApiSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::CONTENT_LANGUAGE,
            header::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .allowed_header(header::HeaderName::from_static("x-request-id"))
        .supports_credentials()
        .max_age(600);
    for origin in settings
        .cors_origins
        .iter()
        .filter(|origin| origin.as_str() != "*")
    {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn security_headers(settings: &ApiSettings) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-XSS-Protection", "1; mode=block"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ));
    if settings.debug {
        headers
    } else {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    }
}

/// The whole application over `state`: routes plus middleware. The server wraps it in an
/// `HttpServer`; tests can use it with `actix_web::test`.
pub fn app(
    state: web::Data<ApiState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let settings = state.settings.clone();
    App::new()
        .app_data(state)
        .configure(routes::configure)
        .default_service(web::to(routes::not_found))
        .wrap(Compress::default())
        .wrap(security_headers(&settings))
        .wrap(cors(&settings))
        .wrap(NormalizePath::new(TrailingSlash::Trim))
        .wrap(actix_web::middleware::from_fn(crate::telemetry::observe))
}
