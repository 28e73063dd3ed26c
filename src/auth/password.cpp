#include "auth/password.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <fmt/format.h>

namespace weir {
namespace {

// OWASP's minimum for Argon2id: 19 MiB of memory, 2 passes, 1 lane.
constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kParallelism = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMinPasswordLength = 8;

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return Error::InvalidRequest(
        fmt::format("password has {} characters; use at least {}", password.size(), kMinPasswordLength), "password");
  }
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return Error::Internal("OpenSSL RAND_bytes failed");
  size_t length = argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, password.data(), password.size(), salt,
                                 sizeof(salt), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Error::Internal(fmt::format("Argon2 hashing failed: {}", argon2_error_message(rc)));
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));
  return encoded;
}

bool VerifyPassword(std::string_view password, const std::string& encoded_hash) {
  if (encoded_hash.empty()) return false;
  return argon2id_verify(encoded_hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace weir
