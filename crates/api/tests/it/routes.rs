//! Routes and middleware through `actix_web::test`: answers, refusals and the headers every
//! answer carries.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{self, TestRequest};
use lia_api::ApiSettings;
use serde_json::Value;

use crate::fixture::fixture;

fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

fn peer() -> std::net::SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

#[actix_web::test]
async fn every_answer_carries_the_security_headers_and_a_request_id() {
    let fixture = fixture(ApiSettings::default()).await;
    let app = test::init_service(lia_api::app(fixture.state.clone())).await;
    for path in ["/health/live", "/no/such/route", "/api/v1/chat/history"] {
        let request = TestRequest::get().uri(path).peer_addr(peer()).to_request();
        let response = test::call_service(&app, request).await;
        let headers = response.headers();
        assert_eq!(
            headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert!(headers.contains_key("strict-transport-security"), "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
    let echoed = TestRequest::get()
        .uri("/health/live")
        .insert_header(("x-request-id", "client-chosen-id"))
        .peer_addr(peer())
        .to_request();
    let response = test::call_service(&app, echoed).await;
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "client-chosen-id"
    );
}

#[actix_web::test]
async fn history_needs_a_token_and_lists_the_owners_conversations_only() {
    let fixture = fixture(ApiSettings::default()).await;
    let (ada, ada_token) = fixture.user("ada").await;
    let (_, bob_token) = fixture.user("bob").await;
    let id = fixture.conversation(ada, "what is a monad").await;
    let app = test::init_service(lia_api::app(fixture.state.clone())).await;

    let anonymous = TestRequest::get().uri("/api/v1/chat/history").to_request();
    let response = test::call_service(&app, anonymous).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = test::read_body_json(response).await;
    assert_eq!(
        body["error"]["message"], "Authentication required",
        "{body}"
    );

    for path in ["/api/v1/chat/history", "/api/v1/chat/history/"] {
        let request = TestRequest::get()
            .uri(path)
            .insert_header(bearer(&ada_token))
            .to_request();
        let history: Value = test::call_and_read_body_json(&app, request).await;
        assert_eq!(
            history.as_array().map(Vec::len),
            Some(1),
            "{path}: {history}"
        );
        assert_eq!(history[0]["id"], id.to_string(), "{path}");
    }
    let theirs = TestRequest::get()
        .uri("/api/v1/chat/history")
        .insert_header(bearer(&bob_token))
        .to_request();
    let history: Value = test::call_and_read_body_json(&app, theirs).await;
    assert_eq!(history, serde_json::json!([]));
}

#[actix_web::test]
async fn a_conversation_is_served_to_its_owner_with_the_same_bytes_from_the_cache() {
    let fixture = fixture(ApiSettings::default()).await;
    let (ada, ada_token) = fixture.user("ada").await;
    let (_, bob_token) = fixture.user("bob").await;
    let id = fixture.conversation(ada, "tell me about rust").await;
    let app = test::init_service(lia_api::app(fixture.state.clone())).await;
    let path = format!("/api/v1/chat/conversation/{id}");
    let read = |token: &str| {
        TestRequest::get()
            .uri(&path)
            .insert_header(bearer(token))
            .to_request()
    };

    let first = test::call_and_read_body(&app, read(&ada_token)).await;
    let again = test::call_and_read_body(&app, read(&ada_token)).await;
    assert_eq!(first, again, "a cache hit answers what the miss answered");
    let page: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(page["id"], id.to_string(), "{page}");
    assert_eq!(
        page["messages"][0]["content"], "tell me about rust",
        "{page}"
    );

    let response = test::call_service(&app, read(&bob_token)).await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "never someone else's"
    );
}

#[actix_web::test]
async fn bad_input_is_a_4xx_that_names_the_problem() {
    let fixture = fixture(ApiSettings::default()).await;
    let (_, token) = fixture.user("ada").await;
    let app = test::init_service(lia_api::app(fixture.state.clone())).await;
    let cases = [
        (
            Method::GET,
            "/api/v1/chat/conversation/not-a-uuid".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/chat/history?limit=100000".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/auth/register".to_owned(),
            Some(r#"{"email": 3"#),
        ),
        (
            Method::POST,
            "/api/v1/auth/register".to_owned(),
            Some(r#"{"email":"eve@example.com","username":"eve","password":"short"}"#),
        ),
    ];
    for (method, path, body) in cases {
        let mut request = TestRequest::default()
            .method(method.clone())
            .uri(&path)
            .peer_addr(peer())
            .insert_header(bearer(&token));
        if let Some(body) = body {
            request = request
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(body);
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
        let answer: Value = test::read_body_json(response).await;
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{method} {path}: {answer}");
    }
    // The refused registration stored nothing: the same email and name are still free.
    let retry = TestRequest::post()
        .uri("/api/v1/auth/register")
        .peer_addr(peer())
        .set_json(serde_json::json!({
            "email": "eve@example.com", "username": "eve", "password": "A long enough passw0rd!"
        }))
        .to_request();
    assert_eq!(
        test::call_service(&app, retry).await.status(),
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn a_cross_site_post_with_the_auth_cookie_is_refused() {
    let fixture = fixture(ApiSettings::default()).await;
    let (_, token) = fixture.user("ada").await;
    let app = test::init_service(lia_api::app(fixture.state.clone())).await;
    let request = TestRequest::post()
        .uri("/api/v1/auth/logout")
        .insert_header((header::ORIGIN, "https://evil.example"))
        .insert_header((header::COOKIE, format!("access_token={token}")))
        .peer_addr(peer())
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
