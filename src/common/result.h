// Error values for expected failures and the Result<T> that carries them.
//
// Expected failures (bad input, missing credentials, quota exceeded, upstream
// down) are returned as values, never thrown. Each Error already knows the HTTP
// status and the OpenAI error type and code it maps to, so the HTTP layer maps
// it once, in one place. Exceptions are reserved for start-up and for bugs.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace weir {

// Error is an expected failure with its mapping to an OpenAI-style error body:
// {"error": {"message", "type", "code", "param"}} sent with `http_status`.
struct Error {
  int http_status = 500;
  std::string type;     // OpenAI error type, e.g. "invalid_request_error".
  std::string code;     // Machine-readable code, e.g. "rate_limit_exceeded".
  std::string message;  // Names the value that was wrong and what to do.
  std::string param;    // The request field at fault, empty when none.
  // Seconds the client should wait before retrying; 0 when no Retry-After.
  int retry_after_seconds = 0;

  // 400: the request is malformed or a field has an invalid value.
  static Error InvalidRequest(std::string message, std::string param = {},
                              std::string code = "invalid_request");
  // 401: no credentials, or credentials that are unknown, revoked or expired.
  static Error Unauthenticated(std::string message, std::string code = "invalid_api_key");
  // 403: the caller is known but its role or key does not allow this.
  static Error PermissionDenied(std::string message, std::string code = "permission_denied");
  // 404: the named resource (model, key, user, conversation) does not exist.
  static Error NotFound(std::string message, std::string code = "not_found");
  // 409: the resource already exists or is in a conflicting state.
  static Error Conflict(std::string message, std::string code = "conflict");
  // 413: the request body is over the configured size limit.
  static Error PayloadTooLarge(std::string message);
  // 429: a quota is exhausted; the client may retry after `retry_after_seconds`.
  static Error RateLimited(std::string message, int retry_after_seconds,
                           std::string code = "rate_limit_exceeded");
  // 502/503/504: no upstream could serve the request; a retry later may help.
  static Error Upstream(int http_status, std::string message, std::string code = "upstream_error");
  // 500: a bug or an unexpected local failure (for example, the store).
  static Error Internal(std::string message);

  // Serializes the OpenAI error body.
  std::string ToJson() const;
};

// Result<T> contains either a value or an Error. Callers check ok() first:
//   auto user = store.FindUser(id);
//   if (!user.ok()) return user.error();
template <typename T>
class Result {
 public:
  // A default Result contains an internal error. It exists so that asio can
  // carry Results through awaitable completions; one is assigned before use.
  Result() : data_(Error::Internal("result was never set")) {}
  Result(T value) : data_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  T& value() & { assert(ok()); return std::get<0>(data_); }
  const T& value() const& { assert(ok()); return std::get<0>(data_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(data_)); }
  const Error& error() const { assert(!ok()); return std::get<1>(data_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Error> data_;
};

// Status is a Result with no value: success, or an Error.
class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace weir
