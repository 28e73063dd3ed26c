// SqliteStore: the embedded Store, one SQLite file in WAL mode. One connection
// guarded by a mutex; the gateway reads hot data (keys, users) through caches,
// so the store sees only writes and cache refills.
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "store/sqlite.h"
#include "store/store.h"

namespace weir {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS teams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  team_id INTEGER REFERENCES teams(id),
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  quota_rps REAL, quota_burst REAL, quota_tpm INTEGER, quota_daily INTEGER,
  password_hash TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  models TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS conversations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  title TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS model_overrides (
  name TEXT PRIMARY KEY,
  params TEXT NOT NULL DEFAULT '',
  upstream_weights TEXT NOT NULL DEFAULT '',
  registration TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string JoinModels(const std::vector<std::string>& models) {
  std::string joined;
  for (const auto& model : models) {
    if (!joined.empty()) joined += '\n';
    joined += model;
  }
  return joined;
}

std::vector<std::string> SplitModels(const std::string& joined) {
  std::vector<std::string> models;
  std::stringstream stream(joined);
  std::string model;
  while (std::getline(stream, model, '\n')) {
    if (!model.empty()) models.push_back(model);
  }
  return models;
}

constexpr const char* kUserColumns =
    "u.id, u.name, u.role, COALESCE(u.team_id, 0), COALESCE(t.name, ''), u.created_at, u.disabled, "
    "u.quota_rps, u.quota_burst, u.quota_tpm, u.quota_daily, u.password_hash "
    "FROM users u LEFT JOIN teams t ON t.id = u.team_id";

User ReadUser(const sqlite::Statement& row) {
  User user;
  user.id = row.Int(0);
  user.name = row.Text(1);
  user.role = ParseRole(row.Text(2)).value_or(Role::kViewer);
  user.team_id = row.Int(3);
  user.team_name = row.Text(4);
  user.created_at = row.Int(5);
  user.disabled = row.Int(6) != 0;
  if (!row.IsNull(7)) user.quota.requests_per_second = row.Real(7);
  if (!row.IsNull(8)) user.quota.burst = row.Real(8);
  if (!row.IsNull(9)) user.quota.tokens_per_minute = row.Int(9);
  if (!row.IsNull(10)) user.quota.daily_tokens = row.Int(10);
  user.password_hash = row.Text(11);
  return user;
}

constexpr const char* kKeyColumns =
    "id, user_id, name, prefix, hash, created_at, expires_at, revoked_at, models FROM api_keys";

ApiKey ReadKey(const sqlite::Statement& row) {
  ApiKey key;
  key.id = row.Int(0);
  key.user_id = row.Int(1);
  key.name = row.Text(2);
  key.prefix = row.Text(3);
  key.hash = row.Text(4);
  key.created_at = row.Int(5);
  key.expires_at = row.Int(6);
  key.revoked_at = row.Int(7);
  key.models = SplitModels(row.Text(8));
  return key;
}

template <typename T>
void BindOptional(sqlite::Statement& stmt, int index, const std::optional<T>& value) {
  if (value) {
    stmt.Bind(index, *value);
  } else {
    stmt.BindNull(index);
  }
}

class SqliteStore final : public Store {
 public:
  Status Open(const std::string& path) {
    Status status = db_.Open(path);
    if (!status.ok()) return status;
    return db_.Exec(kSchema);
  }

  Result<Team> CreateTeam(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return CreateTeamLocked(name);
  }

  Result<std::vector<Team>> ListTeams() override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("SELECT id, name, created_at FROM teams ORDER BY id");
    if (!stmt.ok()) return stmt.error();
    std::vector<Team> teams;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      teams.push_back(Team{stmt->Int(0), stmt->Text(1), stmt->Int(2)});
    }
    return teams;
  }

  Result<Team> EnsureTeam(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("SELECT id, name, created_at FROM teams WHERE name = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, name);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (*row) return Team{stmt->Int(0), stmt->Text(1), stmt->Int(2)};
    return CreateTeamLocked(name);
  }

  Result<User> CreateUser(const User& user) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "INSERT INTO users (name, role, team_id, created_at, disabled, quota_rps, quota_burst, quota_tpm, "
        "quota_daily, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.error();
    int64_t created_at = user.created_at ? user.created_at : Now();
    stmt->Bind(1, user.name).Bind(2, RoleName(user.role));
    if (user.team_id) {
      stmt->Bind(3, user.team_id);
    } else {
      stmt->BindNull(3);
    }
    stmt->Bind(4, created_at).Bind(5, static_cast<int64_t>(user.disabled));
    BindOptional(*stmt, 6, user.quota.requests_per_second);
    BindOptional(*stmt, 7, user.quota.burst);
    BindOptional(*stmt, 8, user.quota.tokens_per_minute);
    BindOptional(*stmt, 9, user.quota.daily_tokens);
    stmt->Bind(10, user.password_hash);
    Status status = stmt->Run();
    if (!status.ok()) {
      if (status.error().http_status == 409) {
        return Error::Conflict(fmt::format("a user named \"{}\" already exists; pick another name", user.name));
      }
      return status.error();
    }
    return GetUserLocked(db_.LastInsertId());
  }

  Result<User> GetUser(int64_t id) override {
    std::lock_guard lock(mutex_);
    return GetUserLocked(id);
  }

  Result<User> FindUserByName(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(std::string("SELECT ") + kUserColumns + " WHERE u.name = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, name);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return Error::NotFound(fmt::format("user \"{}\" does not exist", name));
    return ReadUser(*stmt);
  }

  Result<std::vector<User>> ListUsers() override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(std::string("SELECT ") + kUserColumns + " ORDER BY u.id");
    if (!stmt.ok()) return stmt.error();
    std::vector<User> users;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      users.push_back(ReadUser(*stmt));
    }
    return users;
  }

  Status UpdateUser(const User& user) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "UPDATE users SET role = ?, team_id = ?, disabled = ?, quota_rps = ?, quota_burst = ?, quota_tpm = ?, "
        "quota_daily = ?, password_hash = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, RoleName(user.role));
    if (user.team_id) {
      stmt->Bind(2, user.team_id);
    } else {
      stmt->BindNull(2);
    }
    stmt->Bind(3, static_cast<int64_t>(user.disabled));
    BindOptional(*stmt, 4, user.quota.requests_per_second);
    BindOptional(*stmt, 5, user.quota.burst);
    BindOptional(*stmt, 6, user.quota.tokens_per_minute);
    BindOptional(*stmt, 7, user.quota.daily_tokens);
    stmt->Bind(8, user.password_hash).Bind(9, user.id);
    Status status = stmt->Run();
    if (!status.ok()) return status;
    if (db_.Changes() == 0) return Error::NotFound(fmt::format("user {} does not exist", user.id));
    return Status::Ok();
  }

  Result<int64_t> CountUsers() override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("SELECT COUNT(*) FROM users");
    if (!stmt.ok()) return stmt.error();
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    return stmt->Int(0);
  }

  Result<ApiKey> CreateKey(const ApiKey& key) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "INSERT INTO api_keys (user_id, name, prefix, hash, created_at, expires_at, revoked_at, models) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?)");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, key.user_id)
        .Bind(2, key.name)
        .Bind(3, key.prefix)
        .Bind(4, key.hash)
        .Bind(5, key.created_at ? key.created_at : Now())
        .Bind(6, key.expires_at)
        .Bind(7, JoinModels(key.models));
    Status status = stmt->Run();
    if (!status.ok()) return status.error();
    return GetKeyLocked(db_.LastInsertId());
  }

  Result<ApiKey> GetKey(int64_t id) override {
    std::lock_guard lock(mutex_);
    return GetKeyLocked(id);
  }

  Result<std::vector<ApiKey>> ListKeys(int64_t user_id) override {
    std::lock_guard lock(mutex_);
    std::string sql = std::string("SELECT ") + kKeyColumns + (user_id ? " WHERE user_id = ?" : "") + " ORDER BY id";
    auto stmt = db_.Prepare(sql);
    if (!stmt.ok()) return stmt.error();
    if (user_id) stmt->Bind(1, user_id);
    std::vector<ApiKey> keys;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      keys.push_back(ReadKey(*stmt));
    }
    return keys;
  }

  Status RevokeKey(int64_t id, int64_t revoked_at) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, revoked_at).Bind(2, id);
    Status status = stmt->Run();
    if (!status.ok()) return status;
    if (db_.Changes() == 0) {
      auto existing = GetKeyLocked(id);
      if (!existing.ok()) return existing.error();
    }
    return Status::Ok();
  }

  Result<Conversation> CreateConversation(const Conversation& conversation) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "INSERT INTO conversations (user_id, title, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
    if (!stmt.ok()) return stmt.error();
    int64_t now = Now();
    stmt->Bind(1, conversation.user_id).Bind(2, conversation.title).Bind(3, conversation.model).Bind(4, now).Bind(5, now);
    Status status = stmt->Run();
    if (!status.ok()) return status.error();
    return GetConversationLocked(db_.LastInsertId());
  }

  Result<Conversation> GetConversation(int64_t id) override {
    std::lock_guard lock(mutex_);
    return GetConversationLocked(id);
  }

  Result<std::vector<Conversation>> ListConversations(int64_t user_id) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "SELECT id, user_id, title, model, created_at, updated_at FROM conversations WHERE user_id = ? "
        "ORDER BY updated_at DESC, id DESC");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, user_id);
    std::vector<Conversation> conversations;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      conversations.push_back(ReadConversation(*stmt));
    }
    return conversations;
  }

  Result<std::vector<ConversationMessage>> ListMessages(int64_t conversation_id) override {
    std::lock_guard lock(mutex_);
    auto stmt =
        db_.Prepare("SELECT role, content, created_at FROM messages WHERE conversation_id = ? ORDER BY id");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, conversation_id);
    std::vector<ConversationMessage> messages;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      messages.push_back(ConversationMessage{stmt->Text(0), stmt->Text(1), stmt->Int(2)});
    }
    return messages;
  }

  Status AppendMessages(int64_t conversation_id, const std::vector<ConversationMessage>& messages) override {
    std::lock_guard lock(mutex_);
    Status status = db_.Exec("BEGIN IMMEDIATE");
    if (!status.ok()) return status;
    status = AppendMessagesLocked(conversation_id, messages);
    Status end = db_.Exec(status.ok() ? "COMMIT" : "ROLLBACK");
    return status.ok() ? end : status;
  }

  Status DeleteConversation(int64_t id) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("DELETE FROM conversations WHERE id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, id);
    Status status = stmt->Run();
    if (!status.ok()) return status;
    if (db_.Changes() == 0) return Error::NotFound(fmt::format("conversation {} does not exist", id));
    return Status::Ok();
  }

  Result<std::vector<ModelOverrideRecord>> ListModelOverrides() override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("SELECT name, params, upstream_weights, registration FROM model_overrides ORDER BY name");
    if (!stmt.ok()) return stmt.error();
    std::vector<ModelOverrideRecord> records;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      records.push_back(ModelOverrideRecord{stmt->Text(0), stmt->Text(1), stmt->Text(2), stmt->Text(3)});
    }
    return records;
  }

  Status SaveModelOverride(const ModelOverrideRecord& record) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "INSERT INTO model_overrides (name, params, upstream_weights, registration) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET params = excluded.params, upstream_weights = excluded.upstream_weights, "
        "registration = excluded.registration");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, record.name)
        .Bind(2, record.params_json)
        .Bind(3, record.upstream_weights_json)
        .Bind(4, record.registration_yaml);
    return stmt->Run();
  }

  Result<std::string> GetSetting(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("SELECT value FROM settings WHERE name = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, name);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return std::string();
    return stmt->Text(0);
  }

  Status SetSetting(const std::string& name, const std::string& value) override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, name).Bind(2, value);
    return stmt->Run();
  }

  int64_t DataVersion() override {
    std::lock_guard lock(mutex_);
    auto stmt = db_.Prepare("PRAGMA data_version");
    if (!stmt.ok()) return -1;
    auto row = stmt->Step();
    if (!row.ok() || !*row) return -1;
    return stmt->Int(0);
  }

 private:
  Result<Team> CreateTeamLocked(const std::string& name) {
    if (name.empty()) return Error::InvalidRequest("team name is empty; give the team a name", "name");
    auto stmt = db_.Prepare("INSERT INTO teams (name, created_at) VALUES (?, ?)");
    if (!stmt.ok()) return stmt.error();
    int64_t now = Now();
    stmt->Bind(1, name).Bind(2, now);
    Status status = stmt->Run();
    if (!status.ok()) {
      if (status.error().http_status == 409) {
        return Error::Conflict(fmt::format("a team named \"{}\" already exists", name));
      }
      return status.error();
    }
    return Team{db_.LastInsertId(), name, now};
  }

  Result<User> GetUserLocked(int64_t id) {
    auto stmt = db_.Prepare(std::string("SELECT ") + kUserColumns + " WHERE u.id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, id);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return Error::NotFound(fmt::format("user {} does not exist", id));
    return ReadUser(*stmt);
  }

  Result<ApiKey> GetKeyLocked(int64_t id) {
    auto stmt = db_.Prepare(std::string("SELECT ") + kKeyColumns + " WHERE id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, id);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return Error::NotFound(fmt::format("API key {} does not exist", id));
    return ReadKey(*stmt);
  }

  static Conversation ReadConversation(const sqlite::Statement& row) {
    return Conversation{row.Int(0), row.Int(1), row.Text(2), row.Text(3), row.Int(4), row.Int(5)};
  }

  Result<Conversation> GetConversationLocked(int64_t id) {
    auto stmt =
        db_.Prepare("SELECT id, user_id, title, model, created_at, updated_at FROM conversations WHERE id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, id);
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!*row) return Error::NotFound(fmt::format("conversation {} does not exist", id));
    return ReadConversation(*stmt);
  }

  Status AppendMessagesLocked(int64_t conversation_id, const std::vector<ConversationMessage>& messages) {
    int64_t now = Now();
    for (const auto& message : messages) {
      auto stmt = db_.Prepare("INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?, ?, ?, ?)");
      if (!stmt.ok()) return stmt.error();
      stmt->Bind(1, conversation_id).Bind(2, message.role).Bind(3, message.content);
      stmt->Bind(4, message.created_at ? message.created_at : now);
      Status status = stmt->Run();
      if (!status.ok()) return status;
    }
    auto stmt = db_.Prepare("UPDATE conversations SET updated_at = ? WHERE id = ?");
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, now).Bind(2, conversation_id);
    return stmt->Run();
  }

  std::mutex mutex_;
  sqlite::Database db_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = std::make_unique<SqliteStore>();
  Status status = store->Open(path);
  if (!status.ok()) return status.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace weir
