//! Path normalisation: trailing slashes trimmed and repeated slashes merged, as actix's
//! `NormalizePath::trim()` does, without its per-request regex and allocation. The common
//! path (no `//`, no trailing `/`) costs one byte scan and leaves the request untouched.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

/// `path` normalised, or `None` when it already is.
pub(crate) fn normalized(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let trailing = bytes.len() > 1 && bytes.ends_with(b"/");
    let repeated = bytes.windows(2).any(|pair| pair == b"//");
    if !trailing && !repeated {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    (out != path).then_some(out)
}

/// The middleware: rewrites the URI (query kept) before routing when the path needs it.
pub(crate) async fn normalize_path(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(path) = normalized(request.path()) {
        let uri = request.uri().clone();
        let path_and_query = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = uri.into_parts();
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                request.match_info_mut().get_mut().update(&uri);
                request.head_mut().uri = uri;
            }
        }
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn only_paths_that_need_it_are_rewritten() {
        for path in [
            "/",
            "/health/live",
            "/api/v1/chat/conversation/abc",
            "/a.b/c",
        ] {
            assert_eq!(normalized(path), None, "{path}");
        }
        for (path, expected) in [
            ("/health/live/", "/health/live"),
            ("/health/live///", "/health/live"),
            ("//api//v1/chat/", "/api/v1/chat"),
            ("//", "/"),
            ("///", "/"),
        ] {
            assert_eq!(normalized(path).as_deref(), Some(expected), "{path}");
        }
    }
}
