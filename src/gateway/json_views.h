// JSON renderings of store records for the admin API. Never includes key
// hashes or password hashes.
#pragma once

#include <string>

#include "audit/audit_event.h"
#include "common/json.h"
#include "gateway/model_registry.h"
#include "store/store.h"

namespace weir {

void WriteUser(json::Writer& writer, const User& user);
void WriteKey(json::Writer& writer, const ApiKey& key);
void WriteAuditEvent(json::Writer& writer, const AuditEvent& event);
void WriteModel(json::Writer& writer, const ModelEntry& model);
void WriteConversation(json::Writer& writer, const Conversation& conversation);

// Renders one record with `write` as a JSON string.
template <typename T, typename WriteFunction>
std::string ToJson(const T& value, WriteFunction write) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  write(writer, value);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Renders {"data": [...]} from a list of records.
template <typename List, typename WriteFunction>
std::string ListJson(const List& items, WriteFunction write) {
  rapidjson::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("data");
  writer.StartArray();
  for (const auto& item : items) write(writer, item);
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace weir
