#include "engine/gguf.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

class GgufBuilder {
 public:
  template <typename T>
  void Put(T value) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    data.insert(data.end(), bytes, bytes + sizeof(T));
  }
  void PutString(const std::string& text) {
    Put<uint64_t>(text.size());
    data.insert(data.end(), text.begin(), text.end());
  }
  std::vector<uint8_t> data;
};

// A GGUF v3 file with one string key and one 4x2 F32 tensor named "w".
std::vector<uint8_t> SmallFile(uint32_t tensor_type = 0) {
  GgufBuilder b;
  b.Put<uint32_t>(0x46554747);
  b.Put<uint32_t>(3);
  b.Put<uint64_t>(1);
  b.Put<uint64_t>(1);
  b.PutString("general.architecture");
  b.Put<uint32_t>(8);
  b.PutString("llama");
  b.PutString("w");
  b.Put<uint32_t>(2);
  b.Put<uint64_t>(4);
  b.Put<uint64_t>(2);
  b.Put<uint32_t>(tensor_type);
  b.Put<uint64_t>(0);
  while (b.data.size() % 32 != 0) b.data.push_back(0);
  for (int i = 0; i < 8; ++i) b.Put<float>(static_cast<float>(i));
  return b.data;
}

std::string WriteTemp(const std::vector<uint8_t>& data) {
  char path[] = "/tmp/weir-gguf-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  return path;
}

TEST(GgufTest, ReadsMetadataAndTensor) {
  const std::string path = WriteTemp(SmallFile());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->version(), 3u);
  EXPECT_EQ((*file)->GetString("general.architecture"), "llama");
  const GgufTensor* tensor = (*file)->FindTensor("w");
  ASSERT_NE(tensor, nullptr);
  EXPECT_EQ(tensor->rows(), 2);
  float values[8];
  std::memcpy(values, tensor->data, sizeof(values));
  EXPECT_EQ(values[7], 7.0f);
  std::remove(path.c_str());
}

TEST(GgufTest, TruncatedDataNamesTensor) {
  std::vector<uint8_t> data = SmallFile();
  data.resize(data.size() - 4);
  const std::string path = WriteTemp(data);
  auto file = GgufFile::Open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("tensor w of type F32"), std::string::npos) << file.error().message;
  std::remove(path.c_str());
}

TEST(GgufTest, UnsupportedTypeNamed) {
  const std::string path = WriteTemp(SmallFile(10));  // Q2_K.
  auto file = GgufFile::Open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("tensor w"), std::string::npos);
  EXPECT_NE(file.error().message.find("Q2_K"), std::string::npos);
  std::remove(path.c_str());
}

TEST(GgufTest, EveryTruncatedHeaderIsAnError) {
  const std::vector<uint8_t> data = SmallFile();
  for (size_t size = 0; size < 120; ++size) {
    const std::string path = WriteTemp(std::vector<uint8_t>(data.begin(), data.begin() + static_cast<long>(size)));
    EXPECT_FALSE(GgufFile::Open(path).ok()) << size;
    std::remove(path.c_str());
  }
}

}  // namespace
}  // namespace weir::engine
