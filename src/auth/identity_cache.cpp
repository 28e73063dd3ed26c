#include "auth/identity_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include "auth/api_key.h"

namespace weir {

bool Principal::MayUseModel(std::string_view model) const {
  if (models.empty()) return true;
  return std::find(models.begin(), models.end(), model) != models.end();
}

IdentityCache::IdentityCache(Store& store, std::string secret)
    : store_(store), secret_(std::move(secret)), snapshot_(std::make_shared<Snapshot>()) {}

Status IdentityCache::Reload() {
  // Read the version first: a commit that lands during the load bumps it again,
  // so the next ReloadIfChanged() picks that commit up.
  int64_t version = store_.DataVersion();
  auto keys = store_.ListKeys(0);
  if (!keys.ok()) return keys.error();
  auto users = store_.ListUsers();
  if (!users.ok()) return users.error();

  auto snapshot = std::make_shared<Snapshot>();
  for (auto& key : *keys) snapshot->keys_by_hash.emplace(key.hash, std::move(key));
  for (auto& user : *users) snapshot->users_by_id.emplace(user.id, std::move(user));
  {
    std::unique_lock lock(mutex_);
    snapshot_ = std::move(snapshot);
  }
  data_version_.store(version);
  return Status::Ok();
}

Status IdentityCache::ReloadIfChanged() {
  if (store_.DataVersion() == data_version_.load()) return Status::Ok();
  return Reload();
}

Result<Principal> IdentityCache::Authenticate(std::string_view authorization, int64_t now) const {
  if (authorization.empty()) {
    return Error::Unauthenticated(
        "missing API key; send it as the header \"Authorization: Bearer wr-...\"", "missing_api_key");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                                                            [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Error::Unauthenticated("malformed Authorization header; expected \"Bearer wr-...\"");
  }
  std::string_view key = authorization.substr(kBearer.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (!IsWellFormedApiKey(key)) {
    return Error::Unauthenticated(fmt::format(
        "malformed API key (prefix \"{}\", length {}); Weir keys start with \"wr-\" and have {} characters",
        key.substr(0, std::min<size_t>(3, key.size())), key.size(), kApiKeyPrefix.size() + kApiKeyRandomLength));
  }

  std::string hash = HashApiKey(secret_, key);
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::shared_lock lock(mutex_);
    snapshot = snapshot_;
  }
  auto found = snapshot->keys_by_hash.find(hash);
  if (found == snapshot->keys_by_hash.end()) {
    return Error::Unauthenticated(
        fmt::format("unknown API key {}; check the key or ask an admin for a new one", DisplayPrefix(key)));
  }
  const ApiKey& record = found->second;
  if (record.revoked_at != 0) {
    return Error::Unauthenticated(fmt::format("API key {} was revoked; ask an admin for a new one", record.prefix),
                                  "revoked_api_key");
  }
  if (record.expires_at != 0 && record.expires_at <= now) {
    return Error::Unauthenticated(fmt::format("API key {} expired; ask an admin for a new one", record.prefix),
                                  "expired_api_key");
  }

  auto user = snapshot->users_by_id.find(record.user_id);
  if (user == snapshot->users_by_id.end() || user->second.disabled) {
    return Error::Unauthenticated(fmt::format("the user of API key {} is disabled", record.prefix), "user_disabled");
  }
  Principal principal;
  principal.user_id = user->second.id;
  principal.user_name = user->second.name;
  principal.role = user->second.role;
  principal.team_id = user->second.team_id;
  principal.team_name = user->second.team_name;
  principal.user_created_at = user->second.created_at;
  principal.quota = user->second.quota;
  principal.key_id = record.id;
  principal.key_prefix = record.prefix;
  principal.models = record.models;
  return principal;
}

Result<Principal> IdentityCache::PrincipalForUser(int64_t user_id) const {
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::shared_lock lock(mutex_);
    snapshot = snapshot_;
  }
  auto user = snapshot->users_by_id.find(user_id);
  if (user == snapshot->users_by_id.end() || user->second.disabled) {
    return Error::Unauthenticated("the session's user no longer exists or is disabled; sign in again",
                                  "invalid_session");
  }
  Principal principal;
  principal.user_id = user->second.id;
  principal.user_name = user->second.name;
  principal.role = user->second.role;
  principal.team_id = user->second.team_id;
  principal.team_name = user->second.team_name;
  principal.user_created_at = user->second.created_at;
  principal.quota = user->second.quota;
  return principal;
}

Result<std::string> LoadOrCreateSecret(const std::string& path) {
  if (const char* env = std::getenv("WEIR_SECRET"); env != nullptr && *env != '\0') return std::string(env);
  std::ifstream in(path);
  if (in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
    return Error::Internal(fmt::format("secret file {} is shorter than 32 characters; remove it to generate a "
                                       "new one (every API key must then be reissued)",
                                       path));
  }
  std::string secret = RandomBase62(48);
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Error::Internal(fmt::format("cannot write secret file {}; check the data directory", path));
  out << secret << "\n";
  out.close();
  chmod(path.c_str(), S_IRUSR | S_IWUSR);
  return secret;
}

}  // namespace weir
