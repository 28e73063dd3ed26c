// `weir users`, `weir keys` and `weir audit`: administration from the command
// line, working on the data directory directly. A running server notices
// these writes within 250 ms (it watches the store's data version).
#include <ctime>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "audit/audit_sink.h"
#include "auth/api_key.h"
#include "auth/identity_cache.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "config/config.h"
#include "store/store.h"

namespace weir::cli {
namespace {

struct Target {
  std::string config_path;
  std::string data_dir;
};

void AddTargetOptions(CLI::App* command, Target& target) {
  command->add_option("--config", target.config_path, "YAML config file to read data_dir from")->envname("WEIR_CONFIG");
  command->add_option("--data-dir", target.data_dir, "Data directory of the server (default ./data)");
}

Result<std::string> ResolveDataDir(const Target& target) {
  auto config = LoadConfig(target.config_path);
  if (!config.ok()) return config.error();
  return target.data_dir.empty() ? config->data_dir : target.data_dir;
}

Result<std::unique_ptr<Store>> OpenStore(const Target& target) {
  auto data_dir = ResolveDataDir(target);
  if (!data_dir.ok()) return data_dir.error();
  return OpenSqliteStore(*data_dir + "/weir.db");
}

int Fail(const Error& error) {
  fmt::print(stderr, "error: {}\n", error.message);
  return error.http_status >= 400 && error.http_status < 500 ? 2 : 1;
}

std::string FormatTime(int64_t seconds) {
  if (seconds == 0) return "-";
  std::time_t time = static_cast<std::time_t>(seconds);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&time));
  return buffer;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

void AddUserCommands(CLI::App& app) {
  auto* users = app.add_subcommand("users", "Manage users");
  users->require_subcommand(1);

  auto* create = users->add_subcommand("create", "Create a user");
  auto target = std::make_shared<Target>();
  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("viewer");
  auto team = std::make_shared<std::string>();
  AddTargetOptions(create, *target);
  create->add_option("--name", *name, "User name (unique)")->required();
  create->add_option("--role", *role, "viewer, user, admin or superadmin")
      ->check(CLI::IsMember({"viewer", "user", "admin", "superadmin"}))
      ->capture_default_str();
  create->add_option("--team", *team, "Team name (created when missing)");
  create->callback([=] {
    auto store = OpenStore(*target);
    if (!store.ok()) return SetExitCode(Fail(store.error()));
    User user;
    user.name = *name;
    user.role = *ParseRole(*role);
    if (!team->empty()) {
      auto found = (*store)->EnsureTeam(*team);
      if (!found.ok()) return SetExitCode(Fail(found.error()));
      user.team_id = found->id;
    }
    auto created = (*store)->CreateUser(user);
    if (!created.ok()) return SetExitCode(Fail(created.error()));
    fmt::print("created user {} (id {}, role {})\n", created->name, created->id, RoleName(created->role));
  });

  auto* list = users->add_subcommand("list", "List users");
  auto list_target = std::make_shared<Target>();
  AddTargetOptions(list, *list_target);
  list->callback([=] {
    auto store = OpenStore(*list_target);
    if (!store.ok()) return SetExitCode(Fail(store.error()));
    auto all = (*store)->ListUsers();
    if (!all.ok()) return SetExitCode(Fail(all.error()));
    fmt::print("{:<6} {:<24} {:<11} {:<16} {}\n", "ID", "NAME", "ROLE", "TEAM", "DISABLED");
    for (const auto& user : *all) {
      fmt::print("{:<6} {:<24} {:<11} {:<16} {}\n", user.id, user.name, RoleName(user.role),
                 user.team_name.empty() ? "-" : user.team_name, user.disabled ? "yes" : "no");
    }
  });
}

void AddKeyCommands(CLI::App& app) {
  auto* keys = app.add_subcommand("keys", "Manage API keys");
  keys->require_subcommand(1);

  auto* create = keys->add_subcommand("create", "Create an API key and print it once");
  auto target = std::make_shared<Target>();
  auto user_name = std::make_shared<std::string>();
  auto key_name = std::make_shared<std::string>();
  auto days = std::make_shared<int>(0);
  auto models = std::make_shared<std::string>();
  AddTargetOptions(create, *target);
  create->add_option("--user", *user_name, "Owner's user name")->required();
  create->add_option("--name", *key_name, "Label for the key");
  create->add_option("--expires-in-days", *days, "Days until the key expires (0 = never)")->check(CLI::NonNegativeNumber);
  create->add_option("--models", *models, "Comma-separated models the key may use (default: all)");
  create->callback([=] {
    auto data_dir = ResolveDataDir(*target);
    if (!data_dir.ok()) return SetExitCode(Fail(data_dir.error()));
    auto store = OpenSqliteStore(*data_dir + "/weir.db");
    if (!store.ok()) return SetExitCode(Fail(store.error()));
    auto secret = LoadOrCreateSecret(*data_dir + "/secret.key");
    if (!secret.ok()) return SetExitCode(Fail(secret.error()));
    auto user = (*store)->FindUserByName(*user_name);
    if (!user.ok()) return SetExitCode(Fail(user.error()));
    std::string plain = GenerateApiKey();
    ApiKey key;
    key.user_id = user->id;
    key.name = *key_name;
    key.prefix = DisplayPrefix(plain);
    key.hash = HashApiKey(*secret, plain);
    key.models = SplitList(*models);
    if (*days > 0) key.expires_at = static_cast<int64_t>(std::time(nullptr)) + int64_t{*days} * 86400;
    auto created = (*store)->CreateKey(key);
    if (!created.ok()) return SetExitCode(Fail(created.error()));
    std::cerr << fmt::format("created key {} (id {}) for {}; it is shown once:\n", created->prefix, created->id,
                             user->name);
    std::cout << plain << std::endl;
  });

  auto* list = keys->add_subcommand("list", "List API keys (prefixes only)");
  auto list_target = std::make_shared<Target>();
  auto list_user = std::make_shared<std::string>();
  AddTargetOptions(list, *list_target);
  list->add_option("--user", *list_user, "Only this user's keys");
  list->callback([=] {
    auto store = OpenStore(*list_target);
    if (!store.ok()) return SetExitCode(Fail(store.error()));
    int64_t user_id = 0;
    if (!list_user->empty()) {
      auto user = (*store)->FindUserByName(*list_user);
      if (!user.ok()) return SetExitCode(Fail(user.error()));
      user_id = user->id;
    }
    auto all = (*store)->ListKeys(user_id);
    if (!all.ok()) return SetExitCode(Fail(all.error()));
    fmt::print("{:<6} {:<12} {:<8} {:<16} {:<21} {:<21} {}\n", "ID", "PREFIX", "USER", "NAME", "EXPIRES", "REVOKED",
               "MODELS");
    for (const auto& key : *all) {
      std::string joined;
      for (const auto& model : key.models) joined += (joined.empty() ? "" : ",") + model;
      fmt::print("{:<6} {:<12} {:<8} {:<16} {:<21} {:<21} {}\n", key.id, key.prefix, key.user_id,
                 key.name.empty() ? "-" : key.name, FormatTime(key.expires_at), FormatTime(key.revoked_at),
                 joined.empty() ? "*" : joined);
    }
  });

  auto* revoke = keys->add_subcommand("revoke", "Revoke an API key by id");
  auto revoke_target = std::make_shared<Target>();
  auto id = std::make_shared<int64_t>(0);
  AddTargetOptions(revoke, *revoke_target);
  revoke->add_option("id", *id, "Key id (see `weir keys list`)")->required();
  revoke->callback([=] {
    auto store = OpenStore(*revoke_target);
    if (!store.ok()) return SetExitCode(Fail(store.error()));
    Status status = (*store)->RevokeKey(*id, static_cast<int64_t>(std::time(nullptr)));
    if (!status.ok()) return SetExitCode(Fail(status.error()));
    fmt::print("revoked key {}\n", *id);
  });
}

void AddAuditCommands(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "Search the audit log");
  audit->require_subcommand(1);
  auto* search = audit->add_subcommand("search", "Search audit records, newest first");
  auto target = std::make_shared<Target>();
  auto query = std::make_shared<AuditQuery>();
  auto since = std::make_shared<int64_t>(0);
  auto until = std::make_shared<int64_t>(0);
  AddTargetOptions(search, *target);
  search->add_option("--user", query->user, "User name");
  search->add_option("--model", query->model, "Model name");
  search->add_option("--status", query->status, "HTTP status, or a class 1 to 5");
  search->add_option("--since", *since, "Unix seconds, inclusive");
  search->add_option("--until", *until, "Unix seconds, exclusive");
  search->add_option("--q", query->text, "Text in the request or response summary, route or error code");
  search->add_option("--limit", query->limit, "Records to show")->check(CLI::Range(1, 1000))->capture_default_str();
  search->callback([=] {
    auto data_dir = ResolveDataDir(*target);
    if (!data_dir.ok()) return SetExitCode(Fail(data_dir.error()));
    auto sink = OpenSqliteAuditSink(*data_dir + "/audit.db");
    if (!sink.ok()) return SetExitCode(Fail(sink.error()));
    AuditQuery q = *query;
    q.since_ms = *since * 1000;
    q.until_ms = *until * 1000;
    auto page = (*sink)->Search(q);
    if (!page.ok()) return SetExitCode(Fail(page.error()));
    fmt::print("{:<21} {:<26} {:<12} {:<12} {:<24} {:<6} {:>8} {:>6} {:>6}\n", "TIME", "REQUEST", "USER", "KEY",
               "ROUTE", "STATUS", "LAT_MS", "IN", "OUT");
    for (const auto& event : page->events) {
      fmt::print("{:<21} {:<26} {:<12} {:<12} {:<24} {:<6} {:>8} {:>6} {:>6}\n", FormatTime(event.time_ms / 1000),
                 event.request_id, event.user.empty() ? "-" : event.user,
                 event.key_prefix.empty() ? "-" : event.key_prefix, event.route, event.status, event.latency_ms,
                 event.prompt_tokens, event.completion_tokens);
    }
  });
}

}  // namespace

void AddAdminCommands(CLI::App& app) {
  AddUserCommands(app);
  AddKeyCommands(app);
  AddAuditCommands(app);
}

}  // namespace weir::cli
