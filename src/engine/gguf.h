// GGUF v3 reader: maps a model file into memory and exposes its metadata and
// its tensor directory without copying tensor data.
//
// A GgufFile is immutable after Open() and safe to read from several threads.
// Tensor data pointers stay valid for the lifetime of the GgufFile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "engine/quant.h"

namespace weir::engine {

// One metadata value. Arrays keep every element in `array` (strings in
// `strings`), because tokenizer vocabularies are arrays of strings.
struct GgufValue {
  enum class Kind { kInt, kFloat, kBool, kString, kArray };
  Kind kind = Kind::kInt;
  int64_t int_value = 0;  // Every integer type, signed or unsigned up to 2^63.
  double float_value = 0;
  bool bool_value = false;
  std::string string_value;
  std::vector<std::string> strings;  // Array of strings.
  std::vector<double> numbers;       // Array of numbers or booleans.
};

// One entry of the tensor directory.
struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> dims;  // dims[0] is the row length (contiguous).
  uint64_t offset = 0;        // From the start of the data section.
  const uint8_t* data = nullptr;
  size_t size_bytes = 0;

  int64_t elements() const;
  int64_t rows() const { return dims.empty() ? 0 : elements() / dims[0]; }
};

class GgufFile {
 public:
  // Maps `path` and parses its header. Fails with a message that names the
  // file and, where one is at fault, the tensor and its type.
  static Result<std::shared_ptr<GgufFile>> Open(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }

  const GgufValue* Find(const std::string& key) const;
  // Typed lookups that fall back to `fallback` when the key is missing.
  int64_t GetInt(const std::string& key, int64_t fallback) const;
  double GetFloat(const std::string& key, double fallback) const;
  bool GetBool(const std::string& key, bool fallback) const;
  std::string GetString(const std::string& key, const std::string& fallback = {}) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* FindTensor(const std::string& name) const;

 private:
  GgufFile() = default;
  Status Parse();

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace weir::engine
