// SessionStore: web sessions created by POST /auth/login and carried by the
// HttpOnly `weir_session` cookie.
//
// A session maps a random 256-bit token to a user id until it expires. Only
// the SHA-256 of each token is kept, so a memory dump does not reveal live
// cookies. Sessions live in memory: a restart of the gateway signs everyone
// out, and sessions are not shared between gateway replicas.
//
// Threading: every method is safe to call from several threads at once and
// never blocks on I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace weir {

inline constexpr std::string_view kSessionCookieName = "weir_session";

class SessionStore {
 public:
  explicit SessionStore(std::chrono::seconds lifetime = std::chrono::hours(12), size_t max_sessions = 100000);

  // Creates a session for `user_id` at Unix time `now` and returns its token.
  // When the store is full, the session closest to expiry is dropped first.
  std::string Create(int64_t user_id, int64_t now);
  // Returns the user id of a live session, or nullopt for an unknown or expired token.
  std::optional<int64_t> Lookup(std::string_view token, int64_t now);
  // Ends the session; an unknown token is ignored.
  void Revoke(std::string_view token);
  // Ends every session of one user (after a password change or when disabled).
  void RevokeUser(int64_t user_id);

  size_t size() const;
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  struct Session {
    int64_t user_id = 0;
    int64_t expires_at = 0;  // Unix seconds.
  };

  void DropExpiredLocked(int64_t now);

  const std::chrono::seconds lifetime_;
  const size_t max_sessions_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;  // Keyed by SHA-256 hex of the token.
};

// Returns the value of cookie `name` in a Cookie header, or an empty view.
std::string_view FindCookie(std::string_view cookie_header, std::string_view name);

// Builds the Set-Cookie value for a session token: HttpOnly, SameSite=Strict,
// Path=/, Max-Age of the session lifetime, and Secure when `secure` is set
// (the gateway is reached over HTTPS).
std::string SessionCookie(std::string_view token, std::chrono::seconds max_age, bool secure);
// Builds the Set-Cookie value that removes the session cookie.
std::string ExpiredSessionCookie(bool secure);

}  // namespace weir
