//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, built from one table of the
//! routes ([`OPERATIONS`]) and a few schemas. Written by hand rather than derived with `utoipa`:
//! the derive would annotate every handler and pull its macro crates into the build, for a
//! document of about thirty operations. A unit test checks that every route of
//! [`crate::api::router`] is in the table, with its methods.

use serde_json::{Map, Value, json};

/// One operation: method, path (as the router writes it), id, summary, query parameters,
/// request body, response.
pub struct Operation {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The full path, with `{param}` segments.
    pub path: &'static str,
    /// The operation's id.
    pub id: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// The request body: a schema name under `components/schemas`, `binary` (raw bytes), or
    /// nothing.
    pub body: Option<&'static str>,
    /// The success response: a schema name, `binary`, `text`, `events` (Server-Sent Events).
    pub response: &'static str,
    /// Answers without a token.
    pub public: bool,
}

const fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        id,
        summary,
        query: &[],
        body: None,
        response: "Object",
        public: false,
    }
}

impl Operation {
    const fn body(mut self, schema: &'static str) -> Self {
        self.body = Some(schema);
        self
    }
    const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
    const fn response(mut self, response: &'static str) -> Self {
        self.response = response;
        self
    }
    const fn public(mut self) -> Self {
        self.public = true;
        self
    }
}

/// Every route the server answers.
pub const OPERATIONS: &[Operation] = &[
    op("get", "/healthz", "healthz", "Liveness: `ok` while the process serves.")
        .response("text")
        .public(),
    op("get", "/readyz", "readyz", "Readiness: the database answers.").public(),
    op(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics (text exposition); a bearer token when `metrics_token` is set.",
    )
    .response("text")
    .public(),
    op(
        "get",
        "/api/v1/openapi.json",
        "openapi",
        "This document.",
    )
    .public(),
    op("post", "/api/v1/register", "register", "Create an account (when registration is open); returns a token.")
        .body("Credentials")
        .response("Login")
        .public(),
    op("post", "/api/v1/login", "login", "Log in; returns a bearer token and its expiry. Rate-limited per account and address.")
        .body("Credentials")
        .response("Login")
        .public(),
    op("post", "/api/v1/logout", "logout", "Revoke the token used."),
    op("get", "/api/v1/me", "me", "The caller."),
    op("post", "/api/v1/users", "addUser", "An admin adds a user.").body("NewUser"),
    op("post", "/api/v1/password", "changePassword", "Change one's password; other logins end.")
        .body("PasswordChange"),
    op("get", "/api/v1/audit", "auditLog", "The audit log, newest first (admins).")
        .query(&[("limit", "Entries (default 100).")]),
    op("post", "/api/v1/users/{name}/disable", "disableUser", "An admin disables a user (logging them out)."),
    op("post", "/api/v1/users/{name}/enable", "enableUser", "An admin enables a user."),
    op("post", "/api/v1/models", "uploadModel", "Upload a workbook (raw body, streamed, size-capped, parsed): a new model, or a new version of the caller's model of that name.")
        .query(&[("name", "The model's name (default: the file name without extension)."), ("file_name", "The uploaded file's name (its extension picks the format).")])
        .body("binary"),
    op("get", "/api/v1/models", "listModels", "Models the caller sees.")
        .query(&[("search", "Part of the name.")]),
    op("get", "/api/v1/models/{id}", "getModel", "A model with its versions and parse summaries."),
    op("delete", "/api/v1/models/{id}", "deleteModel", "Delete a model (owner)."),
    op("post", "/api/v1/models/{id}/versions", "uploadVersion", "Upload a new version of a model (editor).")
        .query(&[("file_name", "The uploaded file's name.")])
        .body("binary"),
    op("get", "/api/v1/models/{id}/download", "downloadModel", "The workbook file.")
        .query(&[("version", "The version (default: the latest).")])
        .response("binary"),
    op("post", "/api/v1/models/{id}/shares", "shareModel", "Share a model (owner).").body("Share"),
    op("delete", "/api/v1/models/{id}/shares/{user}", "unshareModel", "Revoke a model's share (owner)."),
    op("post", "/api/v1/runs", "startRun", "Start a run: it is queued and a worker runs it.")
        .body("RunRequest"),
    op("get", "/api/v1/runs", "listRuns", "Runs the caller sees.")
        .query(&[("model", "Only this model's runs.")]),
    op("get", "/api/v1/runs/{id}", "getRun", "A run's status and progress."),
    op("get", "/api/v1/runs/{id}/report", "getReport", "The report of a run that succeeded (the `mcsim run --format json` document)."),
    op("get", "/api/v1/runs/{id}/samples", "getSamples", "The samples file (Parquet).")
        .response("binary"),
    op("get", "/api/v1/runs/{id}/events", "runEvents", "Progress as Server-Sent Events: `progress` events, then one `end`.")
        .response("events"),
    op("post", "/api/v1/runs/{id}/cancel", "cancelRun", "Cancel a queued or running run (editor)."),
    op("get", "/api/v1/runs/{id}/compare/{other}", "compareRuns", "Run `other` compared with run `id`, from their samples."),
    op("get", "/api/v1/runs/{id}/plot", "plotRun", "A chart of a run (as `mcsim results --plot`).")
        .query(&[("chart", "histogram, cdf or tornado."), ("output", "The output (default: the first)."), ("format", "svg (default) or png.")])
        .response("binary"),
    op("post", "/api/v1/runs/{id}/shares", "shareRun", "Share a run (owner).").body("Share"),
    op("delete", "/api/v1/runs/{id}/shares/{user}", "unshareRun", "Revoke a run's share (owner)."),
    op("get", "/api/v1/notifications", "getNotifications", "The caller's notification settings.")
        .response("NotificationSettings"),
    op("put", "/api/v1/notifications", "setNotifications", "Change the caller's notification settings (fields given are changed; null clears).")
        .body("NotificationUpdate")
        .response("NotificationSettings"),
];

/// The component schemas.
fn schemas() -> Value {
    let string = json!({"type": "string"});
    json!({
        "Object": {"type": "object"},
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "not_found, unauthorized, token_expired, too_large, bad_request, ..."},
                    "message": {"type": "string"},
                    "details": {}
                }
            }}
        },
        "Credentials": {
            "type": "object", "additionalProperties": false,
            "required": ["username", "password"],
            "properties": {"username": string, "password": string}
        },
        "Login": {
            "type": "object",
            "properties": {"token": string, "expires_at": {"type": "integer"}, "user": {"type": "object"}}
        },
        "NewUser": {
            "type": "object", "additionalProperties": false,
            "required": ["username", "password"],
            "properties": {"username": string, "password": string, "admin": {"type": "boolean"}}
        },
        "PasswordChange": {
            "type": "object", "additionalProperties": false,
            "required": ["old_password", "new_password"],
            "properties": {"old_password": string, "new_password": string}
        },
        "Share": {
            "type": "object", "additionalProperties": false,
            "required": ["user", "role"],
            "properties": {"user": string, "role": {"enum": ["viewer", "editor"]}}
        },
        "RunRequest": {
            "type": "object", "additionalProperties": false,
            "required": ["model"],
            "properties": {
                "model": {"type": "string", "description": "The model's id or name."},
                "version": {"type": "integer"},
                "iterations": {"type": "integer", "minimum": 1},
                "seed": {"type": "integer", "minimum": 0},
                "sampling": {"enum": ["lhs", "mc"]},
                "sets": {"type": "array", "items": {"type": "array", "items": string, "minItems": 2, "maxItems": 2}},
                "outputs": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}},
                "percentiles": {"type": "array", "items": {"type": "number"}},
                "risk_levels": {"type": "array", "items": {"type": "number"}},
                "targets": {"type": "array", "items": {"type": "number"}},
                "fail_if": {"type": "array", "items": string},
                "until_converged": {"type": "number"},
                "config": {"type": "string", "description": "The model file (TOML)."},
                "samples": {"type": "boolean"}
            }
        },
        "NotificationSettings": {
            "type": "object",
            "properties": {
                "email": {"type": ["string", "null"]},
                "email_enabled": {"type": "boolean"},
                "webhook_url": {"type": ["string", "null"]},
                "webhook_secret_set": {"type": "boolean"},
                "events": {"type": "array", "items": {"enum": ["succeeded", "failed", "cancelled"]}}
            }
        },
        "NotificationUpdate": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "email": {"type": ["string", "null"]},
                "email_enabled": {"type": "boolean"},
                "webhook_url": {"type": ["string", "null"], "format": "uri"},
                "webhook_secret": {"type": "string", "minLength": 16, "maxLength": 256},
                "events": {"type": "array", "items": {"enum": ["succeeded", "failed", "cancelled"]}}
            }
        }
    })
}

fn content(kind: &str) -> Value {
    match kind {
        "binary" => {
            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})
        }
        "text" => json!({"text/plain": {"schema": {"type": "string"}}}),
        "events" => json!({"text/event-stream": {"schema": {"type": "string"}}}),
        schema => {
            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}})
        }
    }
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let mut parameters: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(o.query.iter().map(|(name, what)| {
            json!({"name": name, "in": "query", "required": false, "description": what, "schema": {"type": "string"}})
        }));
        let mut operation = json!({
            "operationId": o.id,
            "summary": o.summary,
            "responses": {
                "200": {"description": "Success.", "content": content(o.response)},
                "default": {"description": "An error.", "content": content("Error")}
            }
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = o.body {
            operation["requestBody"] = json!({"required": true, "content": content(body)});
        }
        if o.public {
            operation["security"] = json!([]);
        }
        let entry = paths
            .entry(o.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mcsim team server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Accounts, workbooks, queued Monte Carlo runs and their results. \
                Every operation needs `Authorization: Bearer TOKEN` (from /api/v1/login) unless \
                marked otherwise. An object the caller may not see answers 404."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearer": []}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (method, full path) pairs that `api::router` registers, read from its source: the
    /// routes of the API router get the `/api/v1` prefix it is nested under.
    fn router_routes() -> Vec<(String, String)> {
        let source = include_str!("api.rs");
        let start = source.find("pub fn router(").unwrap();
        let end = start + source[start..].find("\n}\n").unwrap();
        let body = &source[start..end];
        let nested_at = body
            .find("Router::new()\n        .route(\"/healthz\"")
            .unwrap();
        let mut routes = Vec::new();
        let mut rest = body;
        let mut offset = 0;
        while let Some(i) = rest.find(".route(") {
            let from = i + ".route(".len();
            // The call's text up to the matching parenthesis.
            let mut depth = 1;
            let mut len = 0;
            for (j, c) in rest[from..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    len = j;
                    break;
                }
            }
            let call = &rest[from..from + len];
            let path = call.split('"').nth(1).unwrap().to_owned();
            let full = if offset + i < nested_at {
                format!("/api/v1{path}")
            } else {
                path
            };
            // A method router: `get(`, `.post(`, `routing::delete(`, not part of a longer name.
            for method in ["get", "post", "put", "delete"] {
                let pattern = format!("{method}(");
                let routed = call.match_indices(&pattern).any(|(k, _)| {
                    call[..k]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
                });
                if routed {
                    routes.push((method.to_owned(), full.clone()));
                }
            }
            offset += from + len;
            rest = &rest[from + len..];
        }
        routes
    }

    #[test]
    fn every_route_is_documented() {
        let routes = router_routes();
        assert!(
            routes.len() >= 30,
            "found only {} routes: {routes:?}",
            routes.len()
        );
        let doc = document();
        for (method, path) in &routes {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
        // And nothing documented that the router does not serve.
        for o in OPERATIONS {
            assert!(
                routes.iter().any(|(m, p)| m == o.method && p == o.path),
                "{} {} is documented but not routed",
                o.method,
                o.path
            );
        }
    }

    #[test]
    fn references_resolve() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "schema {name} is referenced but not defined"
            );
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
