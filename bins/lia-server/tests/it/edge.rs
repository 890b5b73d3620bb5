//! The HTTP edge: error shapes for malformed, oversized and misrouted requests, CORS, security
//! headers, compression, static answers and health.

use serde_json::{Value, json};

use crate::helpers::{spawn_apps, spawn_apps_with};

#[tokio::test]
async fn malformed_oversized_and_misrouted_requests_get_json_errors() {
    for app in spawn_apps_with(|settings| settings.http.body_limit_bytes = 1_024).await {
        let malformed = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body("{\"email\":")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), 400);
        assert_eq!(
            malformed.json::<Value>().await.unwrap()["error"]["message"],
            "Malformed JSON body"
        );

        let big = json!({"email": "a@example.com", "password": "x".repeat(2_000)});
        let oversized = app.post_json("/api/v1/auth/login", &big).await;
        assert_eq!(oversized.status(), 413);
        assert!(oversized.json::<Value>().await.unwrap()["error"]["message"].is_string());

        let unknown = app.http.get(app.url("/api/v1/nope")).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
        assert_eq!(
            unknown.json::<Value>().await.unwrap(),
            json!({"error": {"message": "Not found"}})
        );
        let wrong_method = app
            .http
            .delete(app.url("/api/v1/auth/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), 405);
        assert_eq!(
            wrong_method.json::<Value>().await.unwrap()["error"]["message"],
            "Method Not Allowed"
        );

        // Body errors come before authentication, as in the reference.
        let unauthenticated = app
            .http
            .patch(app.url("/api/v1/chat/conversation/x/rename"))
            .header("Content-Type", "application/json")
            .body("not json")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), 400);
        let trailing = app.http.get(app.url("/health/live/")).send().await.unwrap();
        assert_eq!(trailing.status(), 200, "a trailing slash is trimmed");
        app.finish().await;
    }
}

#[tokio::test]
async fn cors_echoes_configured_origins_with_credentials_only() {
    for app in spawn_apps().await {
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("Origin", "http://localhost:5173")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success());
        let headers = preflight.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "http://localhost:5173"
        );
        assert_eq!(headers["access-control-allow-credentials"], "true");
        assert_eq!(headers["access-control-max-age"], "600");

        let foreign = app
            .http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 400);
        assert!(
            !foreign
                .headers()
                .contains_key("access-control-allow-origin")
        );

        let simple = app
            .http
            .get(app.url("/api/v1/chat/methods"))
            .header("Origin", "https://lia.nicx.app")
            .send()
            .await
            .unwrap();
        assert_eq!(
            simple.headers()["access-control-allow-origin"],
            "https://lia.nicx.app"
        );
        assert!(
            simple.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("Origin")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn security_headers_compression_and_static_answers() {
    for app in spawn_apps().await {
        let response = app
            .http
            .get(app.url("/api/v1/chat/models"))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            (
                "strict-transport-security",
                "max-age=31536000; includeSubDomains",
            ),
        ] {
            assert_eq!(headers[name], value);
        }
        assert_eq!(
            headers["content-encoding"], "gzip",
            "a large JSON answer is compressed"
        );
        let methods: Value = app.public_json("/api/v1/chat/methods").await;
        assert_eq!(
            methods,
            json!(["nlp_api", "llm_separate", "structured", "lexicon"])
        );
        let models: Value = app.public_json("/api/v1/chat/models").await;
        assert_eq!(
            models["gemini"][0],
            json!({"id": "gemini-2.5-flash", "name": "Gemini 2.5 Flash", "context_window": 1_000_000})
        );
        assert_eq!(models["openai"][2]["id"], "gpt-4.1");
        app.finish().await;
    }
}

#[tokio::test]
async fn health_reports_each_dependency() {
    for app in spawn_apps().await {
        let health: Value = app.public_json("/health").await;
        assert_eq!(health["status"], "healthy");
        let kind = if app.backend == "sqlite" {
            "sqlite"
        } else {
            "postgresql"
        };
        assert_eq!(health["services"]["database"]["details"]["type"], kind);
        assert!(health["services"]["database"]["latency_ms"].is_number());
        assert_eq!(health["services"]["cache"]["status"], "healthy");
        for path in [
            "/",
            "/health/live",
            "/health/ready",
            "/health/db",
            "/health/cache",
        ] {
            assert_eq!(
                app.http.get(app.url(path)).send().await.unwrap().status(),
                200,
                "{path}"
            );
        }
        assert_eq!(
            app.http
                .get(app.url("/health/info"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "debug only"
        );
        let head = app.http.head(app.url("/health/live")).send().await.unwrap();
        assert_eq!(head.status(), 405);
        app.finish().await;
    }
}
