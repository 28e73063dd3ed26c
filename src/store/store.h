// Store: durable state of users, teams, API keys, conversations and model
// overrides.
//
// Implementations: SqliteStore (embedded default, one file in WAL mode). A
// PostgreSQL store for several gateway replicas implements the same interface.
//
// Threading: every method may block on disk, so the gateway calls them from
// its blocking pool, never from an io thread. Implementations are safe to call
// from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "common/result.h"

namespace weir {

// Per-user quota overrides; an unset field falls back to the role default.
struct QuotaOverride {
  std::optional<double> requests_per_second;
  std::optional<double> burst;
  std::optional<int64_t> tokens_per_minute;
  std::optional<int64_t> daily_tokens;
};

struct Team {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;  // Unix seconds.
};

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  int64_t team_id = 0;     // 0 when the user has no team.
  std::string team_name;
  int64_t created_at = 0;  // Unix seconds.
  bool disabled = false;
  QuotaOverride quota;
  std::string password_hash;  // Argon2 encoded hash; empty when no password is set.
};

// An API key as stored: never the key itself, only its HMAC and a display prefix.
struct ApiKey {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string name;
  std::string prefix;       // First characters of the key, for display, e.g. "wr-3fA9c2".
  std::string hash;         // Hex HMAC-SHA-256 of the whole key with the server secret.
  int64_t created_at = 0;
  int64_t expires_at = 0;   // Unix seconds; 0 = never.
  int64_t revoked_at = 0;   // Unix seconds; 0 = active.
  std::vector<std::string> models;  // Allowed models; empty = every model.
};

struct Conversation {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string title;
  std::string model;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct ConversationMessage {
  std::string role;
  std::string content;
  int64_t created_at = 0;
};

// A change an admin made to a model at run time, kept across restarts.
struct ModelOverrideRecord {
  std::string name;
  std::string params_json;            // ModelParams fields that were set.
  std::string upstream_weights_json;  // {"<upstream id>": weight}
  std::string registration_yaml;      // Whole model entry when registered at run time.
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<Team> CreateTeam(const std::string& name) = 0;
  virtual Result<std::vector<Team>> ListTeams() = 0;
  // Returns the team with this name, creating it when missing.
  virtual Result<Team> EnsureTeam(const std::string& name) = 0;

  virtual Result<User> CreateUser(const User& user) = 0;
  virtual Result<User> GetUser(int64_t id) = 0;
  virtual Result<User> FindUserByName(const std::string& name) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Status UpdateUser(const User& user) = 0;
  virtual Result<int64_t> CountUsers() = 0;

  virtual Result<ApiKey> CreateKey(const ApiKey& key) = 0;
  virtual Result<ApiKey> GetKey(int64_t id) = 0;
  // Lists keys of one user, or of everyone when `user_id` is 0.
  virtual Result<std::vector<ApiKey>> ListKeys(int64_t user_id) = 0;
  virtual Status RevokeKey(int64_t id, int64_t revoked_at) = 0;

  virtual Result<Conversation> CreateConversation(const Conversation& conversation) = 0;
  virtual Result<Conversation> GetConversation(int64_t id) = 0;
  virtual Result<std::vector<Conversation>> ListConversations(int64_t user_id) = 0;
  virtual Result<std::vector<ConversationMessage>> ListMessages(int64_t conversation_id) = 0;
  // Appends messages and bumps the conversation's updated_at, in one transaction.
  virtual Status AppendMessages(int64_t conversation_id, const std::vector<ConversationMessage>& messages) = 0;
  virtual Status DeleteConversation(int64_t id) = 0;

  virtual Result<std::vector<ModelOverrideRecord>> ListModelOverrides() = 0;
  virtual Status SaveModelOverride(const ModelOverrideRecord& record) = 0;

  // Reads a server-wide setting, e.g. the HMAC secret; empty when unset.
  virtual Result<std::string> GetSetting(const std::string& name) = 0;
  virtual Status SetSetting(const std::string& name, const std::string& value) = 0;

  // A number that changes whenever another process commits to the store, so a
  // cache can notice writes made by the `weir` command line.
  virtual int64_t DataVersion() = 0;
};

// Opens (and creates when missing) the SQLite store at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace weir
