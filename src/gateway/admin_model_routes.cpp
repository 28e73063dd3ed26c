// Admin routes for audit search, usage reports and model management.
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/blocking.h"
#include "gateway/gateway.h"
#include "gateway/json_views.h"

namespace weir {

namespace asio = boost::asio;

namespace {

// Parses a time bound: Unix seconds, Unix milliseconds (13 digits), or an
// ISO 8601 UTC date "YYYY-MM-DD" or time "YYYY-MM-DDTHH:MM:SSZ". Returns ms.
Result<int64_t> ParseTime(const std::string& text, const char* field) {
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits && text.size() <= 18) {
    int64_t value = std::stoll(text);
    return value < 100000000000LL ? value * 1000 : value;
  }
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    tm = std::tm{};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
    return Error::InvalidRequest(
        fmt::format("{} is \"{}\"; use Unix seconds or an ISO 8601 UTC time like 2026-12-04T10:00:00Z", field, text),
        field);
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

Result<AuditQuery> ParseAuditQuery(const std::map<std::string, std::string>& query) {
  AuditQuery parsed;
  auto get = [&](const char* name) -> std::string {
    auto found = query.find(name);
    return found == query.end() ? std::string() : found->second;
  };
  parsed.user = get("user");
  parsed.model = get("model");
  parsed.text = get("q");
  for (const char* field : {"status", "limit", "cursor"}) {
    std::string value = get(field);
    if (value.empty()) continue;
    if (value.find_first_not_of("0123456789") != std::string::npos || value.size() > 18) {
      return Error::InvalidRequest(fmt::format("{} is \"{}\"; it must be a non-negative integer", field, value), field);
    }
    int64_t number = std::stoll(value);
    if (std::string_view(field) == "status") parsed.status = static_cast<int>(number);
    if (std::string_view(field) == "limit") {
      if (number < 1 || number > 1000) return Error::InvalidRequest("limit must be from 1 to 1000", "limit");
      parsed.limit = static_cast<int>(number);
    }
    if (std::string_view(field) == "cursor") parsed.before_id = number;
  }
  if (parsed.status != 0 && !(parsed.status >= 1 && parsed.status <= 5) && !(parsed.status >= 100 && parsed.status <= 599)) {
    return Error::InvalidRequest(fmt::format("status is {}; give an HTTP status (e.g. 429) or a class 1 to 5", parsed.status),
                                 "status");
  }
  for (const char* field : {"since", "until"}) {
    std::string value = get(field);
    if (value.empty()) continue;
    auto ms = ParseTime(value, field);
    if (!ms.ok()) return ms.error();
    (std::string_view(field) == "since" ? parsed.since_ms : parsed.until_ms) = *ms;
  }
  return parsed;
}

std::string PageJson(const AuditPage& page) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("data");
  writer.StartArray();
  for (const auto& event : page.events) WriteAuditEvent(writer, event);
  writer.EndArray();
  writer.Key("next_cursor");
  if (page.next_cursor) {
    writer.String(std::to_string(page.next_cursor));
  } else {
    writer.Null();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status ReadParams(const json::Value& object, ModelParams& params) {
  if (!object.IsObject()) return Error::InvalidRequest("params must be an object", "params", "invalid_type");
  auto default_max = json::OptionalInt(object, "default_max_tokens");
  if (!default_max.ok()) return default_max.error();
  auto limit = json::OptionalInt(object, "max_tokens_limit");
  if (!limit.ok()) return limit.error();
  auto minimum = json::OptionalNumber(object, "temperature_min");
  if (!minimum.ok()) return minimum.error();
  auto maximum = json::OptionalNumber(object, "temperature_max");
  if (!maximum.ok()) return maximum.error();
  auto system_prompt = json::OptionalString(object, "system_prompt");
  if (!system_prompt.ok()) return system_prompt.error();
  if (*default_max) params.default_max_tokens = **default_max;
  if (*limit) params.max_tokens_limit = **limit;
  if (*minimum) params.temperature_min = **minimum;
  if (*maximum) params.temperature_max = **maximum;
  if (*system_prompt) params.system_prompt = **system_prompt;
  if (params.default_max_tokens < 0 || params.max_tokens_limit < 0) {
    return Error::InvalidRequest("default_max_tokens and max_tokens_limit must be 0 (unset) or more", "params");
  }
  if (params.max_tokens_limit > 0 && params.default_max_tokens > params.max_tokens_limit) {
    return Error::InvalidRequest(fmt::format("default_max_tokens ({}) is above max_tokens_limit ({})",
                                             params.default_max_tokens, params.max_tokens_limit),
                                 "params");
  }
  if (params.temperature_min < 0 || params.temperature_min > params.temperature_max) {
    return Error::InvalidRequest(fmt::format("temperature range {} to {} is invalid; need 0 <= min <= max",
                                             params.temperature_min, params.temperature_max),
                                 "params");
  }
  return Status::Ok();
}

std::string ParamsToJson(const ModelParams& params) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  json::Field(writer, "default_max_tokens", params.default_max_tokens);
  json::Field(writer, "max_tokens_limit", params.max_tokens_limit);
  json::FieldDouble(writer, "temperature_min", params.temperature_min);
  json::FieldDouble(writer, "temperature_max", params.temperature_max);
  json::Field(writer, "system_prompt", params.system_prompt);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string WeightsToJson(const ModelEntry& model) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  for (const auto& status : model.pool->Status()) json::FieldDouble(writer, status.id.c_str(), status.weight);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Status ApplyModelOverride(ModelRegistry& registry, const ModelOverrideRecord& record) {
  if (!record.registration_yaml.empty()) {
    auto models = ParseModels("[" + record.registration_yaml + "]");
    if (!models.ok()) return models.error();
    for (const auto& model : *models) {
      Status status = registry.Put(model, /*registered_at_runtime=*/true);
      if (!status.ok()) return status;
    }
  }
  auto model = registry.Find(record.name);
  if (!model) return Status::Ok();  // A model removed from the config keeps its stale override unused.
  if (!record.params_json.empty()) {
    auto object = json::ParseObject(record.params_json);
    if (!object.ok()) return object.error();
    ModelParams params = model->params;
    Status status = ReadParams(*object, params);
    if (!status.ok()) return status;
    status = registry.SetParams(record.name, params);
    if (!status.ok()) return status;
  }
  if (!record.upstream_weights_json.empty()) {
    auto weights = json::ParseObject(record.upstream_weights_json);
    if (!weights.ok()) return weights.error();
    for (const auto& member : weights->GetObject()) {
      if (member.value.IsNumber()) model->pool->SetWeight(member.name.GetString(), member.value.GetDouble());
    }
  }
  return Status::Ok();
}

void Gateway::AddAuditRoutes() {
  GatewayServices& s = services_;
  AddRoute(Route{http::verb::get, "/admin/v1/audit", Permission::kAuditSearch, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto query = ParseAuditQuery(c.query);
                   if (!query.ok()) co_return query.error();
                   auto page_task = RunBlocking(*s.blocking, [&s, audit_query = *query] { return s.audit_sink->Search(audit_query); });
                   auto page = co_await std::move(page_task);
                   if (!page.ok()) co_return page.error();
                   co_return Reply{200, PageJson(*page)};
                 }});

  AddRoute(Route{http::verb::get, "/admin/v1/usage", Permission::kAuditSearch, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   std::string group_by = c.query.count("group_by") ? c.query["group_by"] : "day";
                   int64_t since = 0, until = 0;
                   if (c.query.count("since")) {
                     auto parsed = ParseTime(c.query["since"], "since");
                     if (!parsed.ok()) co_return parsed.error();
                     since = *parsed;
                   }
                   if (c.query.count("until")) {
                     auto parsed = ParseTime(c.query["until"], "until");
                     if (!parsed.ok()) co_return parsed.error();
                     until = *parsed;
                   }
                   auto rows_task = RunBlocking(*s.blocking, [&s, group_by, since, until] {
                     return s.audit_sink->Usage(group_by, since, until);
                   });
                   auto rows = co_await std::move(rows_task);
                   if (!rows.ok()) co_return rows.error();
                   co_return Reply{200, ListJson(*rows, [](json::Writer& writer, const UsageRow& row) {
                                     writer.StartObject();
                                     json::Field(writer, "key", row.key);
                                     json::Field(writer, "requests", row.requests);
                                     json::Field(writer, "errors", row.errors);
                                     json::Field(writer, "prompt_tokens", row.prompt_tokens);
                                     json::Field(writer, "completion_tokens", row.completion_tokens);
                                     writer.EndObject();
                                   })};
                 }});
}

void Gateway::AddModelAdminRoutes() {
  GatewayServices& s = services_;
  AddRoute(Route{http::verb::get, "/admin/v1/models", Permission::kModelParams, false,
                 [&s](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto models = s.models->List();
                   co_return Reply{200, ListJson(models, [](json::Writer& writer, const auto& model) {
                                     WriteModel(writer, *model);
                                   })};
                 }});

  AddRoute(Route{http::verb::patch, "/admin/v1/models/{name}", Permission::kModelParams, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   const std::string& name = c.PathParam("name");
                   auto model = s.models->Find(name);
                   if (!model) co_return Error::NotFound(fmt::format("model \"{}\" does not exist", name), "model_not_found");
                   auto body = json::ParseObject(c.http.message.body());
                   if (!body.ok()) co_return body.error();

                   ModelParams params = model->params;
                   auto params_member = body->FindMember("params");
                   if (params_member != body->MemberEnd()) {
                     Status status = ReadParams(params_member->value, params);
                     if (!status.ok()) co_return status.error();
                   }
                   auto weights = body->FindMember("upstream_weights");
                   if (weights != body->MemberEnd()) {
                     if (!weights->value.IsObject()) co_return Error::InvalidRequest("upstream_weights must be an object of {upstream id: weight}", "upstream_weights");
                     for (const auto& member : weights->value.GetObject()) {
                       if (!member.value.IsNumber() || member.value.GetDouble() <= 0) {
                         co_return Error::InvalidRequest(fmt::format("weight of upstream {} must be a number above 0", member.name.GetString()), "upstream_weights");
                       }
                       bool known = false;
                       for (const auto& status : model->pool->Status()) known |= status.id == member.name.GetString();
                       if (!known) co_return Error::NotFound(fmt::format("model {} has no upstream {}", name, member.name.GetString()));
                     }
                     for (const auto& member : weights->value.GetObject()) model->pool->SetWeight(member.name.GetString(), member.value.GetDouble());
                   }
                   Status status = s.models->SetParams(name, params);
                   if (!status.ok()) co_return status.error();
                   auto updated = s.models->Find(name);

                   ModelOverrideRecord record{name, ParamsToJson(params), WeightsToJson(*updated), {}};
                   auto saved_task = RunBlocking(*s.blocking, [&s, record]() mutable -> Status {
                     auto existing = s.store->ListModelOverrides();
                     if (!existing.ok()) return existing.error();
                     for (const auto& old : *existing) {
                       if (old.name == record.name) record.registration_yaml = old.registration_yaml;
                     }
                     return s.store->SaveModelOverride(record);
                   });
                   auto saved = co_await std::move(saved_task);
                   if (!saved.ok()) co_return saved.error();
                   spdlog::info("event=model_updated request_id={} by={} model={} params={}", c.request_id,
                                c.principal->user_name, name, record.params_json);
                   co_return Reply{200, ToJson(*updated, WriteModel)};
                 }});

  AddRoute(Route{http::verb::post, "/admin/v1/models", Permission::kRegisterModels, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto body = json::ParseObject(c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   std::string text(c.http.message.body());
                   auto models = ParseModels("[" + text + "]");
                   if (!models.ok()) co_return models.error();
                   const ModelConfig& model = models->front();
                   if (s.models->Find(model.name)) {
                     co_return Error::Conflict(fmt::format("model \"{}\" already exists; PATCH it instead", model.name));
                   }
                   Status status = s.models->Put(model, /*registered_at_runtime=*/true);
                   if (!status.ok()) co_return status.error();
                   ModelOverrideRecord record{model.name, {}, {}, json::Serialize(*body)};
                   auto saved_task = RunBlocking(*s.blocking, [&s, record] { return s.store->SaveModelOverride(record); });
                   auto saved = co_await std::move(saved_task);
                   if (!saved.ok()) co_return saved.error();
                   spdlog::info("event=model_registered request_id={} by={} model={} upstreams={}", c.request_id,
                                c.principal->user_name, model.name, model.upstreams.size());
                   co_return Reply{201, ToJson(*s.models->Find(model.name), WriteModel)};
                 }});
}

}  // namespace weir
