// Server-kept conversations (role user and above). Appending a message sends
// the whole history as context and stores the user message and the answer
// once the answer is complete. A conversation is visible to its owner only;
// for anyone else it does not exist (404).
#include <fmt/format.h>

#include "gateway/blocking.h"
#include "gateway/gateway.h"
#include "gateway/json_views.h"

namespace weir {

namespace asio = boost::asio;

namespace {

Result<int64_t> ParseConversationId(const std::string& text) {
  try {
    size_t used = 0;
    int64_t id = std::stoll(text, &used);
    if (used == text.size() && id > 0) return id;
  } catch (const std::exception&) {
  }
  return Error::InvalidRequest(fmt::format("conversation id \"{}\" is not a positive integer", text));
}

// Loads a conversation that `user_id` owns.
Result<Conversation> LoadOwned(Store& store, int64_t id, int64_t user_id) {
  auto conversation = store.GetConversation(id);
  if (!conversation.ok()) return conversation.error();
  if (conversation->user_id != user_id) return Error::NotFound(fmt::format("conversation {} does not exist", id));
  return conversation;
}

std::string ConversationJson(const Conversation& conversation, const std::vector<ConversationMessage>& messages) {
  std::string json = ToJson(conversation, WriteConversation);
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartArray();
  for (const auto& message : messages) {
    writer.StartObject();
    json::Field(writer, "role", message.role);
    json::Field(writer, "content", message.content);
    json::Field(writer, "created_at", message.created_at);
    writer.EndObject();
  }
  writer.EndArray();
  json.pop_back();
  return json + ",\"messages\":" + std::string(buffer.GetString(), buffer.GetSize()) + "}";
}

// Fields of an append request that are passed on to the model as they are.
const char* const kForwardedFields[] = {"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
                                        "presence_penalty", "frequency_penalty", "seed"};

}  // namespace

void Gateway::AddConversationRoutes() {
  GatewayServices& s = services_;

  AddRoute(Route{http::verb::post, "/v1/conversations", Permission::kConversations, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto body = json::ParseObject(c.http.message.body().empty() ? "{}" : c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   auto title = json::OptionalString(*body, "title");
                   if (!title.ok()) co_return title.error();
                   auto model = json::OptionalString(*body, "model");
                   if (!model.ok()) co_return model.error();
                   if (*model && !s.models->Find(**model)) {
                     co_return Error::NotFound(fmt::format("model \"{}\" does not exist", **model), "model_not_found");
                   }
                   Conversation conversation;
                   conversation.user_id = c.principal->user_id;
                   conversation.title = json::TruncateUtf8(title->value_or(""), 200);
                   conversation.model = model->value_or("");
                   auto created_task = RunBlocking(*s.blocking, [&s, conversation] { return s.store->CreateConversation(conversation); });
                   auto created = co_await std::move(created_task);
                   if (!created.ok()) co_return created.error();
                   co_return Reply{201, ConversationJson(*created, {})};
                 }});

  AddRoute(Route{http::verb::get, "/v1/conversations", Permission::kConversations, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   int64_t user_id = c.principal->user_id;
                   auto list_task = RunBlocking(*s.blocking, [&s, user_id] { return s.store->ListConversations(user_id); });
                   auto list = co_await std::move(list_task);
                   if (!list.ok()) co_return list.error();
                   co_return Reply{200, ListJson(*list, WriteConversation)};
                 }});

  AddRoute(Route{http::verb::get, "/v1/conversations/{id}", Permission::kConversations, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto id = ParseConversationId(c.PathParam("id"));
                   if (!id.ok()) co_return id.error();
                   int64_t user_id = c.principal->user_id;
                   auto json_task = RunBlocking(*s.blocking, [&s, conversation_id = *id, user_id]() -> Result<std::string> {
                     auto conversation = LoadOwned(*s.store, conversation_id, user_id);
                     if (!conversation.ok()) return conversation.error();
                     auto messages = s.store->ListMessages(conversation_id);
                     if (!messages.ok()) return messages.error();
                     return ConversationJson(*conversation, *messages);
                   });
                   auto json = co_await std::move(json_task);
                   if (!json.ok()) co_return json.error();
                   co_return Reply{200, *json};
                 }});

  AddRoute(Route{http::verb::delete_, "/v1/conversations/{id}", Permission::kConversations, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto id = ParseConversationId(c.PathParam("id"));
                   if (!id.ok()) co_return id.error();
                   int64_t user_id = c.principal->user_id;
                   auto deleted_task = RunBlocking(*s.blocking, [&s, conversation_id = *id, user_id]() -> Status {
                     auto conversation = LoadOwned(*s.store, conversation_id, user_id);
                     if (!conversation.ok()) return conversation.error();
                     return s.store->DeleteConversation(conversation_id);
                   });
                   auto deleted = co_await std::move(deleted_task);
                   if (!deleted.ok()) co_return deleted.error();
                   co_return Reply{200, fmt::format(R"({{"id":{},"deleted":true}})", *id)};
                 }});

  AddRoute(Route{http::verb::post, "/v1/conversations/{id}/messages", Permission::kConversations, true,
                 [this](RequestContext& c, ResponseWriter& w) { return AppendConversationMessage(c, w); }});
}

asio::awaitable<Result<Reply>> Gateway::AppendConversationMessage(RequestContext& context, ResponseWriter& writer) {
  GatewayServices& s = services_;
  auto id = ParseConversationId(context.PathParam("id"));
  if (!id.ok()) co_return id.error();
  auto request = json::ParseObject(context.http.message.body());
  if (!request.ok()) co_return request.error();
  auto content = json::OptionalString(*request, "content");
  if (!content.ok()) co_return content.error();
  if (!*content || (*content)->empty()) co_return Error::InvalidRequest("content is missing or empty", "content");
  auto model_override = json::OptionalString(*request, "model");
  if (!model_override.ok()) co_return model_override.error();
  auto stream = json::OptionalBool(*request, "stream");
  if (!stream.ok()) co_return stream.error();

  int64_t user_id = context.principal->user_id;
  auto loaded_task = RunBlocking(*s.blocking, [&s, conversation_id = *id, user_id]() -> Result<std::pair<Conversation, std::vector<ConversationMessage>>> {
    auto conversation = LoadOwned(*s.store, conversation_id, user_id);
    if (!conversation.ok()) return conversation.error();
    auto messages = s.store->ListMessages(conversation_id);
    if (!messages.ok()) return messages.error();
    return std::make_pair(*conversation, *messages);
  });
  auto loaded = co_await std::move(loaded_task);
  if (!loaded.ok()) co_return loaded.error();
  auto& [conversation, history] = *loaded;

  std::string model_name = model_override->value_or(conversation.model);
  if (model_name.empty()) {
    co_return Error::InvalidRequest("model is missing; set it on the conversation or in this request", "model");
  }
  context.audit.model = model_name;
  auto model = s.models->Find(model_name);
  if (!model) co_return Error::NotFound(fmt::format("model \"{}\" does not exist", model_name), "model_not_found");
  if (!context.principal->MayUseModel(model_name)) {
    co_return Error::PermissionDenied(fmt::format("this key may not use model \"{}\"", model_name), "model_not_allowed");
  }

  // The chat request: the stored history, then the new user message.
  json::Document body(rapidjson::kObjectType);
  auto& allocator = body.GetAllocator();
  body.AddMember("model", json::Value(model_name.c_str(), allocator), allocator);
  json::Value messages(rapidjson::kArrayType);
  ProxyCall call;
  for (const auto& message : history) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("role", json::Value(message.role.c_str(), allocator), allocator);
    item.AddMember("content", json::Value(message.content.c_str(), allocator), allocator);
    messages.PushBack(item, allocator);
    call.prompt_chars += static_cast<int64_t>(message.content.size());
  }
  json::Value user_message(rapidjson::kObjectType);
  user_message.AddMember("role", "user", allocator);
  user_message.AddMember("content", json::Value((*content)->c_str(), allocator), allocator);
  messages.PushBack(user_message, allocator);
  call.prompt_chars += static_cast<int64_t>((*content)->size());
  body.AddMember("messages", messages, allocator);
  for (const char* field : kForwardedFields) {
    auto member = request->FindMember(field);
    if (member != request->MemberEnd()) body.AddMember(json::Value(field, allocator), json::Value(member->value, allocator), allocator);
  }
  call.stream = stream->value_or(false);
  if (call.stream) {
    body.AddMember("stream", true, allocator);
    json::Value options(rapidjson::kObjectType);
    options.AddMember("include_usage", true, allocator);
    body.AddMember("stream_options", options, allocator);
    call.client_wants_usage = true;
  }
  Status status = ApplyModelParams(model->params, body, /*is_chat=*/true);
  if (!status.ok()) co_return status.error();

  call.model = model_name;
  call.path = "/chat/completions";
  call.body = json::Serialize(body);
  call.collect_content = true;
  if (s.config.audit.content == "summary") context.audit.request_summary = json::TruncateUtf8(**content, 200);
  if (s.config.audit.content == "full") context.audit.request_summary = **content;

  Reply reply;
  auto result = co_await ProxyModelCall(context, writer, call, reply);
  if (!result.ok()) co_return result.error();
  if (reply.status == 200 && result->upstream_status == 200) {
    std::vector<ConversationMessage> appended{{"user", **content, 0}, {"assistant", result->content, 0}};
    auto saved_task = RunBlocking(*s.blocking, [&s, conversation_id = *id, appended] { return s.store->AppendMessages(conversation_id, appended); });
    auto saved = co_await std::move(saved_task);
    if (!saved.ok()) {
      // The answer already reached the client; the history write failure is logged and audited.
      context.audit.error_code = "history_write_failed";
      if (!reply.sent) co_return saved.error();
    }
  }
  co_return reply;
}

}  // namespace weir
