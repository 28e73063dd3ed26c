// JSON helpers over RapidJSON: typed field access with clear errors, and a
// writer for building response bodies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/result.h"

namespace weir::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses a request body that must be a JSON object. The 400 Error names the
// offset of the syntax error.
Result<Document> ParseObject(std::string_view body);

// Typed optional fields: nullopt when absent or null, a 400 Error naming the
// field and the expected type when present with another type.
Result<std::optional<std::string>> OptionalString(const Value& object, const char* field);
Result<std::optional<int64_t>> OptionalInt(const Value& object, const char* field);
Result<std::optional<double>> OptionalNumber(const Value& object, const char* field);
Result<std::optional<bool>> OptionalBool(const Value& object, const char* field);

// Serializes a value.
std::string Serialize(const Value& value);

// Returns the name of a value's JSON type, for error messages ("string", "array", ...).
const char* TypeName(const Value& value);

// Writes a string field; a short helper for response builders.
inline void Field(Writer& writer, const char* name, std::string_view value) {
  writer.Key(name);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
inline void Field(Writer& writer, const char* name, int64_t value) {
  writer.Key(name);
  writer.Int64(value);
}
inline void FieldDouble(Writer& writer, const char* name, double value) {
  writer.Key(name);
  writer.Double(value);
}
inline void FieldBool(Writer& writer, const char* name, bool value) {
  writer.Key(name);
  writer.Bool(value);
}

// Cuts `text` to at most `max_chars` Unicode characters without splitting one.
std::string TruncateUtf8(std::string_view text, size_t max_chars);

}  // namespace weir::json
