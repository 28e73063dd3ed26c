// JSON form of HostInventory: written by `weir detect --json`, read back by
// `weir plan` when an inventory entry points at a saved detection.
#pragma once

#include <string>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "common/result.h"
#include "detect/host_inventory.h"

namespace weir::detect {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// Writes the host as one JSON object.
void WriteHostJson(const HostInventory& host, JsonWriter& writer);

// Serializes the host as an indented JSON document ending in a newline.
std::string HostToJson(const HostInventory& host);

// Reads a host written by WriteHostJson. `origin` names the source in errors.
Result<HostInventory> HostFromJson(const rapidjson::Value& value, const std::string& origin);

// Parses a document produced by HostToJson.
Result<HostInventory> ParseHostJson(const std::string& text, const std::string& origin);

// Formats the host as the human-readable table of `weir detect`.
std::string HostToTable(const HostInventory& host);

}  // namespace weir::detect
