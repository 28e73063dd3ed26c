#include "auth/session_store.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace weir {
namespace {

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kHex[data[i] >> 4];
    hex += kHex[data[i] & 0xf];
  }
  return hex;
}

std::string TokenDigest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return Hex(digest, sizeof(digest));
}

}  // namespace

SessionStore::SessionStore(std::chrono::seconds lifetime, size_t max_sessions)
    : lifetime_(lifetime), max_sessions_(max_sessions) {}

std::string SessionStore::Create(int64_t user_id, int64_t now) {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
  std::string token = Hex(random, sizeof(random));

  std::lock_guard lock(mutex_);
  DropExpiredLocked(now);
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.expires_at < b.second.expires_at;
    });
    sessions_.erase(oldest);
  }
  sessions_[TokenDigest(token)] = Session{user_id, now + lifetime_.count()};
  return token;
}

std::optional<int64_t> SessionStore::Lookup(std::string_view token, int64_t now) {
  if (token.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(TokenDigest(token));
  if (found == sessions_.end()) return std::nullopt;
  if (found->second.expires_at <= now) {
    sessions_.erase(found);
    return std::nullopt;
  }
  return found->second.user_id;
}

void SessionStore::Revoke(std::string_view token) {
  std::lock_guard lock(mutex_);
  sessions_.erase(TokenDigest(token));
}

void SessionStore::RevokeUser(int64_t user_id) {
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [user_id](const auto& entry) { return entry.second.user_id == user_id; });
}

size_t SessionStore::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionStore::DropExpiredLocked(int64_t now) {
  std::erase_if(sessions_, [now](const auto& entry) { return entry.second.expires_at <= now; });
}

std::string_view FindCookie(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    size_t end = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, end);
    cookie_header = end == std::string_view::npos ? std::string_view() : cookie_header.substr(end + 1);

    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (pair.substr(0, equals) == name) return pair.substr(equals + 1);
  }
  return {};
}

std::string SessionCookie(std::string_view token, std::chrono::seconds max_age, bool secure) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookieName, token,
                     max_age.count(), secure ? "; Secure" : "");
}

std::string ExpiredSessionCookie(bool secure) {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", kSessionCookieName,
                     secure ? "; Secure" : "");
}

}  // namespace weir
