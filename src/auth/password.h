// Password hashing for web sign-in: Argon2id in the PHC string format.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace weir {

// Returns the encoded Argon2id hash of `password` with a fresh random salt.
// Takes tens of milliseconds by design: call it from the blocking pool.
Result<std::string> HashPassword(std::string_view password);
// Returns true when `password` matches the encoded hash.
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

}  // namespace weir
