//! Conversation routes over HTTP: shapes, paging, cursors, changes, isolation, read-your-writes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{error_message, spawn_apps, spawn_apps_with};

#[tokio::test]
async fn history_and_detail_have_the_frontend_shapes() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "Gardening", 5).await;
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        let row = &history[0];
        assert_eq!(row["id"], id.to_string(), "{}", app.backend);
        assert_eq!(
            (row["title"].as_str(), row["message_count"].as_u64()),
            (Some("Gardening"), Some(5))
        );
        assert!(
            row["created_at"].as_str().unwrap().ends_with('Z') && row["updated_at"].is_string()
        );

        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{id}?limit=2"),
                &ada.token,
            )
            .await;
        assert_eq!(
            (
                detail["total_messages"].as_u64(),
                detail["limit"].as_u64(),
                detail["offset"].as_u64()
            ),
            (Some(5), Some(2), Some(0))
        );
        assert_eq!(detail["has_more"], true);
        let contents: Vec<&str> = detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents, ["m3", "m4"], "the latest page, oldest first");
        let message = &detail["messages"][0];
        assert_eq!(message["role"], "assistant");
        assert!(
            message["id"].is_i64()
                && message["sentiment_data"].is_null()
                && message["model_info"].is_null()
        );

        let older: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{id}?limit=2&offset=2"),
                &ada.token,
            )
            .await;
        let contents: Vec<&str> = older["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents, ["m1", "m2"], "load older prepends the right page");
        let before = detail["messages"][0]["id"].as_i64().unwrap();
        let cursor: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{id}?limit=10&before={before}"),
                &ada.token,
            )
            .await;
        assert_eq!(cursor["messages"].as_array().unwrap().len(), 3);
        // Any UUID form resolves to the same conversation.
        let simple = id.0.simple().to_string().to_uppercase();
        assert_eq!(
            app.get_as(&format!("/api/v1/chat/conversation/{simple}"), &ada.token)
                .await
                .status(),
            200
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn another_users_conversation_is_not_found_on_every_route() {
    for app in spawn_apps().await {
        let (ada, bob) = (app.register("ada").await, app.register("bob").await);
        let id = app.seed_conversation(&ada, "Private", 2).await;
        let path = format!("/api/v1/chat/conversation/{id}");
        for (method, path, body) in [
            (Method::GET, path.clone(), None),
            (Method::DELETE, path.clone(), None),
            (
                Method::PATCH,
                format!("{path}/rename"),
                Some(json!({"title": "mine"})),
            ),
        ] {
            let mut request = app.with_cookie(method.clone(), &path, &bob.token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404, "{} {method} {path}", app.backend);
            assert_eq!(error_message(response).await, "Conversation not found");
        }
        let bobs: Value = app.get_json("/api/v1/chat/history", &bob.token).await;
        assert_eq!(bobs, json!([]));
        let deleted: Value = app
            .with_cookie(Method::DELETE, "/api/v1/chat/conversations", &bob.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(deleted["deleted_count"], 0);
        let detail = app.get_as(&path, &ada.token).await;
        assert_eq!(
            detail.status(),
            200,
            "ada's conversation survived bob's attempts"
        );
        let detail: Value = detail.json().await.unwrap();
        assert_eq!(detail["title"], "Private");
        app.finish().await;
    }
}

#[tokio::test]
async fn changes_are_visible_at_once_through_the_cache() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let first = app.seed_conversation(&ada, "First", 2).await;
        let second = app.seed_conversation(&ada, "Second", 2).await;
        // Fill the caches.
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history.as_array().unwrap().len(), 2);
        let detail_path = format!("/api/v1/chat/conversation/{first}");
        assert_eq!(app.get_as(&detail_path, &ada.token).await.status(), 200);

        let renamed = app
            .with_cookie(Method::PATCH, &format!("{detail_path}/rename"), &ada.token)
            .json(&json!({"title": "Renamed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            renamed.json::<Value>().await.unwrap(),
            json!({"success": true, "message": "Conversation renamed successfully"})
        );
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(
            (history[0]["id"].as_str(), history[0]["title"].as_str()),
            (Some(first.to_string().as_str()), Some("Renamed"))
        );
        let detail: Value = app.get_json(&detail_path, &ada.token).await;
        assert_eq!(detail["title"], "Renamed");

        let deleted = app
            .with_cookie(Method::DELETE, &detail_path, &ada.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            deleted.json::<Value>().await.unwrap(),
            json!({"success": true, "message": "Conversation deleted successfully", "deleted_count": null})
        );
        assert_eq!(app.get_as(&detail_path, &ada.token).await.status(), 404);
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history.as_array().unwrap().len(), 1);
        assert_eq!(history[0]["id"], second.to_string());

        let all: Value = app
            .with_cookie(Method::DELETE, "/api/v1/chat/conversations", &ada.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            all,
            json!({"success": true, "message": "Deleted 1 conversation(s)", "deleted_count": 1})
        );
        assert_eq!(
            app.get_as(&format!("/api/v1/chat/conversation/{second}"), &ada.token)
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get_json("/api/v1/chat/history", &ada.token).await,
            json!([])
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_ids_and_paging_parameters_are_422() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let id = app.seed_conversation(&ada, "x", 1).await;
        for path in [
            "/api/v1/chat/conversation/not-a-uuid".to_owned(),
            "/api/v1/chat/history?limit=0".to_owned(),
            "/api/v1/chat/history?limit=101".to_owned(),
            "/api/v1/chat/history?offset=-1".to_owned(),
            "/api/v1/chat/history?offset=9223372036854775808".to_owned(),
            format!("/api/v1/chat/conversation/{id}?offset=18446744073709551615"),
            format!("/api/v1/chat/conversation/{id}?limit=201"),
            format!("/api/v1/chat/conversation/{id}?offset=1&before=3"),
        ] {
            let response = app.get_as(&path, &ada.token).await;
            assert_eq!(response.status(), 422, "{path}");
            let body: Value = response.json().await.unwrap();
            assert!(
                body["error"]["details"]["fields"][0]["field"].is_string(),
                "{path}: {body}"
            );
        }
        let rename = app
            .with_cookie(
                Method::PATCH,
                &format!("/api/v1/chat/conversation/{id}/rename"),
                &ada.token,
            )
            .json(&json!({"title": ""}))
            .send()
            .await
            .unwrap();
        assert_eq!(rename.status(), 422);
        let past_end: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{id}?offset=50"),
                &ada.token,
            )
            .await;
        assert_eq!(
            (
                past_end["messages"].as_array().unwrap().len(),
                past_end["has_more"].as_bool()
            ),
            (0, Some(false))
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_general_limit_guards_authenticated_routes() {
    for app in spawn_apps_with(|settings| settings.rate_limits.general_per_window = 2).await {
        let ada = app.register("ada").await;
        assert_eq!(
            app.get_as("/api/v1/chat/history", &ada.token)
                .await
                .status(),
            200
        );
        assert_eq!(
            app.get_as("/api/v1/auth/me", &ada.token).await.status(),
            200
        );
        let limited = app.get_as("/api/v1/chat/history", &ada.token).await;
        assert_eq!(limited.status(), 429);
        assert!(limited.headers().contains_key("retry-after"));
        let bob = app.register("bob").await;
        assert_eq!(
            app.get_as("/api/v1/auth/me", &bob.token).await.status(),
            200,
            "limits are per user"
        );
        app.finish().await;
    }
}
