// The admin API under /admin/v1: users, teams, keys, audit search, usage and
// models. Every write to identities reloads the identity cache before the
// response, so a revoked key or a disabled user is rejected on the next request.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/api_key.h"
#include "auth/password.h"
#include "gateway/blocking.h"
#include "gateway/gateway.h"
#include "gateway/json_views.h"

namespace weir {

namespace asio = boost::asio;

namespace {

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

Result<int64_t> ParseId(const std::string& text, const char* what) {
  try {
    size_t used = 0;
    int64_t id = std::stoll(text, &used);
    if (used == text.size() && id > 0) return id;
  } catch (const std::exception&) {
  }
  return Error::InvalidRequest(fmt::format("{} id \"{}\" is not a positive integer", what, text));
}

Error RoleDenied(Role actor, Role target, const char* action) {
  return Error::PermissionDenied(fmt::format("role {} may not {} an account with role {}; {}", RoleName(actor), action,
                                             RoleName(target),
                                             target == Role::kAdmin || target == Role::kSuperadmin
                                                 ? "only a superadmin manages admins"
                                                 : "ask an admin"));
}

// Reads the quota override fields of a request body into `quota`.
Status ReadQuota(const json::Value& body, QuotaOverride& quota) {
  auto member = body.FindMember("quota");
  if (member == body.MemberEnd() || member->value.IsNull()) return Status::Ok();
  if (!member->value.IsObject()) return Error::InvalidRequest("quota must be an object", "quota", "invalid_type");
  const auto& object = member->value;
  auto rps = json::OptionalNumber(object, "requests_per_second");
  auto burst = json::OptionalNumber(object, "burst");
  auto tpm = json::OptionalInt(object, "tokens_per_minute");
  auto daily = json::OptionalInt(object, "daily_tokens");
  for (const Status& status : {rps.ok() ? Status() : Status(rps.error()), burst.ok() ? Status() : Status(burst.error()),
                               tpm.ok() ? Status() : Status(tpm.error()), daily.ok() ? Status() : Status(daily.error())}) {
    if (!status.ok()) return status;
  }
  if (*rps && **rps <= 0) return Error::InvalidRequest("quota.requests_per_second must be greater than 0", "quota");
  if (*burst && **burst < 1) return Error::InvalidRequest("quota.burst must be at least 1", "quota");
  if (object.HasMember("requests_per_second")) quota.requests_per_second = *rps;
  if (object.HasMember("burst")) quota.burst = *burst;
  if (object.HasMember("tokens_per_minute")) quota.tokens_per_minute = *tpm;
  if (object.HasMember("daily_tokens")) quota.daily_tokens = *daily;
  return Status::Ok();
}

std::string MeJson(const Principal& principal) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("user");
  writer.StartObject();
  json::Field(writer, "id", principal.user_id);
  json::Field(writer, "name", principal.user_name);
  json::Field(writer, "role", RoleName(principal.role));
  json::Field(writer, "team", principal.team_name);
  writer.EndObject();
  writer.Key("key");
  if (principal.key_id) {
    writer.StartObject();
    json::Field(writer, "id", principal.key_id);
    json::Field(writer, "prefix", principal.key_prefix);
    writer.EndObject();
  } else {
    writer.Null();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

void Gateway::AddAdminRoutes() {
  GatewayServices& s = services_;

  AddRoute(Route{http::verb::get, "/admin/v1/me", Permission::kOwnKeys, false,
                 [](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   co_return Reply{200, MeJson(*c.principal)};
                 }});

  AddRoute(Route{http::verb::post, "/admin/v1/users", Permission::kManageUsers, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto body = json::ParseObject(c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   auto name = json::OptionalString(*body, "name");
                   if (!name.ok()) co_return name.error();
                   if (!*name || (*name)->empty()) co_return Error::InvalidRequest("name is missing", "name");
                   auto role_name = json::OptionalString(*body, "role");
                   if (!role_name.ok()) co_return role_name.error();
                   auto role = ParseRole(role_name->value_or("viewer"));
                   if (!role) {
                     co_return Error::InvalidRequest(
                         fmt::format("role \"{}\" is unknown; use viewer, user, admin or superadmin", **role_name),
                         "role");
                   }
                   if (!CanManageRole(c.principal->role, *role)) co_return RoleDenied(c.principal->role, *role, "create");
                   auto team = json::OptionalString(*body, "team");
                   if (!team.ok()) co_return team.error();
                   auto password = json::OptionalString(*body, "password");
                   if (!password.ok()) co_return password.error();
                   User user;
                   user.name = **name;
                   user.role = *role;
                   Status quota = ReadQuota(*body, user.quota);
                   if (!quota.ok()) co_return quota.error();

                   auto created_task = RunBlocking(*s.blocking, [&s, user, team_name = *team, new_password = *password]() mutable -> Result<User> {
                     if (team_name && !team_name->empty()) {
                       auto found = s.store->EnsureTeam(*team_name);
                       if (!found.ok()) return found.error();
                       user.team_id = found->id;
                     }
                     if (new_password) {
                       auto hash = HashPassword(*new_password);
                       if (!hash.ok()) return hash.error();
                       user.password_hash = *hash;
                     }
                     auto result = s.store->CreateUser(user);
                     if (result.ok()) (void)s.identity->Reload();
                     return result;
                   });
                   auto created = co_await std::move(created_task);
                   if (!created.ok()) co_return created.error();
                   spdlog::info("event=user_created request_id={} by={} user={} role={}", c.request_id,
                                c.principal->user_name, created->name, RoleName(created->role));
                   co_return Reply{201, ToJson(*created, WriteUser)};
                 }});

  AddRoute(Route{http::verb::get, "/admin/v1/users", Permission::kManageUsers, false,
                 [&s](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto users_task = RunBlocking(*s.blocking, [&s] { return s.store->ListUsers(); });
                   auto users = co_await std::move(users_task);
                   if (!users.ok()) co_return users.error();
                   co_return Reply{200, ListJson(*users, WriteUser)};
                 }});

  AddRoute(Route{http::verb::get, "/admin/v1/users/{id}", Permission::kManageUsers, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto id = ParseId(c.PathParam("id"), "user");
                   if (!id.ok()) co_return id.error();
                   auto user_task = RunBlocking(*s.blocking, [&s, user_id = *id] { return s.store->GetUser(user_id); });
                   auto user = co_await std::move(user_task);
                   if (!user.ok()) co_return user.error();
                   co_return Reply{200, ToJson(*user, WriteUser)};
                 }});

  AddRoute(Route{http::verb::patch, "/admin/v1/users/{id}", Permission::kManageUsers, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto id = ParseId(c.PathParam("id"), "user");
                   if (!id.ok()) co_return id.error();
                   auto body = json::ParseObject(c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   auto current_task = RunBlocking(*s.blocking, [&s, user_id = *id] { return s.store->GetUser(user_id); });
                   auto current = co_await std::move(current_task);
                   if (!current.ok()) co_return current.error();
                   User user = *current;
                   if (!CanManageRole(c.principal->role, user.role)) co_return RoleDenied(c.principal->role, user.role, "change");

                   auto role_name = json::OptionalString(*body, "role");
                   if (!role_name.ok()) co_return role_name.error();
                   if (*role_name) {
                     auto role = ParseRole(**role_name);
                     if (!role) co_return Error::InvalidRequest(fmt::format("role \"{}\" is unknown", **role_name), "role");
                     if (!CanManageRole(c.principal->role, *role)) co_return RoleDenied(c.principal->role, *role, "grant the role to");
                     user.role = *role;
                   }
                   auto disabled = json::OptionalBool(*body, "disabled");
                   if (!disabled.ok()) co_return disabled.error();
                   if (*disabled) user.disabled = **disabled;
                   Status quota = ReadQuota(*body, user.quota);
                   if (!quota.ok()) co_return quota.error();
                   auto team = json::OptionalString(*body, "team");
                   if (!team.ok()) co_return team.error();
                   auto password = json::OptionalString(*body, "password");
                   if (!password.ok()) co_return password.error();

                   auto updated_task = RunBlocking(*s.blocking, [&s, user, team_name = *team, new_password = *password]() mutable -> Result<User> {
                     if (team_name) {
                       if (team_name->empty()) {
                         user.team_id = 0;
                       } else {
                         auto found = s.store->EnsureTeam(*team_name);
                         if (!found.ok()) return found.error();
                         user.team_id = found->id;
                       }
                     }
                     if (new_password) {
                       auto hash = HashPassword(*new_password);
                       if (!hash.ok()) return hash.error();
                       user.password_hash = *hash;
                     }
                     Status status = s.store->UpdateUser(user);
                     if (!status.ok()) return status.error();
                     (void)s.identity->Reload();
                     return s.store->GetUser(user.id);
                   });
                   auto updated = co_await std::move(updated_task);
                   if (!updated.ok()) co_return updated.error();
                   spdlog::info("event=user_updated request_id={} by={} user={} role={} disabled={}", c.request_id,
                                c.principal->user_name, updated->name, RoleName(updated->role), updated->disabled);
                   co_return Reply{200, ToJson(*updated, WriteUser)};
                 }});

  AddRoute(Route{http::verb::post, "/admin/v1/teams", Permission::kManageUsers, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto body = json::ParseObject(c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   auto name = json::OptionalString(*body, "name");
                   if (!name.ok()) co_return name.error();
                   if (!*name || (*name)->empty()) co_return Error::InvalidRequest("name is missing", "name");
                   auto team_task = RunBlocking(*s.blocking, [&s, team_name = **name] { return s.store->CreateTeam(team_name); });
                   auto team = co_await std::move(team_task);
                   if (!team.ok()) co_return team.error();
                   co_return Reply{201, fmt::format(R"({{"id":{},"name":{},"created_at":{}}})", team->id,
                                                   json::Serialize(json::Value(team->name.c_str(), static_cast<rapidjson::SizeType>(team->name.size()))), team->created_at)};
                 }});

  AddRoute(Route{http::verb::get, "/admin/v1/teams", Permission::kManageUsers, false,
                 [&s](RequestContext&, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto teams_task = RunBlocking(*s.blocking, [&s] { return s.store->ListTeams(); });
                   auto teams = co_await std::move(teams_task);
                   if (!teams.ok()) co_return teams.error();
                   co_return Reply{200, ListJson(*teams, [](json::Writer& writer, const Team& team) {
                                     writer.StartObject();
                                     json::Field(writer, "id", team.id);
                                     json::Field(writer, "name", team.name);
                                     json::Field(writer, "created_at", team.created_at);
                                     writer.EndObject();
                                   })};
                 }});

  AddRoute(Route{http::verb::post, "/admin/v1/keys", Permission::kOwnKeys, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto body = json::ParseObject(c.http.message.body().empty() ? "{}" : c.http.message.body());
                   if (!body.ok()) co_return body.error();
                   auto user_id = json::OptionalInt(*body, "user_id");
                   if (!user_id.ok()) co_return user_id.error();
                   auto name = json::OptionalString(*body, "name");
                   if (!name.ok()) co_return name.error();
                   auto expires_in_days = json::OptionalInt(*body, "expires_in_days");
                   if (!expires_in_days.ok()) co_return expires_in_days.error();
                   auto expires_at = json::OptionalInt(*body, "expires_at");
                   if (!expires_at.ok()) co_return expires_at.error();
                   if (*expires_in_days && **expires_in_days < 1) {
                     co_return Error::InvalidRequest("expires_in_days must be at least 1", "expires_in_days");
                   }
                   if (*expires_at && **expires_at <= NowSeconds()) {
                     co_return Error::InvalidRequest(fmt::format("expires_at {} is in the past; give Unix seconds in the future", **expires_at), "expires_at");
                   }
                   ApiKey key;
                   key.user_id = user_id->value_or(c.principal->user_id);
                   key.name = name->value_or("");
                   key.expires_at = *expires_at ? **expires_at : (*expires_in_days ? NowSeconds() + **expires_in_days * 86400 : 0);
                   auto models = body->FindMember("models");
                   if (models != body->MemberEnd() && !models->value.IsNull()) {
                     if (!models->value.IsArray()) co_return Error::InvalidRequest("models must be an array of model names", "models", "invalid_type");
                     for (const auto& model : models->value.GetArray()) {
                       if (!model.IsString()) co_return Error::InvalidRequest("models must contain only strings", "models", "invalid_type");
                       key.models.emplace_back(model.GetString(), model.GetStringLength());
                     }
                   }

                   Principal actor = *c.principal;
                   std::string secret = s.identity->secret();
                   auto created_task = RunBlocking(*s.blocking, [&s, key, actor, secret]() mutable -> Result<std::pair<ApiKey, std::string>> {
                     if (key.user_id != actor.user_id) {
                       // Keys for someone else need admin, and only for roles the actor manages.
                       if (!Allows(actor.role, Permission::kManageUsers)) {
                         return Error::PermissionDenied(fmt::format(
                             "role {} may not create a key for another user; only admins do", RoleName(actor.role)));
                       }
                       auto owner = s.store->GetUser(key.user_id);
                       if (!owner.ok()) return owner.error();
                       if (!CanManageRole(actor.role, owner->role)) return RoleDenied(actor.role, owner->role, "create a key for");
                     }
                     std::string plain = GenerateApiKey();
                     key.prefix = DisplayPrefix(plain);
                     key.hash = HashApiKey(secret, plain);
                     auto stored = s.store->CreateKey(key);
                     if (!stored.ok()) return stored.error();
                     (void)s.identity->Reload();
                     return std::make_pair(*stored, plain);
                   });
                   auto created = co_await std::move(created_task);
                   if (!created.ok()) co_return created.error();
                   spdlog::info("event=key_created request_id={} by={} key_id={} prefix={} user_id={}", c.request_id,
                                c.principal->user_name, created->first.id, created->first.prefix, created->first.user_id);
                   // The key itself appears in this response only; it is never stored or logged.
                   std::string json = ToJson(created->first, WriteKey);
                   json.pop_back();
                   json += ",\"key\":\"" + created->second + "\"}";
                   co_return Reply{201, json};
                 }});

  AddRoute(Route{http::verb::get, "/admin/v1/keys", Permission::kOwnKeys, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   int64_t user_id = c.principal->user_id;
                   if (Allows(c.principal->role, Permission::kManageUsers)) {
                     auto filter = c.query.find("user_id");
                     user_id = 0;
                     if (filter != c.query.end() && !filter->second.empty()) {
                       auto parsed = ParseId(filter->second, "user");
                       if (!parsed.ok()) co_return parsed.error();
                       user_id = *parsed;
                     }
                   }
                   auto keys_task = RunBlocking(*s.blocking, [&s, user_id] { return s.store->ListKeys(user_id); });
                   auto keys = co_await std::move(keys_task);
                   if (!keys.ok()) co_return keys.error();
                   co_return Reply{200, ListJson(*keys, WriteKey)};
                 }});

  AddRoute(Route{http::verb::delete_, "/admin/v1/keys/{id}", Permission::kOwnKeys, false,
                 [&s](RequestContext& c, ResponseWriter&) -> asio::awaitable<Result<Reply>> {
                   auto id = ParseId(c.PathParam("id"), "API key");
                   if (!id.ok()) co_return id.error();
                   Principal actor = *c.principal;
                   auto revoked_task = RunBlocking(*s.blocking, [&s, key_id = *id, actor]() -> Status {
                     auto key = s.store->GetKey(key_id);
                     if (!key.ok()) return key.error();
                     if (key->user_id != actor.user_id) {
                       if (!Allows(actor.role, Permission::kManageUsers)) {
                         return Error::NotFound(fmt::format("API key {} does not exist among your keys", key_id));
                       }
                       auto owner = s.store->GetUser(key->user_id);
                       if (!owner.ok()) return owner.error();
                       if (!CanManageRole(actor.role, owner->role)) return RoleDenied(actor.role, owner->role, "revoke a key of");
                     }
                     Status status = s.store->RevokeKey(key_id, NowSeconds());
                     if (!status.ok()) return status;
                     return s.identity->Reload();
                   });
                   auto revoked = co_await std::move(revoked_task);
                   if (!revoked.ok()) co_return revoked.error();
                   spdlog::info("event=key_revoked request_id={} by={} key_id={}", c.request_id, c.principal->user_name, *id);
                   co_return Reply{200, fmt::format(R"({{"id":{},"revoked":true}})", *id)};
                 }});

  AddAuditRoutes();
  AddModelAdminRoutes();
}

}  // namespace weir
