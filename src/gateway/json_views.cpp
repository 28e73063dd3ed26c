#include "gateway/json_views.h"

namespace weir {

void WriteUser(json::Writer& writer, const User& user) {
  writer.StartObject();
  json::Field(writer, "id", user.id);
  json::Field(writer, "name", user.name);
  json::Field(writer, "role", RoleName(user.role));
  writer.Key("team");
  if (user.team_name.empty()) {
    writer.Null();
  } else {
    writer.String(user.team_name);
  }
  json::Field(writer, "created_at", user.created_at);
  json::FieldBool(writer, "disabled", user.disabled);
  json::FieldBool(writer, "has_password", !user.password_hash.empty());
  writer.Key("quota");
  writer.StartObject();
  writer.Key("requests_per_second");
  user.quota.requests_per_second ? writer.Double(*user.quota.requests_per_second) : writer.Null();
  writer.Key("burst");
  user.quota.burst ? writer.Double(*user.quota.burst) : writer.Null();
  writer.Key("tokens_per_minute");
  user.quota.tokens_per_minute ? writer.Int64(*user.quota.tokens_per_minute) : writer.Null();
  writer.Key("daily_tokens");
  user.quota.daily_tokens ? writer.Int64(*user.quota.daily_tokens) : writer.Null();
  writer.EndObject();
  writer.EndObject();
}

void WriteKey(json::Writer& writer, const ApiKey& key) {
  writer.StartObject();
  json::Field(writer, "id", key.id);
  json::Field(writer, "prefix", key.prefix);
  json::Field(writer, "user_id", key.user_id);
  json::Field(writer, "name", key.name);
  json::Field(writer, "created_at", key.created_at);
  writer.Key("expires_at");
  key.expires_at ? writer.Int64(key.expires_at) : writer.Null();
  writer.Key("revoked_at");
  key.revoked_at ? writer.Int64(key.revoked_at) : writer.Null();
  writer.Key("models");
  writer.StartArray();
  for (const auto& model : key.models) writer.String(model);
  writer.EndArray();
  writer.EndObject();
}

void WriteAuditEvent(json::Writer& writer, const AuditEvent& event) {
  writer.StartObject();
  json::Field(writer, "id", event.id);
  json::Field(writer, "time", event.time_ms);
  json::Field(writer, "request_id", event.request_id);
  json::Field(writer, "user_id", event.user_id);
  json::Field(writer, "user", event.user);
  json::Field(writer, "team", event.team);
  json::Field(writer, "key_prefix", event.key_prefix);
  json::Field(writer, "role", event.role);
  json::Field(writer, "client_ip", event.client_ip);
  json::Field(writer, "method", event.method);
  json::Field(writer, "route", event.route);
  json::Field(writer, "model", event.model);
  json::Field(writer, "upstream", event.upstream);
  json::Field(writer, "status", static_cast<int64_t>(event.status));
  json::Field(writer, "error_code", event.error_code);
  json::Field(writer, "latency_ms", event.latency_ms);
  writer.Key("ttft_ms");
  event.ttft_ms >= 0 ? writer.Int64(event.ttft_ms) : writer.Null();
  json::Field(writer, "prompt_tokens", event.prompt_tokens);
  json::Field(writer, "completion_tokens", event.completion_tokens);
  json::Field(writer, "cached_tokens", event.cached_tokens);
  json::Field(writer, "reasoning_tokens", event.reasoning_tokens);
  json::FieldBool(writer, "tokens_estimated", event.tokens_estimated);
  writer.Key("params");
  if (event.params_json.empty()) {
    writer.StartObject();
    writer.EndObject();
  } else {
    writer.RawValue(event.params_json.data(), event.params_json.size(), rapidjson::kObjectType);
  }
  json::Field(writer, "request_summary", event.request_summary);
  json::Field(writer, "response_summary", event.response_summary);
  writer.EndObject();
}

void WriteModel(json::Writer& writer, const ModelEntry& model) {
  writer.StartObject();
  json::Field(writer, "name", model.name);
  writer.Key("params");
  writer.StartObject();
  json::Field(writer, "default_max_tokens", model.params.default_max_tokens);
  json::Field(writer, "max_tokens_limit", model.params.max_tokens_limit);
  json::FieldDouble(writer, "temperature_min", model.params.temperature_min);
  json::FieldDouble(writer, "temperature_max", model.params.temperature_max);
  json::Field(writer, "system_prompt", model.params.system_prompt);
  writer.EndObject();
  writer.Key("upstreams");
  writer.StartArray();
  for (const auto& status : model.pool->Status()) {
    writer.StartObject();
    json::Field(writer, "id", status.id);
    json::Field(writer, "url", status.id);
    json::Field(writer, "version", status.version);
    json::FieldDouble(writer, "weight", status.weight);
    json::FieldDouble(writer, "canary_weight", status.canary_weight);
    json::Field(writer, "state", UpstreamStateName(status.state));
    json::Field(writer, "outstanding", static_cast<int64_t>(status.outstanding));
    json::FieldDouble(writer, "ewma_ms", status.ewma_ms);
    json::Field(writer, "consecutive_failures", static_cast<int64_t>(status.consecutive_failures));
    json::Field(writer, "requests", static_cast<int64_t>(status.requests));
    json::Field(writer, "failures", static_cast<int64_t>(status.failures));
    writer.EndObject();
  }
  writer.EndArray();
  json::FieldBool(writer, "registered_at_runtime", model.registered_at_runtime);
  writer.EndObject();
}

void WriteConversation(json::Writer& writer, const Conversation& conversation) {
  writer.StartObject();
  json::Field(writer, "id", conversation.id);
  json::Field(writer, "title", conversation.title);
  json::Field(writer, "model", conversation.model);
  json::Field(writer, "created_at", conversation.created_at);
  json::Field(writer, "updated_at", conversation.updated_at);
  writer.EndObject();
}

}  // namespace weir
