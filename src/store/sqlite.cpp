#include "store/sqlite.h"

#include <fmt/format.h>

namespace weir::sqlite {

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_CONSTRAINT) return Error::Conflict(fmt::format("constraint failed: {}", sqlite3_errmsg(db_)));
  return Error::Internal(fmt::format("SQLite step failed: {}", sqlite3_errmsg(db_)));
}

Status Statement::Run() {
  auto row = Step();
  if (!row.ok()) return row.error();
  return Status::Ok();
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Open(const std::string& path) {
  path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    return Error::Internal(fmt::format("cannot open SQLite database {}: {}; check that the data directory "
                                       "exists and is writable",
                                       path, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db_, 5000);
  Status status = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  return status;
}

Status Database::Exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return Error::Internal(fmt::format("SQLite error on {}: {}", path_, text));
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error::Internal(fmt::format("SQLite cannot prepare \"{}\": {}", sql, sqlite3_errmsg(db_)));
  }
  return Statement(db_, stmt);
}

}  // namespace weir::sqlite
