//! Accounts over HTTP: shapes, cookies, token checks, precedence, races.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, SECRET, error_message, spawn_apps, spawn_apps_with};

#[tokio::test]
async fn register_login_me_refresh_and_logout() {
    for app in spawn_apps().await {
        let response = app
            .post_json("/api/v1/auth/register", &json!({"email": "  Ada <Ada@Example.COM> ", "username": "ada_1", "password": PASSWORD}))
            .await;
        assert_eq!(response.status(), 201, "{}", app.backend);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        for attribute in [
            "access_token=",
            "HttpOnly",
            "Max-Age=604800",
            "Path=/",
            "SameSite=Lax",
            "Secure",
        ] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 604_800);
        assert_eq!(body["user"]["email"], "Ada@example.com");
        assert_eq!(body["user"]["username"], "ada_1");
        assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));

        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "Ada@example.com", "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let token = response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();

        let me: Value = app
            .get_as("/api/v1/auth/me", &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "ada_1");
        let bearer = app
            .http
            .get(app.url("/api/v1/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), 200);

        let refreshed = app
            .with_cookie(reqwest::Method::POST, "/api/v1/auth/refresh", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), 200);
        assert!(refreshed.headers().contains_key("set-cookie"));

        let logout = app
            .http
            .post(app.url("/api/v1/auth/logout"))
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 200);
        let clearing = logout.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            clearing.starts_with("access_token=;") && clearing.contains("Max-Age=0"),
            "{clearing}"
        );
        assert_eq!(
            logout.json::<Value>().await.unwrap(),
            json!({"message": "Logged out"})
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_one_answer() {
    for app in spawn_apps().await {
        app.register("bob").await;
        for body in [
            json!({"email": "bob@example.com", "password": "Wrong123"}),
            json!({"email": "nobody@example.com", "password": PASSWORD}),
        ] {
            let response = app.post_json("/api/v1/auth/login", &body).await;
            assert_eq!(response.status(), 401);
            assert_eq!(error_message(response).await, "Invalid email or password");
        }
        app.finish().await;
    }
}

fn forge(claims: Value) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let input = format!("{header}.{}", engine.encode(claims.to_string()));
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", engine.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn every_bad_token_is_a_401_with_its_reason() {
    for app in spawn_apps().await {
        let account = app.register("carol").await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut tampered = account.token.clone();
        tampered.push('x');
        let cases = [
            (None, "Authentication required"),
            (Some(tampered), "Invalid or expired token"),
            (
                Some(forge(
                    json!({"sub": account.id.0.to_string(), "exp": now - 10, "iat": now - 100}),
                )),
                "Invalid or expired token",
            ),
            (
                Some(forge(
                    json!({"sub": account.id.0.to_string(), "exp": now + 60, "type": "refresh"}),
                )),
                "Cannot use refresh token as access token",
            ),
            (
                Some(forge(json!({"exp": now + 60}))),
                "Invalid token payload",
            ),
            (
                Some(forge(json!({"sub": "abc", "exp": now + 60}))),
                "Invalid user identifier",
            ),
            (
                Some(forge(json!({"sub": "999999", "exp": now + 60}))),
                "User not found",
            ),
        ];
        for (token, message) in cases {
            let request = app.http.get(app.url("/api/v1/auth/me"));
            let request = match &token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{message}");
            assert_eq!(error_message(response).await, message);
        }
        // A valid token from the Python service (no `type` claim) is accepted.
        let python = forge(json!({"sub": account.id.0.to_string(), "exp": now + 60, "iat": now}));
        assert_eq!(app.get_as("/api/v1/auth/me", &python).await.status(), 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_cookie_wins_over_the_bearer_header() {
    for app in spawn_apps().await {
        let account = app.register("dave").await;
        let response = app
            .http
            .get(app.url("/api/v1/auth/me"))
            .header("Cookie", "access_token=garbage")
            .bearer_auth(&account.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let response = app
            .http
            .get(app.url("/api/v1/auth/me"))
            .header("Authorization", format!("Basic {}", account.token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_message(response).await,
            "Authentication required",
            "non-bearer schemes are no credentials"
        );
        let empty_cookie = app
            .http
            .get(app.url("/api/v1/auth/me"))
            .header("Cookie", "access_token=")
            .bearer_auth(&account.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            empty_cookie.status(),
            200,
            "an empty cookie falls back to the header"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn duplicates_conflict_and_a_registration_race_admits_exactly_one() {
    for app in spawn_apps().await {
        app.register("erin").await;
        let again = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "erin@example.com", "username": "other", "password": PASSWORD}),
            )
            .await;
        assert_eq!(again.status(), 409, "{}", app.backend);
        assert_eq!(
            error_message(again).await,
            "An account with this email or username already exists"
        );

        let bodies: Vec<Value> =
            (0..6).map(|i| json!({"email": "race@example.com", "username": format!("racer{i}"), "password": PASSWORD})).collect();
        let attempts = bodies
            .iter()
            .map(|body| app.post_json("/api/v1/auth/register", body));
        let statuses: Vec<u16> = futures::future::join_all(attempts)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{}: {statuses:?}",
            app.backend
        );
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 409),
            "{statuses:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn validation_errors_name_fields_and_never_echo_passwords() {
    for app in spawn_apps().await {
        let response = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "x@example.com", "username": "ok_name", "password": "lowercase123"}),
            )
            .await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["details"]["fields"][0]["field"], "password");
        assert_eq!(
            body["error"]["details"]["fields"][0]["reason"],
            "must contain at least one uppercase letter"
        );
        assert!(!body.to_string().contains("lowercase123"));

        let response = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "not-an-email", "username": "a", "password": "x"}),
            )
            .await;
        let body: Value = response.json().await.unwrap();
        let fields: Vec<&str> = body["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["email", "username", "password"]);

        let response = app
            .post_json("/api/v1/auth/login", &json!({"email": "a@example.com"}))
            .await;
        assert_eq!(response.status(), 422);
        let long = "A1a".repeat(400);
        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "a@example.com", "password": long}),
            )
            .await;
        assert_eq!(
            response.status(),
            422,
            "over-long login passwords are refused before hashing"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_auth_limit_counts_per_ip_and_answers_429_with_retry_after() {
    for app in spawn_apps_with(|settings| settings.rate_limits.auth_per_window = 3).await {
        let login = json!({"email": "nobody@example.com", "password": PASSWORD});
        for _ in 0..3 {
            assert_eq!(
                app.post_json("/api/v1/auth/login", &login).await.status(),
                401
            );
        }
        let limited = app.post_json("/api/v1/auth/login", &login).await;
        assert_eq!(limited.status(), 429);
        let retry_after: u64 = limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after));
        assert_eq!(limited.headers()["x-ratelimit-limit"], "3");
        let body: Value = limited.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Rate limit exceeded. Please try again later."
        );
        assert_eq!(body["error"]["details"]["retry_after"], retry_after);
        app.finish().await;
    }
}
