//! The OpenAPI 3 description of every route, served at `/openapi.json`. The route table
//! below is the single list both this document and the tests read; a test checks that every
//! entry is routed and every routed path is described.

use serde_json::{Map, Value, json};

/// One operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The path, with `{param}` placeholders.
    pub path: &'static str,
    /// The HTTP method, lowercase.
    pub method: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Whether it needs the auth cookie or a bearer token.
    pub authenticated: bool,
    /// The request body schema, if any.
    pub body: Option<&'static str>,
    /// The success status and what it returns.
    pub success: (&'static str, &'static str),
    /// Error statuses it may answer.
    pub errors: &'static [&'static str],
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    authenticated: bool,
    body: Option<&'static str>,
    success: (&'static str, &'static str),
    errors: &'static [&'static str],
) -> Operation {
    Operation {
        path,
        method,
        summary,
        authenticated,
        body,
        success,
        errors,
    }
}

/// Every operation the server routes.
pub const OPERATIONS: &[Operation] = &[
    op(
        "post",
        "/api/v1/auth/register",
        "Register and sign in",
        false,
        Some("Register"),
        ("201", "TokenResponse"),
        &["400", "409", "413", "422", "429"],
    ),
    op(
        "post",
        "/api/v1/auth/login",
        "Sign in",
        false,
        Some("Login"),
        ("200", "TokenResponse"),
        &["400", "401", "422", "429"],
    ),
    op(
        "get",
        "/api/v1/auth/me",
        "The signed-in user",
        true,
        None,
        ("200", "User"),
        &["401", "429"],
    ),
    op(
        "post",
        "/api/v1/auth/refresh",
        "A fresh token",
        true,
        None,
        ("200", "TokenResponse"),
        &["401", "429"],
    ),
    op(
        "post",
        "/api/v1/auth/logout",
        "Clear the auth cookie",
        false,
        None,
        ("200", "Message"),
        &[],
    ),
    op(
        "post",
        "/api/v1/chat/stream",
        "Chat: stream a reply as Server-Sent Events",
        true,
        Some("ChatRequest"),
        ("200", "EventStream"),
        &["400", "401", "404", "413", "422", "429"],
    ),
    op(
        "get",
        "/api/v1/chat/stream/{stream_id}",
        "Re-attach to a turn (Last-Event-ID or ?after=)",
        true,
        None,
        ("200", "EventStream"),
        &["401", "404", "422"],
    ),
    op(
        "post",
        "/api/v1/chat/stream/{stream_id}/stop",
        "Stop a generating turn",
        true,
        None,
        ("200", "Success"),
        &["401", "404"],
    ),
    op(
        "get",
        "/api/v1/chat/history",
        "Conversations, newest first (offset, limit)",
        true,
        None,
        ("200", "History"),
        &["401", "422", "429"],
    ),
    op(
        "delete",
        "/api/v1/chat/conversations",
        "Delete all conversations",
        true,
        None,
        ("200", "Delete"),
        &["401", "429"],
    ),
    op(
        "get",
        "/api/v1/chat/conversation/{id}",
        "A conversation and a page of messages (limit, offset, before, after)",
        true,
        None,
        ("200", "ConversationDetail"),
        &["401", "404", "422", "429"],
    ),
    op(
        "delete",
        "/api/v1/chat/conversation/{id}",
        "Delete a conversation",
        true,
        None,
        ("200", "Delete"),
        &["401", "404", "422", "429"],
    ),
    op(
        "patch",
        "/api/v1/chat/conversation/{id}/rename",
        "Rename a conversation",
        true,
        Some("Rename"),
        ("200", "Success"),
        &["400", "401", "404", "422", "429"],
    ),
    op(
        "get",
        "/api/v1/usage",
        "Token usage by UTC day and by provider and model (from, to: YYYY-MM-DD), with the quota",
        true,
        None,
        ("200", "Usage"),
        &["401", "422", "429"],
    ),
    op(
        "get",
        "/api/v1/chat/models",
        "Models by provider",
        false,
        None,
        ("200", "Models"),
        &[],
    ),
    op(
        "get",
        "/api/v1/chat/methods",
        "Sentiment methods",
        false,
        None,
        ("200", "Methods"),
        &[],
    ),
    op(
        "get",
        "/",
        "Service banner",
        false,
        None,
        ("200", "Object"),
        &[],
    ),
    op(
        "get",
        "/health/providers",
        "Each provider's circuit breaker on this instance (operations access)",
        false,
        None,
        ("200", "Health"),
        &["401", "404"],
    ),
    op(
        "get",
        "/health",
        "Health of every dependency (503 when the database is down)",
        false,
        None,
        ("200", "Health"),
        &["503"],
    ),
    op(
        "get",
        "/health/live",
        "Liveness",
        false,
        None,
        ("200", "Object"),
        &[],
    ),
    op(
        "get",
        "/health/ready",
        "Readiness",
        false,
        None,
        ("200", "Object"),
        &["503"],
    ),
    op(
        "get",
        "/health/db",
        "Database health",
        false,
        None,
        ("200", "Object"),
        &["503"],
    ),
    op(
        "get",
        "/health/cache",
        "Cache health",
        false,
        None,
        ("200", "Object"),
        &[],
    ),
    op(
        "get",
        "/health/info",
        "Process facts (debug mode only)",
        false,
        None,
        ("200", "Object"),
        &["404"],
    ),
    op(
        "get",
        "/health/info/summary",
        "Process facts (debug mode only)",
        false,
        None,
        ("200", "Object"),
        &["404"],
    ),
    op(
        "get",
        "/metrics",
        "Prometheus metrics (bearer token, or loopback only)",
        false,
        None,
        ("200", "Text"),
        &["401", "404"],
    ),
    op(
        "get",
        "/openapi.json",
        "This document",
        false,
        None,
        ("200", "Object"),
        &[],
    ),
];

fn schema(name: &str) -> Value {
    match name {
        "EventStream" | "Text" => json!({"type": "string"}),
        "Object" => json!({"type": "object"}),
        "Methods" => json!({"type": "array", "items": {"type": "string"}}),
        "History" => {
            json!({"type": "array", "items": {"$ref": "#/components/schemas/ConversationSummary"}})
        }
        other => json!({"$ref": format!("#/components/schemas/{other}")}),
    }
}

fn components() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    json!({
        "securitySchemes": {
            "cookie": {"type": "apiKey", "in": "cookie", "name": "access_token"},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message"], "properties": {"message": string, "details": {"type": "object"}}}}},
            "User": {"type": "object", "properties": {"id": integer, "email": string, "username": string, "created_at": string}},
            "TokenResponse": {"type": "object", "properties": {"access_token": string, "token_type": string, "expires_in": integer, "user": {"$ref": "#/components/schemas/User"}}},
            "Register": {"type": "object", "required": ["email", "username", "password"], "properties": {"email": string, "username": string, "password": string}},
            "Login": {"type": "object", "required": ["email", "password"], "properties": {"email": string, "password": string}},
            "Rename": {"type": "object", "required": ["title"], "properties": {"title": string}},
            "ChatRequest": {"type": "object", "properties": {
                "message": string, "messages": {"type": "array", "items": {"type": "object"}}, "conversation_id": string,
                "provider": string, "model": string, "sentiment_method": string, "model_settings": {"type": "object"}}},
            "ConversationSummary": {"type": "object", "properties": {"id": string, "title": string, "created_at": string, "updated_at": string, "message_count": integer}},
            "ConversationDetail": {"type": "object", "properties": {
                "id": string, "title": string, "created_at": string, "updated_at": string, "total_messages": integer,
                "limit": integer, "offset": integer, "has_more": {"type": "boolean"}, "messages": {"type": "array", "items": {"type": "object"}}}},
            "Delete": {"type": "object", "properties": {"success": {"type": "boolean"}, "message": string, "deleted_count": integer}},
            "Success": {"type": "object", "properties": {"success": {"type": "boolean"}, "message": string}},
            "Message": {"type": "object", "properties": {"message": string}},
            "Models": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}},
            "Health": {"type": "object"},
            "Usage": {"type": "object", "properties": {
                "from": string, "to": string, "total": {"type": "object"},
                "by_day": {"type": "array", "items": {"type": "object"}},
                "by_model": {"type": "array", "items": {"type": "object"}},
                "quota": {"type": "object", "nullable": true}}}
        }
    })
}

/// The document.
#[must_use]
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for operation in OPERATIONS {
        let mut responses = Map::new();
        let (status, body) = operation.success;
        let media = if body == "EventStream" {
            "text/event-stream"
        } else if body == "Text" {
            "text/plain"
        } else {
            "application/json"
        };
        responses.insert(
            status.to_owned(),
            json!({"description": "Success", "content": {media: {"schema": schema(body)}}}),
        );
        for error in operation.errors {
            responses.insert((*error).to_owned(), json!({"description": "Error", "content": {"application/json": {"schema": schema("Error")}}}));
        }
        let mut entry = json!({"summary": operation.summary, "operationId": format!("{}{}", operation.method, operation.path.replace(['/', '{', '}', '.'], "_")), "responses": responses});
        let parameters: Vec<Value> = operation
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !parameters.is_empty() {
            entry["parameters"] = json!(parameters);
        }
        if let Some(body) = operation.body {
            entry["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema(body)}}});
        }
        if operation.authenticated {
            entry["security"] = json!([{"cookie": []}, {"bearer": []}]);
        }
        let item = paths
            .entry(operation.path.to_owned())
            .or_insert_with(|| json!({}));
        item[operation.method] = entry;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Lia", "version": env!("CARGO_PKG_VERSION"), "description": "Chat with sentiment, over Server-Sent Events."},
        "paths": paths,
        "components": components(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `resource("...")` registered in the route table, with its methods.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("routes/mod.rs");
        let mut routes = BTreeSet::new();
        for block in source.split(".service(").skip(1) {
            let Some(path) = block.split('"').nth(1) else {
                continue;
            };
            for method in ["get", "post", "patch", "delete", "put"] {
                if block.contains(&format!("web::{method}()")) {
                    routes.insert((path.to_owned(), method.to_owned()));
                }
            }
        }
        routes
    }

    #[test]
    fn the_document_describes_exactly_the_routed_operations() {
        let described: BTreeSet<(String, String)> = OPERATIONS
            .iter()
            .map(|op| (op.path.to_owned(), op.method.to_owned()))
            .collect();
        assert_eq!(described, routed());
    }

    #[test]
    fn the_document_is_well_formed() {
        let document = document();
        assert_eq!(document["openapi"], "3.0.3");
        assert!(document["info"]["title"].is_string() && document["info"]["version"].is_string());
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(
                    !operation["responses"].as_object().unwrap().is_empty(),
                    "{method} {path}"
                );
                let declared: BTreeSet<&str> = operation["parameters"]
                    .as_array()
                    .map_or_else(BTreeSet::new, |p| {
                        p.iter().map(|p| p["name"].as_str().unwrap()).collect()
                    });
                let placeholders: BTreeSet<&str> = path
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                    .collect();
                assert_eq!(declared, placeholders, "{method} {path}");
                for reference in operation.to_string().split("#/components/schemas/").skip(1) {
                    let name = reference.split('"').next().unwrap();
                    assert!(
                        schemas.contains_key(name),
                        "{method} {path} refers to a missing schema {name}"
                    );
                }
            }
        }
    }
}
