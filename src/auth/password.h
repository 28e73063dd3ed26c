// Password hashing for web sign-in: Argon2id in the PHC encoded form
// ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"), so the parameters travel
// with each hash and can be raised later without breaking old ones.
//
// Both functions take tens of milliseconds and 19 MiB of memory on purpose;
// call them from the blocking pool, never from an io thread. They are safe to
// call from several threads at once.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace weir {

// Cost parameters, from the OWASP Password Storage Cheat Sheet's first
// Argon2id option (19 MiB, 2 iterations, 1 lane).
struct PasswordHashCost {
  uint32_t memory_kib = 19 * 1024;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// Shortest password HashPassword accepts.
inline constexpr size_t kMinPasswordLength = 8;

// HashPassword returns the encoded Argon2id hash of `password` with a fresh
// random 16-byte salt. Returns InvalidRequest (param "password") when the
// password is shorter than kMinPasswordLength.
Result<std::string> HashPassword(std::string_view password, PasswordHashCost cost = {});

// VerifyPassword returns true when `password` matches `encoded_hash`. An empty
// or malformed hash never matches, so a user without a password cannot sign in.
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

}  // namespace weir
