//! The application with its middleware: CORS with credentials for the configured origins
//! (exact origin echoed, never `*`), a cross-site guard on cookie-authenticated writes,
//! security headers, gzip for JSON (never for event streams, which carry
//! `Content-Encoding: identity`), trailing slashes trimmed, JSON 404.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, DefaultHeaders};
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

/// Refuses a state-changing request (POST, PUT, PATCH, DELETE) that carries the auth cookie
/// and an `Origin` that is neither a configured origin nor this server's own: the form posts
/// and `text/plain` posts a browser sends cross-site without a preflight, with the user's
/// cookie attached. Requests authenticated by a bearer token carry no ambient credential
/// and pass; requests without `Origin` are not browsers' cross-site ones (browsers always
/// send it on those) and meet the JSON rules of their route instead (415).
async fn cross_site_guard(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let refused = writes
        && request
            .app_data::<web::Data<ApiState>>()
            .is_some_and(|state| {
                let settings = &state.settings;
                let has_cookie = request
                    .cookie(&settings.cookie.name)
                    .is_some_and(|cookie| !cookie.value().is_empty());
                let origin = request
                    .headers()
                    .get(header::ORIGIN)
                    .and_then(|value| value.to_str().ok());
                match origin {
                    Some(origin) if has_cookie => {
                        let info = request.connection_info();
                        let own = format!("{}://{}", info.scheme(), info.host());
                        origin != own
                            && !settings
                                .cors_origins
                                .iter()
                                .any(|allowed| allowed == origin)
                    }
                    _ => false,
                }
            });
    if refused {
        let response = actix_web::ResponseError::error_response(&crate::ApiError::Forbidden(
            "Cross-site request refused".into(),
        ));
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
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
        .wrap(actix_web::middleware::from_fn(cross_site_guard))
        .wrap(Compress::default())
        .wrap(security_headers(&settings))
        .wrap(cors(&settings))
        .wrap(actix_web::middleware::from_fn(
            crate::normalize::normalize_path,
        ))
        .wrap(actix_web::middleware::from_fn(crate::telemetry::observe))
}

/// The operations endpoints alone (`/metrics`, `/health/live`, `/health/info`), for the
/// separate listener of `metrics.listen`.
pub fn operations_app(
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
    App::new()
        .app_data(state)
        .configure(routes::configure_operations)
        .default_service(web::to(routes::not_found))
}
