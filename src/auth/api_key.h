// API key material: generation, hashing and format checks.
//
// A key is "wr-" followed by 40 base62 characters (about 238 random bits from
// OpenSSL's CSPRNG). Only its HMAC-SHA-256 under the server secret is stored,
// plus a display prefix, so a copy of the database does not reveal any key.
#pragma once

#include <string>
#include <string_view>

namespace weir {

inline constexpr std::string_view kApiKeyPrefix = "wr-";
inline constexpr size_t kApiKeyRandomLength = 40;
inline constexpr size_t kApiKeyDisplayLength = 10;  // "wr-" + 7 characters.

// Returns a new random API key.
std::string GenerateApiKey();
// Returns `length` random base62 characters.
std::string RandomBase62(size_t length);
// Returns the hex HMAC-SHA-256 of `key` under `secret`.
std::string HashApiKey(std::string_view secret, std::string_view key);
// Returns true when `key` has the shape of a Weir key (prefix, length, alphabet).
bool IsWellFormedApiKey(std::string_view key);
// Returns the part of `key` safe to show and store for display.
std::string DisplayPrefix(std::string_view key);

}  // namespace weir
