// IdentityCache: resolves an Authorization header to a Principal without
// touching the store on the request path.
//
// The cache holds every API key (by HMAC) and every user in memory. Writes made
// through the gateway call Reload() before they return, so a revoked key is
// rejected on the next request. Writes made by another process (the `weir`
// command line) are noticed by ReloadIfChanged(), which the server calls every
// 250 ms.
//
// Threading: Authenticate() is safe from any thread and never blocks on the
// store; Reload() and ReloadIfChanged() block on the store and must run on the
// blocking pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/role.h"
#include "common/result.h"
#include "store/store.h"

namespace weir {

// The authenticated caller of one request.
struct Principal {
  int64_t user_id = 0;
  std::string user_name;
  Role role = Role::kViewer;
  int64_t team_id = 0;
  std::string team_name;
  int64_t user_created_at = 0;
  int64_t key_id = 0;              // 0 for a web session.
  std::string key_prefix;
  std::vector<std::string> models;  // Allowed models; empty = every model.
  QuotaOverride quota;

  bool MayUseModel(std::string_view model) const;
};

class IdentityCache {
 public:
  IdentityCache(Store& store, std::string secret);

  // Loads every key and user from the store.
  Status Reload();
  // Reloads when another process committed to the store since the last load.
  Status ReloadIfChanged();

  // Authenticates a request from its Authorization header value ("Bearer wr-…").
  // `now` is Unix seconds. Returns 401 Errors for a missing, malformed, unknown,
  // revoked or expired key and for a disabled user.
  Result<Principal> Authenticate(std::string_view authorization, int64_t now) const;
  // Builds the Principal of a known user (web sessions); 401 when disabled or missing.
  Result<Principal> PrincipalForUser(int64_t user_id) const;

  const std::string& secret() const { return secret_; }

 private:
  struct Snapshot {
    std::unordered_map<std::string, ApiKey> keys_by_hash;
    std::unordered_map<int64_t, User> users_by_id;
  };

  Store& store_;
  std::string secret_;
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<int64_t> data_version_{-1};
};

// Reads the HMAC secret from `path`, creating it with 32 random bytes (mode
// 0600) on first start. WEIR_SECRET, when set, takes precedence.
Result<std::string> LoadOrCreateSecret(const std::string& path);

}  // namespace weir
