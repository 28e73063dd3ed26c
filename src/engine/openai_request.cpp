#include "engine/openai_request.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

namespace weir::engine {
namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Error Invalid(const std::string& field, const std::string& expected) {
  return Error::InvalidRequest(fmt::format("{} must be {}", field, expected), field);
}

// Message content: a string, null, or an array of {"type": "text", "text"} parts.
Result<std::string> ReadContent(const rapidjson::Value& value, const std::string& field) {
  if (value.IsNull()) return std::string();
  if (value.IsString()) return std::string(value.GetString(), value.GetStringLength());
  if (!value.IsArray()) return Invalid(field, "a string or an array of text parts");
  std::string text;
  for (const auto& part : value.GetArray()) {
    if (!part.IsObject() || !part.HasMember("type") || !part["type"].IsString() ||
        std::string(part["type"].GetString()) != "text" || !part.HasMember("text") || !part["text"].IsString()) {
      return Invalid(field, "text parts only; the built-in engine reads no images or audio");
    }
    text.append(part["text"].GetString(), part["text"].GetStringLength());
  }
  return text;
}

Status ReadFloat(const rapidjson::Value& body, const char* field, float* out) {
  if (!body.HasMember(field) || body[field].IsNull()) return Status::Ok();
  if (!body[field].IsNumber()) return Invalid(field, "a number");
  *out = static_cast<float>(body[field].GetDouble());
  return Status::Ok();
}

}  // namespace

Result<OpenAiRequest> ParseOpenAiRequest(const std::string& path, const std::string& body_text) {
  OpenAiRequest request;
  if (EndsWith(path, "/chat/completions")) {
    request.chat = true;
  } else if (EndsWith(path, "/completions")) {
    request.chat = false;
  } else {
    return Error::NotFound(fmt::format("path {} is not served by the built-in engine; use "
                                       "/chat/completions or /completions", path));
  }
  rapidjson::Document body;
  body.Parse(body_text.data(), body_text.size());
  if (body.HasParseError() || !body.IsObject()) {
    return Error::InvalidRequest("the request body is not a JSON object");
  }

  if (request.chat) {
    if (!body.HasMember("messages") || !body["messages"].IsArray()) return Invalid("messages", "an array");
    size_t index = 0;
    for (const auto& message : body["messages"].GetArray()) {
      const std::string field = fmt::format("messages[{}]", index++);
      if (!message.IsObject() || !message.HasMember("role") || !message["role"].IsString()) {
        return Invalid(field + ".role", "a string");
      }
      ChatMessage chat_message;
      chat_message.role = message["role"].GetString();
      if (message.HasMember("content")) {
        auto content = ReadContent(message["content"], field + ".content");
        if (!content.ok()) return content.error();
        chat_message.content = std::move(*content);
      }
      request.messages.push_back(std::move(chat_message));
    }
  } else {
    if (!body.HasMember("prompt")) return Invalid("prompt", "a string");
    const rapidjson::Value& prompt = body["prompt"];
    if (prompt.IsString()) {
      request.prompt = prompt.GetString();
    } else if (prompt.IsArray() && prompt.Size() == 1 && prompt[0].IsString()) {
      request.prompt = prompt[0].GetString();
    } else {
      return Invalid("prompt", "a string (or an array with one string)");
    }
  }

  if (body.HasMember("stream") && !body["stream"].IsNull()) {
    if (!body["stream"].IsBool()) return Invalid("stream", "a boolean");
    request.stream = body["stream"].GetBool();
  }
  if (body.HasMember("stream_options") && body["stream_options"].IsObject()) {
    const auto& options = body["stream_options"];
    if (options.HasMember("include_usage") && options["include_usage"].IsBool()) {
      request.include_usage = options["include_usage"].GetBool();
    }
  }
  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    if (!body.HasMember(field) || body[field].IsNull()) continue;
    if (!body[field].IsInt() || body[field].GetInt() < 1) return Invalid(field, "a positive integer");
    request.max_tokens = body[field].GetInt();
  }
  if (body.HasMember("n") && !body["n"].IsNull() && (!body["n"].IsInt() || body["n"].GetInt() != 1)) {
    return Invalid("n", "1; the built-in engine generates one choice per request");
  }
  if (body.HasMember("stop") && !body["stop"].IsNull()) {
    const auto& stop = body["stop"];
    if (stop.IsString()) {
      request.stop.push_back(stop.GetString());
    } else if (stop.IsArray() && stop.Size() <= 16) {
      for (const auto& item : stop.GetArray()) {
        if (!item.IsString()) return Invalid("stop", "a string or an array of up to 16 strings");
        request.stop.push_back(item.GetString());
      }
    } else {
      return Invalid("stop", "a string or an array of up to 16 strings");
    }
  }

  SamplingParams& sampling = request.sampling;
  for (auto [field, out] : {std::pair{"temperature", &sampling.temperature}, {"top_p", &sampling.top_p},
                            {"min_p", &sampling.min_p}, {"repetition_penalty", &sampling.repetition_penalty},
                            {"frequency_penalty", &sampling.frequency_penalty},
                            {"presence_penalty", &sampling.presence_penalty}}) {
    Status status = ReadFloat(body, field, out);
    if (!status.ok()) return status.error();
  }
  if (body.HasMember("top_k") && !body["top_k"].IsNull()) {
    if (!body["top_k"].IsInt()) return Invalid("top_k", "an integer");
    // -1 is the common spelling of "off" (vLLM, llama.cpp).
    sampling.top_k = std::max(0, body["top_k"].GetInt());
    if (body["top_k"].GetInt() < -1) return Invalid("top_k", "-1, 0 (off) or a positive count");
  }
  if (body.HasMember("seed") && !body["seed"].IsNull()) {
    if (!body["seed"].IsInt64() && !body["seed"].IsUint64()) return Invalid("seed", "an integer");
    sampling.seed = body["seed"].IsUint64() ? body["seed"].GetUint64() : static_cast<uint64_t>(body["seed"].GetInt64());
    sampling.has_seed = true;
  }
  Status valid = sampling.Validate();
  if (!valid.ok()) return valid.error();
  return request;
}

}  // namespace weir::engine
