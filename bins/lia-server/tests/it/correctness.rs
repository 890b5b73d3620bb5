//! Correct under concurrency, across instances and across databases, on every backend:
//! concurrent turns in one conversation each answer their own question and lose no
//! sentiment update; text every backend stores alike; caches bound to their database; a
//! deleted conversation or user stays deleted; stops that do not wait for the provider.

use lia_llm::testing::{Reply, Upstream};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use lia_server::Settings;

use crate::helpers::{
    Account, Backend, TestApp, backends, chat, error_message, frontend_body, parse_frames,
    spawn_apps, spawn_apps_with, spawn_on, spawn_pairs, streamed_text,
};

/// The conversation's stored cumulative sentiment state, as JSON.
async fn stored_state(app: &TestApp, conversation_id: &str) -> Value {
    let backend = app.connection.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT sentiment_state::text AS state FROM conversations WHERE id = $1"
        }
        _ => "SELECT sentiment_state AS state FROM conversations WHERE id = ?",
    };
    let id: uuid::Uuid = conversation_id.parse().unwrap();
    let row = app
        .connection
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .unwrap()
        .unwrap();
    let text: String = row.try_get("", "state").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn body(message: &str, conversation_id: Option<&str>) -> Value {
    let mut body = json!({"message": message, "provider": "openai", "model": "gpt-4o", "sentiment_method": "lexicon"});
    if let Some(id) = conversation_id {
        body["conversation_id"] = json!(id);
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_turns_in_one_conversation_each_answer_their_own_question() {
    for backend in backends() {
        let upstream = Upstream::start_cycling(vec![Reply::EchoOpenAi]).await;
        let base_url = format!("{}/v1", upstream.base_url);
        let app = spawn_on(&backend, move |settings| {
            settings.llm.openai.api_key = "sk-test".into();
            settings.llm.openai.base_url = base_url;
            settings.chat.turns.max_active_turns_per_user = 20;
        })
        .await;
        let ada = app.register("ada").await;
        let first = parse_frames(
            &chat(&app, &ada.token, &body("Hello there", None))
                .await
                .text()
                .await
                .unwrap(),
        );
        let id = first[0].data["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let questions: Vec<String> = (0..10).map(|n| format!("question number {n}")).collect();
        let turns = questions.iter().map(|question| {
            let (app, token, id) = (&app, &ada.token, &id);
            async move {
                let response = chat(app, token, &body(question, Some(id))).await;
                assert_eq!(response.status(), 200);
                parse_frames(&response.text().await.unwrap())
            }
        });
        let answers = futures::future::join_all(turns).await;
        for (question, frames) in questions.iter().zip(&answers) {
            assert_eq!(
                streamed_text(frames),
                format!("You said: {question}"),
                "{}: each turn's prompt ends with its own message",
                app.backend
            );
            assert_eq!(frames.last().unwrap().event, "done");
        }
        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{id}?limit=100"),
                &ada.token,
            )
            .await;
        assert_eq!(detail["total_messages"], 22, "{}", app.backend);
        let replies: Vec<&str> = detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "assistant")
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        for question in &questions {
            let reply = format!("You said: {question}");
            assert_eq!(
                replies.iter().filter(|r| **r == reply).count(),
                1,
                "{}: every reply stored once",
                app.backend
            );
        }
        assert_eq!(
            stored_state(&app, &id).await["count"],
            11,
            "{}: the cumulative sentiment counts every message",
            app.backend
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn nul_is_refused_in_every_text_field_before_anything_is_stored() {
    for app in spawn_apps().await {
        let nul = "a\u{0}b";
        for (body, field) in [
            (
                json!({"email": "ada@example.com", "username": nul, "password": "Secret123"}),
                "username",
            ),
            (
                json!({"email": "a\u{0}da@example.com", "username": "ada", "password": "Secret123"}),
                "email",
            ),
        ] {
            let response = app.post_json("/api/v1/auth/register", &body).await;
            assert_eq!(response.status(), 422, "{}: {field}", app.backend);
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["details"]["fields"][0]["field"], field);
        }
        let login = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "a\u{0}da@example.com", "password": "Secret123"}),
            )
            .await;
        assert_eq!(login.status(), 422, "{}", app.backend);

        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "Kept", 2).await;
        for body in [
            json!({"message": nul}),
            json!({"messages": [{"role": "user", "parts": [{"type": "text", "text": nul}]}]}),
            json!({"message": nul, "conversation_id": id.to_string()}),
        ] {
            let response = chat(&app, &ada.token, &body).await;
            assert_eq!(response.status(), 422, "{}: {body}", app.backend);
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["details"]["fields"][0]["field"], "message");
        }
        let rename = app
            .with_cookie(
                reqwest::Method::PATCH,
                &format!("/api/v1/chat/conversation/{id}/rename"),
                &ada.token,
            )
            .json(&json!({"title": nul}))
            .send()
            .await
            .unwrap();
        assert_eq!(rename.status(), 422, "{}", app.backend);
        // Nothing was stored or changed.
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history.as_array().unwrap().len(), 1, "{}", app.backend);
        assert_eq!(history[0]["title"], "Kept");
        assert_eq!(history[0]["message_count"], 2);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_new_database_with_the_old_redis_sees_none_of_its_cache() {
    let Some(Backend::Postgres { redis: Some(redis) }) = backends().pop() else {
        println!("skipping: it needs LIA_TEST_DATABASE_URL and LIA_TEST_REDIS_URL");
        return;
    };
    let prefix = format!("lia:test:{}:", uuid::Uuid::new_v4().simple());
    let same_redis = |settings: &mut lia_server::Settings| {
        settings.cache.redis_url = Some(redis.clone().into());
        settings.cache.key_prefix = prefix.clone();
    };
    let backend = Backend::Postgres {
        redis: Some(redis.clone()),
    };
    let old = spawn_on(&backend, same_redis).await;
    let ada = old.register("ada").await;
    old.seed_conversation(&ada, "Old secrets", 2).await;
    let cached: Value = old.get_json("/api/v1/chat/history", &ada.token).await;
    assert_eq!(cached.as_array().unwrap().len(), 1);

    // Another (fresh, empty) database, the same Redis and key prefix: its user 1 is someone
    // else, and must not be shown the old user 1's history.
    let new = spawn_on(&backend, same_redis).await;
    let eve = new.register("eve").await;
    assert_eq!(eve.id, ada.id, "the same numeric id in both databases");
    let history: Value = new.get_json("/api/v1/chat/history", &eve.token).await;
    assert_eq!(history, json!([]));
    new.finish().await;
    old.finish().await;
}

#[tokio::test]
async fn a_deleted_conversation_stays_deleted_when_a_late_turn_finishes() {
    for app in spawn_apps_with(|settings| settings.llm.local.pace_ms = 40).await {
        let ada = app.register("ada").await;
        let mut response = chat(
            &app,
            &ada.token,
            &frontend_body("Tell me a long story about the sea and its ships", None),
        )
        .await;
        let mut seen = String::new();
        while !seen.contains("event: chunk") {
            seen.push_str(&String::from_utf8_lossy(
                &response.chunk().await.unwrap().unwrap(),
            ));
        }
        let first = &parse_frames(&seen[..seen.find("\n\n").unwrap() + 2])[0];
        let id = first.data["conversation_id"].as_str().unwrap().to_owned();
        // The sidebar was read (and cached) while the turn generated.
        let during: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(during.as_array().unwrap().len(), 1);
        let deleted = app
            .with_cookie(
                reqwest::Method::DELETE,
                &format!("/api/v1/chat/conversation/{id}"),
                &ada.token,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        while let Some(chunk) = response.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        let last = parse_frames(&seen).pop().unwrap();
        assert_eq!(
            (last.event.as_str(), last.data["kind"].as_str()),
            ("error", Some("not_found")),
            "{}",
            app.backend
        );
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history, json!([]), "{}: not put back", app.backend);
        let detail = app
            .get_as(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        assert_eq!(detail.status(), 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_active_turn_cap_holds_across_two_instances() {
    for (first, second) in spawn_pairs(|settings| {
        settings.chat.turns.max_active_turns_per_user = 1;
        settings.llm.local.pace_ms = 200;
    })
    .await
    {
        let ada = first.register("ada").await;
        let generating = chat(
            &first,
            &ada.token,
            &frontend_body("Tell me a long story", None),
        )
        .await;
        assert_eq!(generating.status(), 200);
        let refused = chat(&second, &ada.token, &frontend_body("and another", None)).await;
        assert_eq!(
            refused.status(),
            429,
            "the cap counts turns on every instance"
        );
        assert!(refused.headers().contains_key("retry-after"));
        let bob = second.register("bob").await;
        assert_eq!(
            chat(&second, &bob.token, &frontend_body("mine", None))
                .await
                .status(),
            200
        );
        drop(generating);
        second.finish().await;
        first.finish().await;
    }
}

#[tokio::test]
async fn a_stop_ends_a_turn_whose_provider_has_not_answered_yet() {
    for backend in backends() {
        let upstream = Upstream::start_cycling(vec![Reply::Hang]).await;
        let base_url = format!("{}/v1", upstream.base_url);
        let app = spawn_on(&backend, move |settings| {
            settings.llm.openai.api_key = "sk-test".into();
            settings.llm.openai.base_url = base_url;
            settings.llm.timeouts.first_token_ms = 60_000;
        })
        .await;
        let ada = app.register("ada").await;
        let mut response = chat(&app, &ada.token, &body("Are you there?", None)).await;
        let mut seen = String::new();
        while !seen.contains("\n\n") {
            seen.push_str(&String::from_utf8_lossy(
                &response.chunk().await.unwrap().unwrap(),
            ));
        }
        let start = &parse_frames(&seen[..seen.find("\n\n").unwrap() + 2])[0];
        let stream_id = start.data["stream_id"].as_str().unwrap().to_owned();
        let id = start.data["conversation_id"].as_str().unwrap().to_owned();
        let stopped = app.stop_turn(&stream_id, &ada.token).await;
        assert_eq!(stopped.status(), 200);
        let rest = tokio::time::timeout(std::time::Duration::from_secs(10), response.text())
            .await
            .expect("the stop ends the stream without waiting for the provider")
            .unwrap();
        seen.push_str(&rest);
        let last = parse_frames(&seen).pop().unwrap();
        assert_eq!(
            (last.event.as_str(), last.data["finish_reason"].as_str()),
            ("done", Some("stopped")),
            "{}",
            app.backend
        );
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        assert_eq!(
            detail["messages"][1]["model_info"]["finish_reason"], "stopped",
            "{}",
            app.backend
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn json_routes_answer_415_to_any_other_content_type() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "Kept", 2).await;
        let routes = [
            (reqwest::Method::POST, "/api/v1/auth/register".to_owned()),
            (reqwest::Method::POST, "/api/v1/auth/login".to_owned()),
            (reqwest::Method::POST, "/api/v1/chat/stream".to_owned()),
            (
                reqwest::Method::PATCH,
                format!("/api/v1/chat/conversation/{id}/rename"),
            ),
        ];
        let json_text = r#"{"title": "Changed", "message": "hi", "email": "eve@example.com", "username": "eve", "password": "Secret123"}"#;
        for (method, path) in &routes {
            for content_type in [
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("multipart/form-data; boundary=x"),
                None,
            ] {
                let mut request = app.with_cookie(method.clone(), path, &ada.token);
                if let Some(content_type) = content_type {
                    request = request.header("Content-Type", content_type);
                }
                let response = request.body(json_text).send().await.unwrap();
                assert_eq!(
                    response.status(),
                    415,
                    "{}: {method} {path} as {content_type:?}",
                    app.backend
                );
                assert_eq!(
                    error_message(response).await,
                    "Content-Type must be application/json"
                );
            }
        }
        let with_charset = app
            .with_cookie(
                reqwest::Method::PATCH,
                &format!("/api/v1/chat/conversation/{id}/rename"),
                &ada.token,
            )
            .header("Content-Type", "Application/JSON; charset=utf-8")
            .body(r#"{"title": "Changed"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(with_charset.status(), 200, "parameters are allowed");
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(
            history[0]["title"], "Changed",
            "only the JSON request changed it"
        );
        app.finish().await;
    }
}

/// Every route a deleted user's token could still reach, answered.
async fn every_route_as(
    app: &TestApp,
    user: &Account,
    id: lia_domain::ConversationId,
) -> Vec<reqwest::Response> {
    let conversation = format!("/api/v1/chat/conversation/{id}");
    vec![
        app.get_as("/api/v1/auth/me", &user.token).await,
        app.get_as("/api/v1/chat/history", &user.token).await,
        app.get_as(&conversation, &user.token).await,
        app.with_cookie(reqwest::Method::DELETE, &conversation, &user.token)
            .send()
            .await
            .unwrap(),
        app.with_cookie(
            reqwest::Method::PATCH,
            &format!("{conversation}/rename"),
            &user.token,
        )
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap(),
        chat(app, &user.token, &frontend_body("still here?", None)).await,
    ]
}

/// A user with a conversation, every cache the routes use warmed (the profile cache among
/// them), then deleted by SQL behind Lia's back.
async fn a_user_deleted_with_warm_caches(app: &TestApp) -> (Account, lia_domain::ConversationId) {
    let ada = app.register("ada").await;
    let id = app.seed_conversation(&ada, "Mine", 2).await;
    app.get_json("/api/v1/chat/history", &ada.token).await;
    app.get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
        .await;
    app.connection
        .execute_unprepared(&format!("DELETE FROM users WHERE id = {}", ada.id))
        .await
        .unwrap();
    (ada, id)
}

async fn assert_all_refused(app: &TestApp, responses: Vec<reqwest::Response>) {
    for response in responses {
        let url = response.url().path().to_owned();
        assert_eq!(response.status(), 401, "{}: {url}", app.backend);
        assert_eq!(error_message(response).await, "User not found");
    }
}

#[tokio::test]
async fn a_deleted_user_is_refused_on_every_route_once_the_profile_cache_ttl_passes() {
    for app in spawn_apps().await {
        let (ada, id) = a_user_deleted_with_warm_caches(&app).await;
        // The documented bound: within the TTL the cached profile still answers.
        let within = app.get_as("/api/v1/chat/history", &ada.token).await;
        assert_eq!(within.status(), 200, "{}", app.backend);
        let ttl = Settings::default().auth.profile_cache.ttl_ms;
        app.clock
            .advance(time::Duration::milliseconds(i64::try_from(ttl).unwrap()));
        assert_all_refused(&app, every_route_as(&app, &ada, id).await).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn with_the_profile_cache_off_a_deleted_user_is_refused_at_once_whatever_the_cache_holds() {
    for app in spawn_apps_with(|settings| settings.auth.profile_cache.ttl_ms = 0).await {
        let (ada, id) = a_user_deleted_with_warm_caches(&app).await;
        assert_all_refused(&app, every_route_as(&app, &ada, id).await).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_locked_database_answers_503_with_retry_after_not_500() {
    for app in spawn_apps_with(|settings| {
        settings.database.sqlite_busy_timeout_secs = 1;
        settings.database.statement_timeout_ms = 500;
    })
    .await
    {
        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "Kept", 2).await;
        // Another client holds the conversation's row (the write lock, on SQLite).
        let backend = app.connection.get_database_backend();
        let lock = match backend {
            DbBackend::Postgres => "UPDATE conversations SET title = title WHERE id = $1",
            _ => "UPDATE conversations SET title = title WHERE id = ?",
        };
        let holder = sea_orm::TransactionTrait::begin(&app.connection)
            .await
            .unwrap();
        holder
            .execute_raw(Statement::from_sql_and_values(backend, lock, [id.0.into()]))
            .await
            .unwrap();
        let rename = |title: &'static str| {
            app.with_cookie(
                reqwest::Method::PATCH,
                &format!("/api/v1/chat/conversation/{id}/rename"),
                &ada.token,
            )
            .json(&json!({"title": title}))
            .send()
        };
        let blocked = rename("Changed").await.unwrap();
        assert_eq!(blocked.status(), 503, "{}", app.backend);
        assert!(blocked.headers().contains_key("retry-after"));
        assert_eq!(
            error_message(blocked).await,
            "Service temporarily unavailable. Please try again later."
        );
        holder.rollback().await.unwrap();
        assert_eq!(
            rename("Changed").await.unwrap().status(),
            200,
            "{}",
            app.backend
        );
        app.finish().await;
    }
}
