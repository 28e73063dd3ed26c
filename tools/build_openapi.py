#!/usr/bin/env python3
"""Write docs/openapi.json, the OpenAPI 3.1 description of every Weir HTTP route.

The spec is built here from small helpers, because most routes share their
error responses, security and list envelope. `make docs` runs this script and
then regenerates the Postman collection from the written file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "docs" / "openapi.json"


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties, required=()):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items):
    return {"type": "array", "items": items}


def list_of(name):
    return obj({"data": array(ref(name))}, ["data"])


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
UNIX_SECONDS = {"type": "integer", "description": "Unix time in seconds."}
UNIX_MILLIS = {"type": "integer", "description": "Unix time in milliseconds."}
TIME_FILTER = {"type": "string", "description": "Unix seconds, or a UTC time like 2026-12-04T10:00:00Z or 2026-12-04."}
ROLE = {"type": "string", "enum": ["viewer", "user", "admin", "superadmin"]}

ERROR_DESCRIPTIONS = {
    "400": "The request is invalid; `error.param` names the field.",
    "401": "The API key or session is missing, unknown, expired or revoked.",
    "403": "The caller's role or key does not allow this route or model.",
    "404": "The object does not exist.",
    "409": "An object with this name already exists.",
    "429": "A quota is exhausted; `Retry-After` gives the seconds to wait.",
    "502": "The upstream failed.",
    "503": "No healthy upstream is available; `Retry-After` may say when to retry.",
}


def error_response(status):
    response = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if status in ("429", "503"):
        response["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                               "schema": INTEGER}}
    return response


def json_body(schema, description=None):
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def ok(schema, description="Success.", stream_schema=None, status="200"):
    content = {"application/json": {"schema": schema}}
    if stream_schema is not None:
        content["text/event-stream"] = {
            "schema": {"type": "string",
                       "description": "Server-sent events when `stream` is true: each `data:` line is a "
                                      "JSON " + stream_schema + ", the last one is `data: [DONE]`."},
        }
    return {status: {"description": description, "content": content}}


def created(schema):
    return ok(schema, "Created.", status="201")


def operation(operation_id, summary, tag, responses, errors=("401", "403"), body=None, parameters=None,
              public=False, description=None):
    result = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": dict(responses)}
    if description:
        result["description"] = description
    for status in errors:
        result["responses"][status] = error_response(status)
    if body is not None:
        result["requestBody"] = body
    if parameters:
        result["parameters"] = parameters
    if public:
        result["security"] = []
    return result


def path_parameter(name, description, schema=STRING):
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def query_parameter(name, description, schema=STRING):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


SCHEMAS = {
    "Error": obj({"error": obj({
        "message": STRING, "type": STRING, "code": nullable(STRING), "param": nullable(STRING),
    }, ["message", "type"])}, ["error"]),
    "ChatMessage": obj({"role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
                        "content": nullable(STRING)}, ["role", "content"]),
    "ChatCompletionRequest": obj({
        "model": STRING, "messages": array(ref("ChatMessage")), "stream": BOOLEAN,
        "temperature": NUMBER, "top_p": NUMBER, "max_tokens": INTEGER,
        "stop": {"anyOf": [STRING, array(STRING)]},
        "stream_options": obj({"include_usage": BOOLEAN}),
    }, ["model", "messages"]),
    "Usage": obj({"prompt_tokens": INTEGER, "completion_tokens": INTEGER, "total_tokens": INTEGER}),
    "ChatCompletion": obj({
        "id": STRING, "object": {"const": "chat.completion"}, "created": INTEGER, "model": STRING,
        "choices": array(obj({"index": INTEGER, "message": ref("ChatMessage"), "finish_reason": nullable(STRING)})),
        "usage": ref("Usage"),
    }, ["id", "object", "model", "choices"]),
    "ChatCompletionChunk": obj({
        "id": STRING, "object": {"const": "chat.completion.chunk"}, "created": INTEGER, "model": STRING,
        "choices": array(obj({"index": INTEGER, "delta": obj({"role": STRING, "content": STRING}),
                              "finish_reason": nullable(STRING)})),
        "usage": nullable(ref("Usage")),
    }, ["id", "object", "choices"]),
    "CompletionRequest": obj({
        "model": STRING, "prompt": {"anyOf": [STRING, array(STRING)]}, "max_tokens": INTEGER,
        "temperature": NUMBER, "stream": BOOLEAN,
    }, ["model", "prompt"]),
    "Completion": obj({
        "id": STRING, "object": {"const": "text_completion"}, "created": INTEGER, "model": STRING,
        "choices": array(obj({"index": INTEGER, "text": STRING, "finish_reason": nullable(STRING)})),
        "usage": ref("Usage"),
    }, ["id", "object", "choices"]),
    "EmbeddingRequest": obj({"model": STRING, "input": {"anyOf": [STRING, array(STRING)]}}, ["model", "input"]),
    "EmbeddingList": obj({
        "object": {"const": "list"}, "model": STRING, "usage": ref("Usage"),
        "data": array(obj({"object": {"const": "embedding"}, "index": INTEGER, "embedding": array(NUMBER)})),
    }, ["data"]),
    "Model": obj({"id": STRING, "object": {"const": "model"}, "created": INTEGER, "owned_by": STRING},
                 ["id", "object"]),
    "ModelList": obj({"object": {"const": "list"}, "data": array(ref("Model"))}, ["object", "data"]),
    "ConversationSummary": obj({"id": INTEGER, "title": STRING, "model": STRING,
                                "created_at": UNIX_SECONDS, "updated_at": UNIX_SECONDS}, ["id"]),
    "ConversationMessage": obj({"role": STRING, "content": STRING, "created_at": UNIX_SECONDS}, ["role", "content"]),
    "Conversation": {"allOf": [ref("ConversationSummary"),
                               obj({"messages": array(ref("ConversationMessage"))}, ["messages"])]},
    "ConversationCreate": obj({"title": STRING, "model": STRING}),
    "ConversationMessageCreate": obj({"content": STRING, "model": STRING, "stream": BOOLEAN,
                                      "temperature": NUMBER, "max_tokens": INTEGER}, ["content"]),
    "Deleted": obj({"id": INTEGER, "deleted": {"const": True}}, ["id", "deleted"]),
    "Quota": {**obj({"requests_per_second": nullable(NUMBER), "burst": nullable(NUMBER),
                     "tokens_per_minute": nullable(INTEGER), "daily_tokens": nullable(INTEGER)}),
              "description": "Per-user overrides of the role's limits; null uses the role default."},
    "User": obj({"id": INTEGER, "name": STRING, "role": ROLE, "team": nullable(STRING), "created_at": UNIX_SECONDS,
                 "disabled": BOOLEAN, "has_password": BOOLEAN, "quota": ref("Quota")}, ["id", "name", "role"]),
    "UserCreate": obj({"name": STRING, "role": ROLE, "team": STRING,
                       "password": {"type": "string", "description": "Enables sign-in at /auth/login."}},
                      ["name", "role"]),
    "UserUpdate": obj({"role": ROLE, "team": STRING, "disabled": BOOLEAN, "quota": ref("Quota"), "password": STRING}),
    "Me": obj({"user": obj({"id": INTEGER, "name": STRING, "role": ROLE, "team": STRING}),
               "key": nullable(obj({"id": INTEGER, "prefix": STRING}))}, ["user"]),
    "Team": obj({"id": INTEGER, "name": STRING, "created_at": UNIX_SECONDS}, ["id", "name"]),
    "TeamCreate": obj({"name": STRING}, ["name"]),
    "ApiKey": obj({"id": INTEGER, "prefix": STRING, "user_id": INTEGER, "name": STRING, "created_at": UNIX_SECONDS,
                   "expires_at": nullable(UNIX_SECONDS), "revoked_at": nullable(UNIX_SECONDS),
                   "models": {**array(STRING), "description": "Models the key may use; empty means every model."}},
                  ["id", "prefix", "user_id"]),
    "ApiKeyCreated": {"allOf": [ref("ApiKey"), obj({"key": {
        "type": "string", "description": "The secret `wr-...` key. It is returned only in this response."}},
        ["key"])]},
    "ApiKeyCreate": obj({"user_id": INTEGER, "name": STRING, "expires_in_days": INTEGER, "models": array(STRING)}),
    "Revoked": obj({"id": INTEGER, "revoked": {"const": True}}, ["id", "revoked"]),
    "AuditEvent": obj({
        "id": INTEGER, "time": UNIX_MILLIS, "request_id": STRING, "user_id": INTEGER, "user": STRING,
        "team": STRING, "key_prefix": STRING, "role": STRING, "client_ip": STRING, "method": STRING,
        "route": STRING, "model": STRING, "upstream": STRING,
        "status": INTEGER, "error_code": STRING, "latency_ms": INTEGER, "ttft_ms": nullable(INTEGER),
        "prompt_tokens": INTEGER, "completion_tokens": INTEGER, "cached_tokens": INTEGER,
        "reasoning_tokens": INTEGER, "tokens_estimated": BOOLEAN, "params": {"type": "object"},
        "request_summary": STRING, "response_summary": STRING,
    }, ["id", "time", "route", "status"]),
    "AuditPage": obj({"data": array(ref("AuditEvent")), "next_cursor": nullable(STRING)}, ["data"]),
    "ModelParams": obj({"default_max_tokens": INTEGER, "max_tokens_limit": INTEGER, "temperature_min": NUMBER,
                        "temperature_max": NUMBER, "system_prompt": nullable(STRING)}),
    "UpstreamStatus": obj({"id": STRING, "url": STRING, "version": STRING, "weight": NUMBER, "canary_weight": NUMBER,
                           "state": {"type": "string", "enum": ["healthy", "ejected", "half_open"],
                                     "description": "ejected: the circuit is open after consecutive failures; "
                                                    "half_open: one probe request is allowed."},
                           "outstanding": INTEGER, "ewma_ms": NUMBER, "consecutive_failures": INTEGER,
                           "requests": INTEGER, "failures": INTEGER},
                          ["id", "url", "state"]),
    "ModelConfig": obj({"name": STRING, "params": ref("ModelParams"), "upstreams": array(ref("UpstreamStatus")),
                        "registered_at_runtime": BOOLEAN}, ["name"]),
    "ModelUpdate": obj({"params": ref("ModelParams"),
                        "upstream_weights": {"type": "object", "additionalProperties": NUMBER,
                                             "description": "Upstream id to its new weight."}}),
    "ModelCreate": obj({"name": STRING, "upstreams": array(obj({"url": STRING, "weight": NUMBER}, ["url"]))},
                       ["name", "upstreams"]),
    "UsageRow": obj({"key": STRING, "requests": INTEGER, "errors": INTEGER, "prompt_tokens": INTEGER,
                     "completion_tokens": INTEGER}, ["key", "requests"]),
    "Anomaly": obj({"time": INTEGER, "kind": {"type": "string",
                                              "enum": ["failed_auth_block", "request_spike", "quota_hammering"]},
                    "subject": STRING, "detail": STRING}, ["time", "kind", "subject"]),
    "Health": obj({"status": STRING}),
    "LoginRequest": obj({"username": STRING, "password": STRING}, ["username", "password"]),
    "LoginResponse": obj({"user": obj({"id": INTEGER, "name": STRING, "role": ROLE, "team": nullable(STRING)})},
                         ["user"]),
}

ID_PARAMETER = path_parameter("id", "The object's id.", INTEGER)

PATHS = {
    "/v1/chat/completions": {"post": operation(
        "createChatCompletion", "Chat with a model (OpenAI-compatible)", "OpenAI-compatible",
        ok(ref("ChatCompletion"), stream_schema="ChatCompletionChunk"),
        errors=("400", "401", "403", "429", "502", "503"), body=json_body(ref("ChatCompletionRequest")))},
    "/v1/completions": {"post": operation(
        "createCompletion", "Complete a prompt (OpenAI-compatible)", "OpenAI-compatible",
        ok(ref("Completion")), errors=("400", "401", "403", "429", "502", "503"),
        body=json_body(ref("CompletionRequest")))},
    "/v1/embeddings": {"post": operation(
        "createEmbedding", "Embed text (OpenAI-compatible)", "OpenAI-compatible",
        ok(ref("EmbeddingList")), errors=("400", "401", "403", "429", "502", "503"),
        body=json_body(ref("EmbeddingRequest")))},
    "/v1/models": {"get": operation(
        "listModels", "List the models this key may use", "OpenAI-compatible", ok(ref("ModelList")),
        errors=("401",))},
    "/v1/conversations": {
        "post": operation("createConversation", "Start a conversation (role user and above)", "Conversations",
                          created(ref("Conversation")), errors=("400", "401", "403"),
                          body=json_body(ref("ConversationCreate"))),
        "get": operation("listConversations", "List the caller's conversations", "Conversations",
                         ok(list_of("ConversationSummary"))),
    },
    "/v1/conversations/{id}": {
        "parameters": [ID_PARAMETER],
        "get": operation("getConversation", "Read a conversation with its messages", "Conversations",
                         ok(ref("Conversation")), errors=("401", "403", "404")),
        "delete": operation("deleteConversation", "Delete a conversation", "Conversations",
                            ok(ref("Deleted")), errors=("401", "403", "404")),
    },
    "/v1/conversations/{id}/messages": {
        "parameters": [ID_PARAMETER],
        "post": operation(
            "sendConversationMessage", "Send a message and receive the assistant's reply", "Conversations",
            ok(ref("ChatCompletion"), stream_schema="ChatCompletionChunk"),
            errors=("400", "401", "403", "404", "429", "502", "503"),
            body=json_body(ref("ConversationMessageCreate")),
            description="Appends the user message, sends the whole history to the model and appends the reply."),
    },
    "/v1/ws": {"get": operation(
        "openWebSocket", "Open a WebSocket for streamed chat", "WebSocket",
        {"101": {"description": "Switching protocols. The message protocol is described in docs/websocket.md."}},
        errors=("401",),
        description="Authenticates with `Authorization: Bearer`, the session cookie, or an `auth` message "
                    "sent first (browsers cannot set headers on a WebSocket).")},
    "/auth/login": {"post": operation(
        "login", "Sign in with a username and password", "Sessions",
        {"200": {"description": "Signed in. The response sets the HttpOnly `weir_session` cookie.",
                 "content": {"application/json": {"schema": ref("LoginResponse")}},
                 "headers": {"Set-Cookie": {"schema": STRING}}}},
        errors=("400", "401", "429"), body=json_body(ref("LoginRequest")), public=True)},
    "/auth/logout": {"post": operation(
        "logout", "Sign out and end the session", "Sessions",
        {"200": {"description": "Signed out; the session cookie is cleared.",
                 "content": {"application/json": {"schema": obj({"ok": BOOLEAN})}}}},
        errors=(), public=True)},
    "/healthz": {"get": operation("health", "Liveness: the process is running", "Operations",
                                  ok(ref("Health")), errors=(), public=True)},
    "/readyz": {"get": operation(
        "readiness", "Readiness: the store is open and an upstream is healthy", "Operations",
        {**ok(ref("Health")), "503": {"description": "Not ready.",
                                      "content": {"application/json": {"schema": ref("Health")}}}},
        errors=(), public=True)},
    "/metrics": {"get": operation(
        "metrics", "Prometheus metrics", "Operations",
        {"200": {"description": "Prometheus text exposition format.",
                 "content": {"text/plain": {"schema": STRING}}}}, errors=(), public=True)},
    "/openapi.json": {"get": operation(
        "openapi", "This OpenAPI document", "Operations",
        {"200": {"description": "OpenAPI 3.1 JSON.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        errors=(), public=True)},
    "/admin/v1/me": {"get": operation("getMe", "The caller's user and key", "Admin", ok(ref("Me")),
                                      errors=("401",))},
    "/admin/v1/users": {
        "post": operation("createUser", "Create a user (admin: roles below admin)", "Admin",
                          created(ref("User")), errors=("400", "401", "403", "409"), body=json_body(ref("UserCreate"))),
        "get": operation("listUsers", "List users", "Admin", ok(list_of("User"))),
    },
    "/admin/v1/users/{id}": {
        "parameters": [ID_PARAMETER],
        "get": operation("getUser", "Read one user", "Admin", ok(ref("User")), errors=("401", "403", "404")),
        "patch": operation("updateUser", "Change a user's role, status, quota or password", "Admin",
                           ok(ref("User")), errors=("400", "401", "403", "404"), body=json_body(ref("UserUpdate"))),
    },
    "/admin/v1/teams": {
        "post": operation("createTeam", "Create a team", "Admin", created(ref("Team")),
                          errors=("400", "401", "403", "409"), body=json_body(ref("TeamCreate"))),
        "get": operation("listTeams", "List teams", "Admin", ok(list_of("Team"))),
    },
    "/admin/v1/keys": {
        "post": operation("createKey", "Create an API key (the secret is shown once)", "Admin",
                          created(ref("ApiKeyCreated")), errors=("400", "401", "403", "404"),
                          body=json_body(ref("ApiKeyCreate"))),
        "get": operation("listKeys", "List API keys", "Admin", ok(list_of("ApiKey")),
                         parameters=[query_parameter("user_id", "Only this user's keys.", INTEGER)]),
    },
    "/admin/v1/keys/{id}": {
        "parameters": [ID_PARAMETER],
        "delete": operation("revokeKey", "Revoke an API key", "Admin", ok(ref("Revoked")),
                            errors=("401", "403", "404")),
    },
    "/admin/v1/audit": {"get": operation(
        "searchAudit", "Search the audit log, newest first", "Admin", ok(ref("AuditPage")),
        errors=("400", "401", "403"),
        parameters=[
            query_parameter("user", "User name."),
            query_parameter("model", "Model name."),
            query_parameter("status", "HTTP status (e.g. 429), or a class 1 to 5 for 1xx to 5xx.", INTEGER),
            query_parameter("since", "Earliest time (inclusive).", TIME_FILTER),
            query_parameter("until", "Latest time (exclusive).", TIME_FILTER),
            query_parameter("q", "Full-text query over the summaries, route, error code, user and model."),
            query_parameter("limit", "Page size, 1 to 1000 (default 50).", INTEGER),
            query_parameter("cursor", "The `next_cursor` of the previous page."),
        ])},
    "/admin/v1/models": {
        "get": operation("listModelConfigs", "Models with parameters and upstream health", "Admin",
                         ok(list_of("ModelConfig"))),
        "post": operation("createModel", "Add a model and its upstreams (superadmin)", "Admin",
                          created(ref("ModelConfig")), errors=("400", "401", "403", "409"),
                          body=json_body(ref("ModelCreate"))),
    },
    "/admin/v1/models/{name}": {
        "parameters": [path_parameter("name", "The model name.")],
        "patch": operation("updateModel", "Change a model's parameters or upstream weights (admin)", "Admin",
                           ok(ref("ModelConfig")), errors=("400", "401", "403", "404"),
                           body=json_body(ref("ModelUpdate"))),
    },
    "/admin/v1/usage": {"get": operation(
        "getUsage", "Token usage per day, user or model", "Admin", ok(list_of("UsageRow")),
        errors=("400", "401", "403"),
        parameters=[
            query_parameter("group_by", "Grouping.", {"type": "string", "enum": ["day", "user", "model"]}),
            query_parameter("since", "Earliest time (inclusive).", TIME_FILTER),
            query_parameter("until", "Latest time (exclusive).", TIME_FILTER),
        ])},
    "/admin/v1/anomalies": {"get": operation(
        "listAnomalies", "Recent abusive or anomalous traffic, newest first", "Admin", ok(list_of("Anomaly")),
        errors=("401", "403"))},
}


def build_spec():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Weir gateway API",
            "version": "0.1.0",
            "description": "OpenAI-compatible model API, conversations, sessions and the admin API of Weir. "
                           "Errors are `{\"error\": {\"message\", \"type\", \"code\", \"param\"}}` with the "
                           "HTTP status. Roles: viewer (model API), user (+ conversations), admin (+ users, "
                           "keys, audit, model parameters), superadmin (everything).",
        },
        "servers": [{"url": "/", "description": "The gateway that serves this document."}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": name} for name in
                 ("OpenAI-compatible", "Conversations", "WebSocket", "Sessions", "Admin", "Operations")],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A `wr-...` API key."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "weir_session",
                                  "description": "Set by POST /auth/login."},
            },
            "schemas": SCHEMAS,
        },
    }


def main():
    text = json.dumps(build_spec(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        if not SPEC_PATH.exists() or SPEC_PATH.read_text() != text:
            sys.exit(f"{SPEC_PATH} is out of date: run `make docs` and commit the result")
        return
    SPEC_PATH.write_text(text)
    print(f"wrote {SPEC_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
