#include "common/json.h"

#include <rapidjson/error/en.h>
#include <fmt/format.h>

namespace weir::json {

Result<Document> ParseObject(std::string_view body) {
  Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError()) {
    return Error::InvalidRequest(fmt::format("request body is not valid JSON: {} at byte {}",
                                             rapidjson::GetParseError_En(document.GetParseError()),
                                             document.GetErrorOffset()));
  }
  if (!document.IsObject()) {
    return Error::InvalidRequest(fmt::format("request body must be a JSON object, not {}", TypeName(document)));
  }
  return document;
}

const char* TypeName(const Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return "number";
  }
  return "unknown";
}

namespace {

Error WrongType(const char* field, const char* expected, const Value& value) {
  return Error::InvalidRequest(fmt::format("{} must be {}, not {}", field, expected, TypeName(value)), field,
                               "invalid_type");
}

}  // namespace

Result<std::optional<std::string>> OptionalString(const Value& object, const char* field) {
  auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::optional<std::string>();
  if (!member->value.IsString()) return WrongType(field, "a string", member->value);
  return std::optional<std::string>(std::string(member->value.GetString(), member->value.GetStringLength()));
}

Result<std::optional<int64_t>> OptionalInt(const Value& object, const char* field) {
  auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::optional<int64_t>();
  if (!member->value.IsInt64()) return WrongType(field, "an integer", member->value);
  return std::optional<int64_t>(member->value.GetInt64());
}

Result<std::optional<double>> OptionalNumber(const Value& object, const char* field) {
  auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::optional<double>();
  if (!member->value.IsNumber()) return WrongType(field, "a number", member->value);
  return std::optional<double>(member->value.GetDouble());
}

Result<std::optional<bool>> OptionalBool(const Value& object, const char* field) {
  auto member = object.FindMember(field);
  if (member == object.MemberEnd() || member->value.IsNull()) return std::optional<bool>();
  if (!member->value.IsBool()) return WrongType(field, "a boolean", member->value);
  return std::optional<bool>(member->value.GetBool());
}

std::string Serialize(const Value& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string TruncateUtf8(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return std::string(text.substr(0, i));
      ++chars;
    }
  }
  return std::string(text);
}

}  // namespace weir::json
