#include "auth/password.h"

#include <argon2.h>

#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>

namespace weir {
namespace {
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
}  // namespace

Result<std::string> HashPassword(std::string_view password, PasswordHashCost cost) {
  if (password.size() < kMinPasswordLength) {
    return Error::InvalidRequest(
        fmt::format("password has {} characters; use at least {}", password.size(), kMinPasswordLength),
        "password", "password_too_short");
  }

  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");

  size_t encoded_length = argon2_encodedlen(cost.iterations, cost.memory_kib, cost.parallelism, kSaltBytes,
                                            kHashBytes, Argon2_id);
  std::vector<char> encoded(encoded_length);
  int status = argon2id_hash_encoded(cost.iterations, cost.memory_kib, cost.parallelism, password.data(),
                                     password.size(), salt, kSaltBytes, kHashBytes, encoded.data(), encoded.size());
  if (status != ARGON2_OK) {
    return Error::Internal(fmt::format("Argon2id hashing failed: {}", argon2_error_message(status)));
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view password, const std::string& encoded_hash) {
  if (encoded_hash.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded_hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace weir
