#include "common/result.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace weir {

Error Error::InvalidRequest(std::string message, std::string param, std::string code) {
  return Error{400, "invalid_request_error", std::move(code), std::move(message), std::move(param), 0};
}

Error Error::Unauthenticated(std::string message, std::string code) {
  return Error{401, "authentication_error", std::move(code), std::move(message), {}, 0};
}

Error Error::PermissionDenied(std::string message, std::string code) {
  return Error{403, "permission_error", std::move(code), std::move(message), {}, 0};
}

Error Error::NotFound(std::string message, std::string code) {
  return Error{404, "not_found_error", std::move(code), std::move(message), {}, 0};
}

Error Error::Conflict(std::string message, std::string code) {
  return Error{409, "invalid_request_error", std::move(code), std::move(message), {}, 0};
}

Error Error::PayloadTooLarge(std::string message) {
  return Error{413, "invalid_request_error", "request_too_large", std::move(message), {}, 0};
}

Error Error::RateLimited(std::string message, int retry_after_seconds, std::string code) {
  return Error{429, "rate_limit_error", std::move(code), std::move(message), {}, retry_after_seconds};
}

Error Error::Upstream(int http_status, std::string message, std::string code) {
  return Error{http_status, "api_error", std::move(code), std::move(message), {}, 0};
}

Error Error::Internal(std::string message) {
  return Error{500, "api_error", "internal_error", std::move(message), {}, 0};
}

std::string Error::ToJson() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.StartObject();
  writer.Key("message");
  writer.String(message);
  writer.Key("type");
  writer.String(type);
  writer.Key("code");
  writer.String(code);
  writer.Key("param");
  if (param.empty()) {
    writer.Null();
  } else {
    writer.String(param);
  }
  writer.EndObject();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace weir
