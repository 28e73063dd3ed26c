#include "engine/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace weir::engine {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32.
constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr uint64_t kMaxArrayElements = 1ull << 28;
constexpr uint32_t kMaxDims = 4;

enum ValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

Error Corrupt(const std::string& path, const std::string& what) {
  return Error::InvalidRequest(
      fmt::format("GGUF file {} is truncated or corrupt: {}; download or convert the file again",
                  path, what),
      "model_path", "invalid_model_file");
}

// Cursor over the mapped header with bounds checks on every read.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool Bytes(void* out, size_t count) {
    if (count > size_ - pos_) return false;
    std::memcpy(out, data_ + pos_, count);
    pos_ += count;
    return true;
  }
  template <typename T>
  bool Read(T* out) { return Bytes(out, sizeof(T)); }

  bool String(std::string* out) {
    uint64_t length;
    if (!Read(&length) || length > kMaxStringBytes || length > size_ - pos_) return false;
    out->assign(reinterpret_cast<const char*>(data_ + pos_), length);
    pos_ += length;
    return true;
  }

  size_t position() const { return pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

bool ReadNumber(Reader& reader, uint32_t type, GgufValue* value) {
  auto set_int = [&](int64_t v) { value->kind = GgufValue::Kind::kInt; value->int_value = v; return true; };
  switch (type) {
    case kUint8: { uint8_t v; return reader.Read(&v) && set_int(v); }
    case kInt8: { int8_t v; return reader.Read(&v) && set_int(v); }
    case kUint16: { uint16_t v; return reader.Read(&v) && set_int(v); }
    case kInt16: { int16_t v; return reader.Read(&v) && set_int(v); }
    case kUint32: { uint32_t v; return reader.Read(&v) && set_int(v); }
    case kInt32: { int32_t v; return reader.Read(&v) && set_int(v); }
    case kUint64: { uint64_t v; return reader.Read(&v) && set_int(static_cast<int64_t>(v)); }
    case kInt64: { int64_t v; return reader.Read(&v) && set_int(v); }
    case kFloat32: {
      float v;
      if (!reader.Read(&v)) return false;
      value->kind = GgufValue::Kind::kFloat;
      value->float_value = v;
      return true;
    }
    case kFloat64: {
      double v;
      if (!reader.Read(&v)) return false;
      value->kind = GgufValue::Kind::kFloat;
      value->float_value = v;
      return true;
    }
    case kBool: {
      uint8_t v;
      if (!reader.Read(&v)) return false;
      value->kind = GgufValue::Kind::kBool;
      value->bool_value = v != 0;
      return true;
    }
    default:
      return false;
  }
}

double NumberOf(const GgufValue& value) {
  switch (value.kind) {
    case GgufValue::Kind::kInt: return static_cast<double>(value.int_value);
    case GgufValue::Kind::kFloat: return value.float_value;
    case GgufValue::Kind::kBool: return value.bool_value ? 1 : 0;
    default: return 0;
  }
}

}  // namespace

int64_t GgufTensor::elements() const {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  return count;
}

Result<std::shared_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error::InvalidRequest(
        fmt::format("cannot open model file {}: {}; check the path (weir models pull copies a "
                    "file into the model directory)", path, std::strerror(errno)),
        "model_path", "model_not_found");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size < 24) {
    ::close(fd);
    return Corrupt(path, fmt::format("the file has {} bytes, fewer than a GGUF header", info.st_size));
  }
  void* mapped = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) {
    return Error::Internal(fmt::format("mmap of model file {} failed: {}", path, std::strerror(errno)));
  }

  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->base_ = static_cast<const uint8_t*>(mapped);
  file->size_ = static_cast<size_t>(info.st_size);
  Status parsed = file->Parse();
  if (!parsed.ok()) return parsed.error();
  return file;
}

GgufFile::~GgufFile() {
  if (base_ != nullptr) ::munmap(const_cast<uint8_t*>(base_), size_);
}

Status GgufFile::Parse() {
  Reader reader(base_, size_);
  uint32_t magic = 0;
  reader.Read(&magic);
  if (magic != kMagic) {
    return Error::InvalidRequest(
        fmt::format("{} is not a GGUF file (the first 4 bytes are not \"GGUF\"); give the path "
                    "of a .gguf model", path_),
        "model_path", "invalid_model_file");
  }
  reader.Read(&version_);
  if (version_ != 3 && version_ != 2) {
    return Error::InvalidRequest(
        fmt::format("GGUF file {} has version {}, but Weir reads versions 2 and 3; convert it "
                    "with a current llama.cpp", path_, version_),
        "model_path", "unsupported_model_file");
  }
  uint64_t tensor_count = 0, kv_count = 0;
  if (!reader.Read(&tensor_count) || !reader.Read(&kv_count)) return Corrupt(path_, "header ends early");
  if (tensor_count > (1u << 20) || kv_count > (1u << 20)) {
    return Corrupt(path_, fmt::format("implausible counts: {} tensors, {} metadata keys",
                                      tensor_count, kv_count));
  }

  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key;
    uint32_t type = 0;
    if (!reader.String(&key) || !reader.Read(&type)) {
      return Corrupt(path_, fmt::format("metadata entry {} of {} ends early", i, kv_count));
    }
    GgufValue value;
    bool ok = true;
    if (type == kString) {
      value.kind = GgufValue::Kind::kString;
      ok = reader.String(&value.string_value);
    } else if (type == kArray) {
      uint32_t element_type = 0;
      uint64_t count = 0;
      ok = reader.Read(&element_type) && reader.Read(&count) && count <= kMaxArrayElements;
      value.kind = GgufValue::Kind::kArray;
      for (uint64_t j = 0; ok && j < count; ++j) {
        if (element_type == kString) {
          std::string element;
          ok = reader.String(&element);
          value.strings.push_back(std::move(element));
        } else {
          GgufValue element;
          ok = ReadNumber(reader, element_type, &element);
          value.numbers.push_back(NumberOf(element));
        }
      }
    } else {
      ok = ReadNumber(reader, type, &value);
    }
    if (!ok) {
      return Corrupt(path_, fmt::format("metadata value of key {} (value type {}) is invalid or "
                                        "ends early", key, type));
    }
    metadata_[key] = std::move(value);
  }

  alignment_ = static_cast<size_t>(GetInt("general.alignment", 32));
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
    return Corrupt(path_, fmt::format("general.alignment is {}, not a power of two", alignment_));
  }

  tensors_.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensor tensor;
    uint32_t dim_count = 0;
    if (!reader.String(&tensor.name) || !reader.Read(&dim_count) || dim_count == 0 ||
        dim_count > kMaxDims) {
      return Corrupt(path_, fmt::format("tensor info {} of {} is invalid or ends early", i, tensor_count));
    }
    for (uint32_t d = 0; d < dim_count; ++d) {
      uint64_t dim = 0;
      if (!reader.Read(&dim) || dim == 0 || dim > (1ull << 40)) {
        return Corrupt(path_, fmt::format("tensor {} has an invalid dimension {}", tensor.name, d));
      }
      tensor.dims.push_back(static_cast<int64_t>(dim));
    }
    uint32_t type_id = 0;
    if (!reader.Read(&type_id) || !reader.Read(&tensor.offset)) {
      return Corrupt(path_, fmt::format("tensor info of {} ends early", tensor.name));
    }
    auto traits = FindTypeTraits(type_id);
    if (!traits) {
      return Error::InvalidRequest(
          fmt::format("tensor {} in {} has type {}, which the built-in engine does not support "
                      "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K); use a "
                      "file quantized to one of these", tensor.name, path_, TypeName(type_id)),
          "model_path", "unsupported_tensor_type");
    }
    tensor.type = static_cast<GgmlType>(type_id);
    if (tensor.dims[0] % traits->block_elements != 0) {
      return Corrupt(path_, fmt::format("tensor {} of type {} has rows of {} values, not a "
                                        "multiple of the block size {}", tensor.name, traits->name,
                                        tensor.dims[0], traits->block_elements));
    }
    tensor.size_bytes = RowBytes(tensor.type, tensor.dims[0]) * static_cast<size_t>(tensor.rows());
    if (tensor.offset % alignment_ != 0) {
      return Corrupt(path_, fmt::format("tensor {} starts at offset {}, not a multiple of the "
                                        "alignment {}", tensor.name, tensor.offset, alignment_));
    }
    if (tensor_index_.count(tensor.name) != 0) {
      return Corrupt(path_, fmt::format("tensor {} appears twice", tensor.name));
    }
    tensor_index_[tensor.name] = tensors_.size();
    tensors_.push_back(std::move(tensor));
  }

  const size_t data_start = (reader.position() + alignment_ - 1) / alignment_ * alignment_;
  for (GgufTensor& tensor : tensors_) {
    const size_t begin = data_start + tensor.offset;
    if (begin > size_ || tensor.size_bytes > size_ - begin) {
      return Corrupt(path_, fmt::format("tensor {} of type {} needs bytes {}..{}, but the file "
                                        "has only {} bytes", tensor.name,
                                        TypeName(static_cast<uint32_t>(tensor.type)), begin,
                                        begin + tensor.size_bytes, size_));
    }
    tensor.data = base_ + begin;
  }
  return Status::Ok();
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

int64_t GgufFile::GetInt(const std::string& key, int64_t fallback) const {
  const GgufValue* value = Find(key);
  if (value == nullptr) return fallback;
  if (value->kind == GgufValue::Kind::kInt) return value->int_value;
  if (value->kind == GgufValue::Kind::kFloat) return static_cast<int64_t>(value->float_value);
  if (value->kind == GgufValue::Kind::kBool) return value->bool_value ? 1 : 0;
  return fallback;
}

double GgufFile::GetFloat(const std::string& key, double fallback) const {
  const GgufValue* value = Find(key);
  if (value == nullptr) return fallback;
  if (value->kind == GgufValue::Kind::kFloat) return value->float_value;
  if (value->kind == GgufValue::Kind::kInt) return static_cast<double>(value->int_value);
  return fallback;
}

bool GgufFile::GetBool(const std::string& key, bool fallback) const {
  const GgufValue* value = Find(key);
  if (value == nullptr) return fallback;
  if (value->kind == GgufValue::Kind::kBool) return value->bool_value;
  if (value->kind == GgufValue::Kind::kInt) return value->int_value != 0;
  return fallback;
}

std::string GgufFile::GetString(const std::string& key, const std::string& fallback) const {
  const GgufValue* value = Find(key);
  if (value == nullptr || value->kind != GgufValue::Kind::kString) return fallback;
  return value->string_value;
}

const GgufTensor* GgufFile::FindTensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace weir::engine
