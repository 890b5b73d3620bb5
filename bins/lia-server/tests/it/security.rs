//! The edge against a hostile client: forged forwarding headers, model names that try to
//! reach another provider endpoint, cross-site writes riding on the cookie, and the
//! operations endpoints on their own listener.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, chat, error_message, frontend_body, spawn_apps_with};

/// The status of one failed login sent with `headers`.
async fn login_with(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let mut request = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": PASSWORD}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Statuses of logins, one per header set, in order.
async fn logins(app: &TestApp, name: &str, values: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for value in values {
        statuses.push(login_with(app, &[(name, value)]).await);
    }
    statuses
}

#[tokio::test]
async fn forged_forwarding_entries_do_not_escape_the_login_limit() {
    for app in spawn_apps_with(|settings| {
        settings.rate_limits.auth_per_window = 3;
        settings.http.trust_proxy_headers = true;
        settings.http.trusted_proxies =
            vec!["127.0.0.0/8".into(), "::1".into(), "10.0.0.0/8".into()];
    })
    .await
    {
        // The proxy appended 203.0.113.7; the client wrote a new first entry every time.
        let forged = [
            "1.1.1.1, 203.0.113.7",
            "2.2.2.2, 3.3.3.3, 203.0.113.7",
            "garbage, 203.0.113.7",
            "4.4.4.4, 203.0.113.7",
        ];
        assert_eq!(
            logins(&app, "X-Forwarded-For", &forged).await,
            [401, 401, 401, 429],
            "{}",
            app.backend
        );
        // Another client behind the same proxy has its own budget: the header is read.
        assert_eq!(
            login_with(&app, &[("X-Forwarded-For", "198.51.100.9")]).await,
            401
        );

        // Several trusted hops (10.0.0.0/8) are skipped from the right.
        let chained = [
            "6.6.6.6, 192.0.2.50, 10.1.2.3, 10.0.0.7",
            "7.7.7.7, 192.0.2.50, 10.0.0.7",
            "192.0.2.50, 10.9.9.9",
            "8.8.8.8, 192.0.2.50",
        ];
        assert_eq!(
            logins(&app, "X-Forwarded-For", &chained).await,
            [401, 401, 401, 429]
        );

        // RFC 7239 with IPv6 and ports; a Forwarded header wins over X-Forwarded-For.
        let mut statuses = Vec::new();
        for (forwarded, xff) in [
            (r#"for=1.2.3.4, for="[2001:db8::7]:4711""#, "5.5.5.5"),
            (r#"for=9.9.9.9;proto=https, for="[2001:db8::7]""#, "5.5.5.6"),
            (r#"for="_hidden", for=2001:db8::7"#, "5.5.5.7"),
            (r#"For="[2001:db8::7]:1";by=10.0.0.1"#, "5.5.5.8"),
        ] {
            statuses.push(
                login_with(&app, &[("Forwarded", forwarded), ("X-Forwarded-For", xff)]).await,
            );
        }
        assert_eq!(statuses, [401, 401, 401, 429]);

        // Garbage written by the last hop: the request counts against the proxy itself.
        let garbage = ["not-an-address", "unknown", "999.1.1.1"];
        assert_eq!(
            logins(&app, "X-Forwarded-For", &garbage).await,
            [401, 401, 401]
        );
        assert_eq!(
            login_with(&app, &[]).await,
            429,
            "the peer's own budget is spent"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn forwarding_headers_are_ignored_unless_proxies_are_trusted() {
    for app in spawn_apps_with(|settings| settings.rate_limits.auth_per_window = 2).await {
        let statuses = logins(&app, "X-Forwarded-For", &["1.1.1.1", "2.2.2.2", "3.3.3.3"]).await;
        assert_eq!(statuses, [401, 401, 429], "{}", app.backend);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_model_name_that_is_not_one_is_refused_naming_the_field() {
    for app in spawn_apps_with(|_| {}).await {
        let ada = app.register("ada").await;
        for model in [
            "../../v1beta/files?x=",
            "gemini-2.5-flash:generateContent?key=x",
            "models/../files",
            "a b",
            &"m".repeat(129),
        ] {
            let mut body = frontend_body("Hello", None);
            body["model"] = json!(model);
            let response = chat(&app, &ada.token, &body).await;
            assert_eq!(response.status(), 422, "{model} on {}", app.backend);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["details"]["fields"][0]["field"], "model");
        }
        let history = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history, json!([]), "nothing was stored");
        app.finish().await;
    }
}

#[tokio::test]
async fn strict_models_accepts_only_the_catalogue() {
    for app in spawn_apps_with(|settings| settings.llm.strict_models = true).await {
        let ada = app.register("ada").await;
        let mut body = frontend_body("Hello", None);
        body["model"] = json!("gemini-9-imaginary");
        let response = chat(&app, &ada.token, &body).await;
        assert_eq!(response.status(), 422, "{}", app.backend);
        assert!(error_message(response).await.contains("model"));
        let accepted = chat(&app, &ada.token, &frontend_body("Hello", None)).await;
        assert_eq!(accepted.status(), 200);
        accepted.text().await.unwrap();
        app.finish().await;
    }
}

#[tokio::test]
async fn cross_site_writes_with_the_cookie_are_refused_and_change_nothing() {
    for app in spawn_apps_with(|_| {}).await {
        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "Kept", 2).await;
        let rename = format!("/api/v1/chat/conversation/{id}/rename");
        let evil = "https://evil.example";

        // A form post and a text/plain post, as a foreign page sends without a preflight.
        let form = app
            .with_cookie(Method::PATCH, &rename, &ada.token)
            .header("Origin", evil)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("title=pwned")
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 403, "{}", app.backend);
        let plain = app
            .with_cookie(Method::POST, "/api/v1/chat/stream", &ada.token)
            .header("Origin", evil)
            .header("Content-Type", "text/plain")
            .body(frontend_body("hi", None).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 403);
        let delete = app
            .with_cookie(
                Method::DELETE,
                &format!("/api/v1/chat/conversation/{id}"),
                &ada.token,
            )
            .header("Origin", evil)
            .send()
            .await
            .unwrap();
        assert_eq!(delete.status(), 403);

        // Without Origin, a non-JSON body still meets the route's JSON rule.
        let no_origin = app
            .with_cookie(Method::PATCH, &rename, &ada.token)
            .header("Content-Type", "text/plain")
            .body(r#"{"title":"pwned"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(no_origin.status(), 415);

        let history = app.get_json("/api/v1/chat/history", &ada.token).await;
        let conversations = history.as_array().unwrap();
        assert_eq!(conversations.len(), 1, "nothing deleted or added");
        assert_eq!(conversations[0]["title"], "Kept", "nothing renamed");

        // The frontend's own origin, and bearer-token clients, are not affected.
        let own = app
            .with_cookie(Method::PATCH, &rename, &ada.token)
            .header("Origin", app.address.as_str())
            .json(&json!({"title": "Renamed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(own.status(), 200);
        let bearer = app
            .http
            .patch(app.url(&rename))
            .bearer_auth(&ada.token)
            .header("Origin", evil)
            .json(&json!({"title": "By token"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn metrics_on_their_own_listener_are_gone_from_the_public_one() {
    for app in
        spawn_apps_with(|settings| settings.metrics.listen = Some("127.0.0.1:0".into())).await
    {
        let public = app.http.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(public.status(), 404, "{}", app.backend);
        let info = app.http.get(app.url("/health/info")).send().await.unwrap();
        assert_eq!(info.status(), 404);
        assert_eq!(
            app.http
                .get(app.url("/health/live"))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "liveness stays public"
        );

        let operations = app.operations_address.clone().expect("an operations port");
        let scraped = app
            .http
            .get(format!("{operations}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(scraped.status(), 200);
        assert!(
            scraped
                .text()
                .await
                .unwrap()
                .contains("lia_http_requests_total")
        );
        let api = app
            .http
            .get(format!("{operations}/api/v1/chat/history"))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 404, "the operations listener serves no API");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_start_event_names_the_provider_that_actually_answers() {
    for app in spawn_apps_with(|_| {}).await {
        let ada = app.register("ada").await;
        // No Gemini key is configured: in development the offline engine stands in.
        let response = chat(&app, &ada.token, &frontend_body("Hello", None)).await;
        let frames = crate::helpers::parse_frames(&response.text().await.unwrap());
        let start = &frames[0];
        assert_eq!(start.event, "start");
        assert_eq!(start.data["provider"], "local", "{}", app.backend);
        assert_eq!(start.data["model"], "gemini-2.5-flash");
        let id = start.data["conversation_id"].as_str().unwrap();
        let detail = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        let reply = detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == "assistant")
            .unwrap();
        assert_eq!(reply["model_info"]["provider"], "local");
        assert_eq!(
            reply["model_info"]["fallback_from"], "gemini:gemini-2.5-flash",
            "what was asked for, kept next to what answered"
        );
        app.finish().await;
    }
}
