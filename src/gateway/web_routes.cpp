#include "gateway/web_routes.h"

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/password.h"
#include "common/json.h"
#include "gateway/blocking.h"
#include "gateway/websocket_session.h"

namespace weir {

namespace asio = boost::asio;

namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::string> RequiredString(const json::Document& body, const char* field) {
  auto value = json::OptionalString(body, field);
  if (!value.ok()) return value.error();
  if (!*value || (*value)->empty()) {
    return Error::InvalidRequest(fmt::format("{} is missing; send {{\"username\", \"password\"}}", field), field);
  }
  return **value;
}

std::string UserJson(const User& user) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("user");
  writer.StartObject();
  json::Field(writer, "id", user.id);
  json::Field(writer, "name", user.name);
  json::Field(writer, "role", RoleName(user.role));
  writer.Key("team");
  if (user.team_name.empty()) writer.Null();
  else writer.String(user.team_name.c_str(), static_cast<rapidjson::SizeType>(user.team_name.size()));
  writer.EndObject();
  writer.EndObject();
  return buffer.GetString();
}

// The user a username and password belong to, or 401. The message is the same
// for an unknown user and a wrong password, so sign-in does not reveal names.
Result<User> CheckPassword(Store& store, const std::string& username, const std::string& password) {
  Error rejected = Error::Unauthenticated("username or password is wrong; check both and sign in again",
                                          "invalid_credentials");
  Result<User> user = store.FindUserByName(username);
  if (!user.ok()) {
    if (user.error().http_status != 404) return user.error();
    return rejected;
  }
  if (!VerifyPassword(password, user->password_hash)) return rejected;
  if (user->disabled) {
    return Error::Unauthenticated(fmt::format("user {} is disabled; ask an administrator", username), "user_disabled");
  }
  return user;
}

// `options` is taken by value: the coroutine frame keeps its own copy.
asio::awaitable<Result<Reply>> Login(Gateway& gateway, WebRouteOptions options, RequestContext& context) {
  // Sign-in attempts are audited although the route needs no credentials.
  context.audited = true;
  auto body = json::ParseObject(context.http.message.body());
  if (!body.ok()) co_return body.error();
  auto username = RequiredString(*body, "username");
  if (!username.ok()) co_return username.error();
  auto password = RequiredString(*body, "password");
  if (!password.ok()) co_return password.error();
  context.audit.user = *username;

  // TODO: failed sign-ins are not rate limited per user or address yet; the
  // Argon2 cost (tens of milliseconds per attempt) is the only brake.
  Store& store = *gateway.services().store;
  // The task is a named local, not a temporary inside co_await: GCC 12 destroys
  // a temporary lambda's captures twice there.
  auto check_task = RunBlocking(*gateway.services().blocking, [&store, name = *username, secret = *password] {
    return CheckPassword(store, name, secret);
  });
  Result<User> user = co_await std::move(check_task);
  if (!user.ok()) {
    spdlog::info("event=sign_in_failed request_id={} user={} code={}", context.request_id, *username,
                 user.error().code);
    co_return user.error();
  }

  context.audit.user_id = user->id;
  context.audit.role = std::string(RoleName(user->role));
  context.audit.team = user->team_name;
  std::string token = options.sessions->Create(user->id, UnixNow());
  Reply reply{200, UserJson(*user)};
  reply.headers.emplace_back("set-cookie", SessionCookie(token, options.sessions->lifetime(), options.secure_cookies));
  reply.headers.emplace_back("cache-control", "no-store");
  spdlog::info("event=sign_in request_id={} user={}", context.request_id, user->name);
  co_return reply;
}

Reply Logout(const WebRouteOptions& options, RequestContext& context) {
  std::string_view token = FindCookie(context.http.message[http::field::cookie], kSessionCookieName);
  if (!token.empty()) options.sessions->Revoke(token);
  Reply reply{200, R"({"ok":true})"};
  reply.headers.emplace_back("set-cookie", ExpiredSessionCookie(options.secure_cookies));
  return reply;
}

Result<Reply> ServeFile(const StaticFiles& files, RequestContext& context) {
  const auto& message = context.http.message;
  auto response = files.Serve(message.target(), false, message[http::field::if_none_match]);
  if (!response) return Error::NotFound(fmt::format("no file at {}", std::string(message.target())));

  Reply reply;
  reply.status = static_cast<int>(response->result_int());
  reply.body = std::move(response->body());
  for (const auto& field : *response) {
    if (field.name() == http::field::content_type) {
      reply.content_type = std::string(field.value());
    } else if (field.name() != http::field::content_length) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
  }
  return reply;
}

}  // namespace

void AddWebRoutes(Gateway& gateway, WebRouteOptions options) {
  gateway.AddRoute(Route{http::verb::post, "/auth/login", Permission::kPublic, false,
                         [&gateway, options](RequestContext& context, ResponseWriter&) {
                           return Login(gateway, options, context);
                         }});
  gateway.AddRoute(Route{http::verb::post, "/auth/logout", Permission::kPublic, false,
                         [options](RequestContext& context, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                           co_return Logout(options, context);
                         }});
  if (options.files == nullptr || options.files->file_count() == 0) {
    spdlog::warn("event=web_ui_missing hint=\"run make build to build web/dist\"");
    return;
  }

  const StaticFiles* files = options.files;
  auto serve = [files](RequestContext& context, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
    co_return ServeFile(*files, context);
  };
  std::vector<std::string> paths = files->paths();
  paths.push_back("/");
  for (const std::string& path : paths) {
    // A folder's index.html is also served at the folder's path. The router
    // ignores a trailing slash, so this one route takes "/docs" (which
    // StaticFiles redirects) and "/docs/" (which it serves).
    constexpr std::string_view kIndex = "/index.html";
    if (path.size() > kIndex.size() && path.ends_with(kIndex)) {
      gateway.AddRoute(Route{http::verb::get, path.substr(0, path.size() - kIndex.size()), Permission::kPublic,
                             false, serve});
    }
    gateway.AddRoute(Route{http::verb::get, path, Permission::kPublic, false, serve});
  }
}

std::filesystem::path FindWebDirectory() {
  if (const char* configured = std::getenv("WEIR_WEB_DIR"); configured != nullptr && *configured != '\0') {
    return configured;
  }
  std::error_code error;
  std::filesystem::path binary = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    std::filesystem::path beside_build = binary.parent_path().parent_path() / "web" / "dist";
    if (std::filesystem::is_directory(beside_build, error)) return beside_build;
  }
  return std::filesystem::path("web") / "dist";
}

std::function<std::optional<int64_t>(std::string_view)> SessionLookup(SessionStore& sessions) {
  return [&sessions](std::string_view token) { return sessions.Lookup(token, UnixNow()); };
}

void AddClientRoutes(Gateway& gateway, const StaticFiles& files, SessionStore& sessions) {
  AddWebSocketRoute(gateway);
  AddWebRoutes(gateway, WebRouteOptions{&files, &sessions, false});
}

}  // namespace weir
