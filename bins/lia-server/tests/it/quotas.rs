//! Daily token quotas: checked before a turn starts, charged when it ends, per user, renewed
//! at the next UTC midnight, shared by instances, overridable per user; and the usage report.

use lia_domain::ports::UsageRepository;
use serde_json::{Value, json};

use crate::helpers::{TestApp, chat, frontend_body, spawn_apps_with, spawn_pairs};

const BUDGET: u64 = 40;

async fn turn(app: &TestApp, token: &str) -> reqwest::Response {
    chat(app, token, &frontend_body("Hello there", None)).await
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn a_spent_budget_refuses_that_user_until_the_next_day_and_no_one_else() {
    for app in spawn_apps_with(|settings| settings.quotas.daily_tokens = BUDGET).await {
        let (ada, bob) = (app.register("ada").await, app.register("bob").await);
        let first = turn(&app, &ada.token).await;
        assert_eq!(first.status(), 200, "{}", app.backend);
        assert_eq!(header(&first, "x-quota-limit"), Some(BUDGET));
        assert_eq!(header(&first, "x-quota-remaining"), Some(BUDGET));
        first.text().await.unwrap();

        let usage: Value = app.get_json("/api/v1/usage", &ada.token).await;
        let spent = usage["total"]["total_tokens"].as_u64().unwrap();
        assert!(
            spent > BUDGET,
            "one offline turn spends the small budget: {usage}"
        );
        assert_eq!(usage["total"]["turns"], 1);
        assert_eq!(usage["by_model"][0]["provider"], "local");
        assert_eq!(usage["by_model"][0]["model"], "gemini-2.5-flash");
        assert_eq!(usage["by_day"].as_array().unwrap().len(), 1);
        assert_eq!(usage["quota"]["daily_tokens"], BUDGET);
        assert_eq!(usage["quota"]["remaining"], 0);

        let refused = turn(&app, &ada.token).await;
        assert_eq!(refused.status(), 429);
        let retry: u64 = header(&refused, "retry-after").unwrap();
        assert!((1..=86_400).contains(&retry), "until midnight UTC: {retry}");
        assert_eq!(header(&refused, "x-quota-remaining"), Some(0));
        let reset = header(&refused, "x-quota-reset").unwrap();
        let midnight = lia_chat::quota::next_midnight(app.clock_now());
        assert_eq!(reset, u64::try_from(midnight.unix_timestamp()).unwrap());
        let body: Value = refused.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("quota"));
        let history = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history.as_array().unwrap().len(), 1, "nothing stored");
        assert_eq!(history[0]["message_count"], 2);

        let other = turn(&app, &bob.token).await;
        assert_eq!(other.status(), 200, "another user is unaffected");
        other.text().await.unwrap();

        app.clock.advance(time::Duration::days(1));
        let renewed = turn(&app, &ada.token).await;
        assert_eq!(renewed.status(), 200, "renewed the next day");
        assert_eq!(header(&renewed, "x-quota-remaining"), Some(BUDGET));
        renewed.text().await.unwrap();
        app.finish().await;
    }
}

#[tokio::test]
async fn a_users_own_budget_overrides_the_default() {
    for app in spawn_apps_with(|settings| settings.quotas.daily_tokens = BUDGET).await {
        let ada = app.register("ada").await;
        let ledger = lia_store::Database::from_connection(app.connection.clone()).usage();
        ledger.set_quota_override(ada.id, Some(0)).await.unwrap();
        for _ in 0..2 {
            let response = turn(&app, &ada.token).await;
            assert_eq!(response.status(), 200, "{}", app.backend);
            assert_eq!(header(&response, "x-quota-limit"), None, "no quota applies");
            response.text().await.unwrap();
        }
        ledger
            .set_quota_override(ada.id, Some(1_000_000))
            .await
            .unwrap();
        let response = turn(&app, &ada.token).await;
        assert_eq!(header(&response, "x-quota-limit"), Some(1_000_000));
        response.text().await.unwrap();
        let usage: Value = app.get_json("/api/v1/usage", &ada.token).await;
        assert_eq!(usage["total"]["turns"], 3);
        app.finish().await;
    }
}

#[tokio::test]
async fn no_quota_means_no_headers_and_a_null_quota() {
    for app in spawn_apps_with(|_| {}).await {
        let ada = app.register("ada").await;
        let response = turn(&app, &ada.token).await;
        assert_eq!(header(&response, "x-quota-limit"), None);
        response.text().await.unwrap();
        let usage: Value = app.get_json("/api/v1/usage", &ada.token).await;
        assert_eq!(usage["quota"], Value::Null, "{}", app.backend);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_usage_range_is_validated() {
    for app in spawn_apps_with(|_| {}).await {
        let ada = app.register("ada").await;
        for (query, field) in [
            ("?from=yesterday", "from"),
            ("?to=2026-13-01", "to"),
            ("?from=2026-12-02&to=2026-12-01", "from"),
            ("?from=2020-01-01&to=2026-01-01", "from"),
        ] {
            let response = app
                .get_as(&format!("/api/v1/usage{query}"), &ada.token)
                .await;
            assert_eq!(response.status(), 422, "{query} on {}", app.backend);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["details"]["fields"][0]["field"], field);
        }
        let empty: Value = app
            .get_json("/api/v1/usage?from=2026-01-01&to=2026-01-31", &ada.token)
            .await;
        assert_eq!(
            empty,
            json!({"from": "2026-01-01", "to": "2026-01-31", "total": {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0, "total_tokens": 0, "turns": 0}, "by_day": [], "by_model": [], "quota": null})
        );
        let anonymous = app.http.get(app.url("/api/v1/usage")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_budget_spent_on_one_instance_is_spent_on_the_other() {
    for (first, second) in spawn_pairs(|settings| settings.quotas.daily_tokens = BUDGET).await {
        let ada = first.register("ada").await;
        turn(&first, &ada.token).await.text().await.unwrap();
        let refused = turn(&second, &ada.token).await;
        assert_eq!(refused.status(), 429);
        second.finish().await;
        first.finish().await;
    }
}
