// The OpenAI-compatible model routes: request validation, the parameter
// policy of each model, and the model list.
#include <fmt/format.h>

#include "gateway/gateway.h"

namespace weir {

namespace asio = boost::asio;

namespace {

constexpr size_t kSummaryChars = 200;

const char* const kChatRoles[] = {"system", "developer", "user", "assistant", "tool", "function"};

// Returns the text of a message content: a string, or the "text" parts of an array.
std::string ContentText(const json::Value& content) {
  if (content.IsString()) return std::string(content.GetString(), content.GetStringLength());
  std::string text;
  if (!content.IsArray()) return text;
  for (const auto& part : content.GetArray()) {
    if (!part.IsObject()) continue;
    auto value = part.FindMember("text");
    if (value != part.MemberEnd() && value->value.IsString()) {
      if (!text.empty()) text += '\n';
      text.append(value->value.GetString(), value->value.GetStringLength());
    }
  }
  return text;
}

Result<std::string> RequireModel(const json::Document& body) {
  auto model = json::OptionalString(body, "model");
  if (!model.ok()) return model.error();
  if (!*model || (*model)->empty()) {
    return Error::InvalidRequest("model is missing; name one of the models from GET /v1/models", "model");
  }
  return **model;
}

// Checks `messages` and returns the characters of all message text, for the
// token estimate, and the last user message, for the audit summary.
Status ValidateMessages(const json::Document& body, int64_t& prompt_chars, std::string& last_user) {
  auto messages = body.FindMember("messages");
  if (messages == body.MemberEnd()) {
    return Error::InvalidRequest("messages is missing; send an array of {role, content} objects", "messages");
  }
  if (!messages->value.IsArray()) {
    return Error::InvalidRequest(fmt::format("messages must be an array, not {}", json::TypeName(messages->value)),
                                 "messages", "invalid_type");
  }
  if (messages->value.Empty()) return Error::InvalidRequest("messages is empty; send at least one message", "messages");
  size_t index = 0;
  for (const auto& message : messages->value.GetArray()) {
    std::string where = fmt::format("messages[{}]", index++);
    if (!message.IsObject()) {
      return Error::InvalidRequest(fmt::format("{} must be an object, not {}", where, json::TypeName(message)), where,
                                   "invalid_type");
    }
    auto role = message.FindMember("role");
    if (role == message.MemberEnd() || !role->value.IsString()) {
      return Error::InvalidRequest(where + ".role is missing or not a string", where + ".role");
    }
    std::string_view role_name(role->value.GetString(), role->value.GetStringLength());
    bool known = false;
    for (const char* name : kChatRoles) known |= role_name == name;
    if (!known) {
      return Error::InvalidRequest(
          fmt::format("{}.role is \"{}\"; use system, developer, user, assistant or tool", where, role_name),
          where + ".role");
    }
    auto content = message.FindMember("content");
    if (content != message.MemberEnd() && !content->value.IsString() && !content->value.IsArray() &&
        !content->value.IsNull()) {
      return Error::InvalidRequest(
          fmt::format("{}.content must be a string or an array of parts, not {}", where, json::TypeName(content->value)),
          where + ".content", "invalid_type");
    }
    if (content != message.MemberEnd()) {
      std::string text = ContentText(content->value);
      prompt_chars += static_cast<int64_t>(text.size());
      if (role_name == "user") last_user = std::move(text);
    }
  }
  return Status::Ok();
}

// Checks the common sampling fields that the gateway itself interprets.
Status ValidateCommon(const json::Document& body) {
  auto stream = json::OptionalBool(body, "stream");
  if (!stream.ok()) return stream.error();
  for (const char* field : {"max_tokens", "max_completion_tokens", "n"}) {
    auto value = json::OptionalInt(body, field);
    if (!value.ok()) return value.error();
    if (*value && **value < 1) {
      return Error::InvalidRequest(fmt::format("{} is {}; it must be at least 1", field, **value), field);
    }
  }
  for (const char* field : {"temperature", "top_p", "presence_penalty", "frequency_penalty"}) {
    auto value = json::OptionalNumber(body, field);
    if (!value.ok()) return value.error();
  }
  auto top_p = json::OptionalNumber(body, "top_p");
  if (*top_p && (**top_p < 0 || **top_p > 1)) {
    return Error::InvalidRequest(fmt::format("top_p is {}; it must be from 0 to 1", **top_p), "top_p");
  }
  return Status::Ok();
}

void SetMember(json::Document& body, const char* name, json::Value value) {
  auto member = body.FindMember(name);
  if (member != body.MemberEnd()) {
    member->value = std::move(value);
  } else {
    body.AddMember(json::Value(name, body.GetAllocator()), std::move(value), body.GetAllocator());
  }
}

std::string ParamsJson(const json::Document& body) {
  // Request parameters without content: every scalar field but the prompt.
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  for (const auto& member : body.GetObject()) {
    std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name == "messages" || name == "prompt" || name == "input" || name == "model") continue;
    if (member.value.IsString() && member.value.GetStringLength() > 256) continue;
    writer.Key(member.name.GetString(), member.name.GetStringLength());
    member.value.Accept(writer);
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Sets call.stream from the body. For a stream, it asks the upstream for
// usage (stream_options.include_usage) and records whether the client asked
// too, so the proxy can drop the usage-only chunk the client did not request.
void RequestStreamUsage(json::Document& body, ProxyCall& call) {
  call.stream = body.HasMember("stream") && body["stream"].IsTrue();
  if (!call.stream) return;
  auto options = body.FindMember("stream_options");
  if (options != body.MemberEnd() && options->value.IsObject()) {
    auto include = options->value.FindMember("include_usage");
    call.client_wants_usage = include != options->value.MemberEnd() && include->value.IsTrue();
  }
  if (call.client_wants_usage) return;
  json::Value stream_options(rapidjson::kObjectType);
  stream_options.AddMember("include_usage", true, body.GetAllocator());
  SetMember(body, "stream_options", std::move(stream_options));
}

// Returns the request text an audit record keeps under audit.content:
// nothing, the first 200 characters, or all of it.
std::string AuditSummary(const std::string& mode, const std::string& text) {
  if (mode == "summary") return json::TruncateUtf8(text, kSummaryChars);
  if (mode == "full") return text;
  return {};
}

}  // namespace

Status ApplyModelParams(const ModelParams& params, json::Document& body, bool is_chat) {
  // Clients send max_tokens, max_completion_tokens (newer OpenAI clients) or
  // both; the limit applies to each, and the default only when neither is set.
  bool any_max = false;
  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    auto max_tokens = json::OptionalInt(body, field);
    if (!max_tokens.ok()) return max_tokens.error();
    if (!*max_tokens) continue;
    any_max = true;
    if (params.max_tokens_limit > 0 && **max_tokens > params.max_tokens_limit) {
      return Error::InvalidRequest(
          fmt::format("{} is {}; this model allows at most {}", field, **max_tokens, params.max_tokens_limit), field);
    }
  }
  if (!any_max && params.default_max_tokens > 0) {
    SetMember(body, "max_tokens", json::Value(params.default_max_tokens));
  }

  auto temperature = json::OptionalNumber(body, "temperature");
  if (!temperature.ok()) return temperature.error();
  if (*temperature && (**temperature < params.temperature_min || **temperature > params.temperature_max)) {
    return Error::InvalidRequest(fmt::format("temperature is {}; this model allows {} to {}", **temperature,
                                             params.temperature_min, params.temperature_max),
                                 "temperature");
  }

  if (is_chat && !params.system_prompt.empty()) {
    auto& messages = body["messages"];
    json::Value system(rapidjson::kObjectType);
    system.AddMember("role", "system", body.GetAllocator());
    system.AddMember("content", json::Value(params.system_prompt.c_str(), body.GetAllocator()), body.GetAllocator());
    messages.PushBack(system, body.GetAllocator());
    // Move the new system message to the front, keeping the others in order.
    for (rapidjson::SizeType i = messages.Size() - 1; i > 0; --i) messages[i].Swap(messages[i - 1]);
  }
  return Status::Ok();
}

void Gateway::AddModelRoutes() {
  AddRoute(Route{http::verb::post, "/v1/chat/completions", Permission::kModelApi, true,
                 [this](RequestContext& c, ResponseWriter& w) { return ChatCompletions(c, w); }});
  AddRoute(Route{http::verb::post, "/v1/completions", Permission::kModelApi, true,
                 [this](RequestContext& c, ResponseWriter& w) { return Completions(c, w); }});
  AddRoute(Route{http::verb::post, "/v1/embeddings", Permission::kModelApi, true,
                 [this](RequestContext& c, ResponseWriter& w) { return Embeddings(c, w); }});
  AddRoute(Route{http::verb::get, "/v1/models", Permission::kModelApi, false,
                 [this](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   co_return ListModels(c);
                 }});
}

namespace {

// Looks the model up and checks that the caller's key may use it.
Result<std::shared_ptr<const ModelEntry>> ResolveModel(const Gateway& gateway, const RequestContext& context,
                                                       const std::string& name) {
  auto model = gateway.services().models->Find(name);
  if (!model) {
    return Error::NotFound(fmt::format("model \"{}\" does not exist; GET /v1/models lists the models you may use",
                                       name),
                           "model_not_found");
  }
  if (!context.principal->MayUseModel(name)) {
    return Error::PermissionDenied(
        fmt::format("API key {} may not use model \"{}\"; ask an admin to add it to the key's models",
                    context.principal->key_prefix, name),
        "model_not_allowed");
  }
  return model;
}

}  // namespace

asio::awaitable<Result<Reply>> Gateway::ChatCompletions(RequestContext& context, ResponseWriter& writer) {
  auto body = json::ParseObject(context.http.message.body());
  if (!body.ok()) co_return body.error();
  auto model_name = RequireModel(*body);
  if (!model_name.ok()) co_return model_name.error();
  context.audit.model = *model_name;
  ProxyCall call;
  std::string last_user;
  Status status = ValidateMessages(*body, call.prompt_chars, last_user);
  if (!status.ok()) co_return status.error();
  status = ValidateCommon(*body);
  if (!status.ok()) co_return status.error();
  auto model = ResolveModel(*this, context, *model_name);
  if (!model.ok()) co_return model.error();
  status = ApplyModelParams((*model)->params, *body, /*is_chat=*/true);
  if (!status.ok()) co_return status.error();

  call.model = *model_name;
  call.path = "/chat/completions";
  RequestStreamUsage(*body, call);
  call.body = json::Serialize(*body);
  context.audit.params_json = ParamsJson(*body);
  context.audit.request_summary = AuditSummary(services_.config.audit.content, last_user);

  Reply reply;
  auto result = co_await ProxyModelCall(context, writer, call, reply);
  if (!result.ok()) co_return result.error();
  co_return reply;
}

asio::awaitable<Result<Reply>> Gateway::Completions(RequestContext& context, ResponseWriter& writer) {
  auto body = json::ParseObject(context.http.message.body());
  if (!body.ok()) co_return body.error();
  auto model_name = RequireModel(*body);
  if (!model_name.ok()) co_return model_name.error();
  context.audit.model = *model_name;
  auto prompt = body->FindMember("prompt");
  if (prompt == body->MemberEnd() || !(prompt->value.IsString() || prompt->value.IsArray())) {
    co_return Error::InvalidRequest("prompt is missing or not a string or array", "prompt");
  }
  Status status = ValidateCommon(*body);
  if (!status.ok()) co_return status.error();
  auto model = ResolveModel(*this, context, *model_name);
  if (!model.ok()) co_return model.error();
  status = ApplyModelParams((*model)->params, *body, /*is_chat=*/false);
  if (!status.ok()) co_return status.error();

  ProxyCall call;
  call.model = *model_name;
  call.path = "/completions";
  std::string prompt_text = prompt->value.IsString() ? std::string(prompt->value.GetString()) : json::Serialize(prompt->value);
  call.prompt_chars = static_cast<int64_t>(prompt_text.size());
  RequestStreamUsage(*body, call);
  call.body = json::Serialize(*body);
  context.audit.params_json = ParamsJson(*body);
  context.audit.request_summary = AuditSummary(services_.config.audit.content, prompt_text);

  Reply reply;
  auto result = co_await ProxyModelCall(context, writer, call, reply);
  if (!result.ok()) co_return result.error();
  co_return reply;
}

asio::awaitable<Result<Reply>> Gateway::Embeddings(RequestContext& context, ResponseWriter& writer) {
  auto body = json::ParseObject(context.http.message.body());
  if (!body.ok()) co_return body.error();
  auto model_name = RequireModel(*body);
  if (!model_name.ok()) co_return model_name.error();
  context.audit.model = *model_name;
  auto input = body->FindMember("input");
  if (input == body->MemberEnd() || !(input->value.IsString() || input->value.IsArray())) {
    co_return Error::InvalidRequest("input is missing or not a string or array", "input");
  }
  if (body->HasMember("stream") && (*body)["stream"].IsTrue()) {
    co_return Error::InvalidRequest("embeddings cannot be streamed; remove \"stream\"", "stream");
  }
  auto model = ResolveModel(*this, context, *model_name);
  if (!model.ok()) co_return model.error();

  ProxyCall call;
  call.model = *model_name;
  call.path = "/embeddings";
  std::string input_text = input->value.IsString() ? std::string(input->value.GetString()) : json::Serialize(input->value);
  call.prompt_chars = static_cast<int64_t>(input_text.size());
  call.body = std::string(context.http.message.body());
  context.audit.params_json = ParamsJson(*body);
  context.audit.request_summary = AuditSummary(services_.config.audit.content, input_text);

  Reply reply;
  auto result = co_await ProxyModelCall(context, writer, call, reply);
  if (!result.ok()) co_return result.error();
  co_return reply;
}

Result<Reply> Gateway::ListModels(RequestContext& context) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  json::Field(writer, "object", "list");
  writer.Key("data");
  writer.StartArray();
  for (const auto& model : services_.models->List()) {
    if (!context.principal->MayUseModel(model->name)) continue;
    writer.StartObject();
    json::Field(writer, "id", model->name);
    json::Field(writer, "object", "model");
    json::Field(writer, "created", int64_t{0});
    json::Field(writer, "owned_by", "weir");
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return Reply{200, std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace weir
