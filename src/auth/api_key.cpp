#include "auth/api_key.h"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace weir {
namespace {
constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
}  // namespace

std::string RandomBase62(size_t length) {
  std::string out;
  out.reserve(length);
  unsigned char buffer[64];
  while (out.size() < length) {
    if (RAND_bytes(buffer, sizeof(buffer)) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
    for (unsigned char byte : buffer) {
      // Rejection sampling keeps every character equally likely: 248 = 4 * 62.
      if (byte >= 248) continue;
      out += kBase62[byte % 62];
      if (out.size() == length) break;
    }
  }
  return out;
}

std::string GenerateApiKey() { return std::string(kApiKeyPrefix) + RandomBase62(kApiKeyRandomLength); }

std::string HashApiKey(std::string_view secret, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

bool IsWellFormedApiKey(std::string_view key) {
  if (key.size() != kApiKeyPrefix.size() + kApiKeyRandomLength) return false;
  if (key.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) return false;
  for (char c : key.substr(kApiKeyPrefix.size())) {
    if (kBase62.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string DisplayPrefix(std::string_view key) { return std::string(key.substr(0, kApiKeyDisplayLength)); }

}  // namespace weir
